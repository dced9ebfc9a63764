import { useEffect, useState } from 'react';
import { z } from 'zod';
import { BacktestSymbol, MAX_CSV_BYTES, type BacktestRecord, type BacktestSymbol as Symbol_, type CandleSource } from '../../../../src-shared/ipc-templates.ts';
import { EXCHANGE_FACTS, ExchangeId, exchangeFacts } from '../../../../src-shared/exchanges.ts';
import { DEFAULT_SERIES_ORIGIN_MS, TIMEFRAMES, type Timeframe } from '../../../../src-shared/market-series.ts';
import type { TemplateVersionInfo } from '../../../../src-shared/templates-api.ts';
import { Alert } from '../Alert.tsx';
import { callMain } from '../../bridge.ts';
import { useAppStore } from '../../stores/app.ts';
import { useTemplatesStore } from '../../stores/templates.ts';
import { EquityChart } from './charts.tsx';
import { FactList } from '../FactList.tsx';

const DAY = 86_400_000;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const dayMs = (value: string) => Date.parse(`${value}T00:00:00Z`);
const money = (n: number) => n.toLocaleString('en', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const maybe = (n: number | null, digits = 2, suffix = '') => (n === null ? 'n/a' : `${n.toFixed(digits)}${suffix}`);
const MAX_CSV_MIB = MAX_CSV_BYTES / (1024 * 1024);
const CandleSourceName = z.enum(['simulated', 'exchange', 'csv']);
const when = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

function Summary({ record }: { record: BacktestRecord }) {
  const s = record.summary;
  const currency = record.contract === 'linear' ? 'USDT' : record.symbol;
  const rows: [string, string][] = [
    ['Net profit', `${money(s.netProfit)} ${currency} (${s.returnPercent.toFixed(2)} %)`],
    ['End equity', `${money(s.endEquity)} ${currency}`],
    ['Max drawdown', `${money(s.maxDrawdown)} ${currency} (${s.maxDrawdownPercent.toFixed(2)} %)`],
    ['Trades', String(s.trades)],
    ['Win rate', maybe(s.winRatePercent, 1, ' %')],
    ['Profit factor', maybe(s.profitFactor)],
    ['Sharpe (annualised)', maybe(s.sharpe)],
    ['Exposure', `${s.exposurePercent.toFixed(1)} %`],
    ['Fees', `${money(s.fees)} ${currency}`],
    ['Funding', `${money(s.funding)} ${currency}`],
    ['Blocked entries', String(s.blockedEntries)],
    ['Candles', s.candles.toLocaleString('en')],
  ];
  return (
    <FactList facts={rows} className="summary" label="Backtest summary" />
  );
}

function Trades({ record }: { record: BacktestRecord }) {
  if (record.trades.length === 0) return <p className="muted">No trades in this period.</p>;
  return (
    <div className="trades-scroll">
      <table className="table" aria-label="Trades">
        <thead>
          <tr>
            <th scope="col">Side</th>
            <th scope="col">Entry (UTC)</th>
            <th scope="col">Entry price</th>
            <th scope="col">Exit (UTC)</th>
            <th scope="col">Exit price</th>
            <th scope="col">Net PnL</th>
            <th scope="col">Closed by</th>
          </tr>
        </thead>
        <tbody>
          {record.trades.map((t, i) => (
            <tr key={i}>
              <td>{t.side}</td>
              <td>{when(t.entryTime)}</td>
              <td>{t.entryPrice.toPrecision(6)}</td>
              <td>{when(t.exitTime)}</td>
              <td>{t.exitPrice.toPrecision(6)}</td>
              <td className={t.netPnl >= 0 ? 'gain' : 'loss'}>{money(t.netPnl)}</td>
              <td title={t.exitReason}>{t.exitBy}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {record.trades.length < record.summary.trades ? <p className="muted small">Showing the first {record.trades.length} of {record.summary.trades} trades.</p> : null}
    </div>
  );
}

export function BacktestResultView({ record }: { record: BacktestRecord }) {
  return (
    <section className="panel result" aria-labelledby="result-title">
      <h2 id="result-title">
        {record.templateName} v{record.version} on {record.symbol} {record.timeframe}, {isoDay(record.from)} to {isoDay(record.to)}
        {record.csvFileName ? ` from ${record.csvFileName}` : null}
        {record.candlesFrom ? ` from ${exchangeFacts(record.candlesFrom).name}` : null}
        {record.cancelled ? <span className="badge">cancelled: partial result</span> : null}
      </h2>
      <Summary record={record} />
      <EquityChart curve={record.curve} />
      <h3>Trades</h3>
      <Trades record={record} />
    </section>
  );
}

/** Pick a template version, a market and a period; run it in main's worker with progress and cancel. */
export function BacktestPanel() {
  const templates = useTemplatesStore((s) => s.templates);
  const choice = useTemplatesStore((s) => s.choice);
  const run = useTemplatesStore((s) => s.run);
  const result = useTemplatesStore((s) => s.result);
  const history = useTemplatesStore((s) => s.history);
  const runBacktest = useTemplatesStore((s) => s.runBacktest);
  const cancelBacktest = useTemplatesStore((s) => s.cancelBacktest);
  const loadHistory = useTemplatesStore((s) => s.loadHistory);
  const showResult = useTemplatesStore((s) => s.showResult);
  const listen = useTemplatesStore((s) => s.listen);

  const [templateId, setTemplateId] = useState(choice?.templateId ?? templates[0]?.id ?? '');
  const [version, setVersion] = useState(choice?.version ?? 1);
  const [versions, setVersions] = useState<TemplateVersionInfo[]>([]);
  const [symbol, setSymbol] = useState<Symbol_>('BTC');
  const [timeframe, setTimeframe] = useState<Timeframe>('1h');
  const [from, setFrom] = useState(isoDay(DEFAULT_SERIES_ORIGIN_MS));
  const [to, setTo] = useState(isoDay(DEFAULT_SERIES_ORIGIN_MS + 90 * DAY));
  const [equity, setEquity] = useState(10_000);
  const [source, setSource] = useState<z.infer<typeof CandleSourceName>>('simulated');
  const [file, setFile] = useState<File | null>(null);
  /** Electron picks the file in main with the OS dialog: the page holds only an id and the name. */
  const [picked, setPicked] = useState<{ fileId: string; fileName: string } | null>(null);
  const osDialog = useAppStore((s) => s.info?.host === 'electron');
  const [exchange, setExchange] = useState<ExchangeId>('binanceusdm');
  const [error, setError] = useState<string | null>(null);

  useEffect(() => listen(), [listen]);
  const chooseFile = async () => {
    setError(null);
    const answer = await callMain((p) => p.backtests.pickCandleFile());
    if (!answer.ok) setError(answer.message);
    else if (answer.value.picked) setPicked({ fileId: answer.value.fileId, fileName: answer.value.fileName });
  };
  useEffect(() => {
    void loadHistory();
  }, [loadHistory]);
  useEffect(() => {
    if (choice) {
      setTemplateId(choice.templateId);
      setVersion(choice.version);
    }
  }, [choice]);
  useEffect(() => {
    if (!templateId && templates[0]) setTemplateId(templates[0].id);
  }, [templateId, templates]);
  useEffect(() => {
    if (!templateId) return;
    let live = true;
    void callMain((p) => p.templates.versions({ id: templateId })).then((r) => {
      if (!live || !r.ok) return;
      setVersions(r.value);
      setVersion((v) => (r.value.some((x) => x.version === v) ? v : (r.value[0]?.version ?? 1)));
    });
    return () => {
      live = false;
    };
  }, [templateId]);

  const candles = Math.max(0, Math.floor((dayMs(to) - dayMs(from)) / TIMEFRAMES[timeframe]));
  /** The picked file's text, or why it cannot be sent: read here, since the page may not hand main a path. */
  const candleSource = async (): Promise<CandleSource | string> => {
    if (source === 'simulated') return { source };
    if (source === 'exchange') return { source, exchange };
    if (osDialog) return picked ? { source: 'pickedFile', fileId: picked.fileId } : 'Choose a candle file (a Binance or Bybit kline CSV export).';
    if (!file) return 'Pick a candle file (a Binance or Bybit kline CSV export).';
    if (file.size > MAX_CSV_BYTES) return `The candle file is over ${MAX_CSV_MIB} MiB: export a shorter period.`;
    return { source: 'csv', fileName: file.name, text: await file.text() };
  };
  const start = async () => {
    setError(null);
    const picked = await candleSource();
    if (typeof picked === 'string') return setError(picked);
    // An exchange's candles are backtested with that exchange's fees.
    const fees = picked.source === 'exchange' ? { exchange: picked.exchange } : {};
    const answer = await runBacktest({ templateId, version, candles: picked, symbol, timeframe, from: dayMs(from), to: dayMs(to), initialEquity: equity, ...fees });
    if (!answer.ok) setError(answer.message);
  };
  const percent = run && run.total > 0 ? Math.round((run.done / run.total) * 100) : 0;

  return (
    <section className="backtests" aria-labelledby="backtest-title">
      <h2 id="backtest-title">Backtest</h2>
      <form
        className="backtest-form"
        onSubmit={(e) => {
          e.preventDefault();
          void start();
        }}
      >
        <div className="field">
          <label htmlFor="bt-template">Template</label>
          <select id="bt-template" value={templateId} onChange={(e) => setTemplateId(e.target.value)}>
            {templates.map((t) => (
              <option key={t.id} value={t.id}>
                {t.name}
                {t.kind === 'system' ? ' (system)' : ''}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="bt-version">Version</label>
          <select id="bt-version" value={version} onChange={(e) => setVersion(Number(e.target.value))}>
            {versions.map((v) => (
              <option key={v.version} value={v.version}>
                {v.version}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="bt-market">Market</label>
          <select id="bt-market" value={symbol} onChange={(e) => setSymbol(e.target.value as Symbol_)}>
            {BacktestSymbol.options.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="bt-source">Candle source</label>
          <select id="bt-source" value={source} onChange={(e) => setSource(CandleSourceName.catch('simulated').parse(e.target.value))}>
            <option value="simulated">Simulated market</option>
            <option value="exchange">Exchange (public candles)</option>
            <option value="csv">CSV file</option>
          </select>
        </div>
        {source === 'exchange' ? (
          <div className="field">
            <label htmlFor="bt-exchange">Exchange</label>
            <select id="bt-exchange" value={exchange} onChange={(e) => setExchange(ExchangeId.catch('binanceusdm').parse(e.target.value))}>
              {EXCHANGE_FACTS.map((x) => (
                <option key={x.id} value={x.id}>
                  {x.name}
                </option>
              ))}
            </select>
          </div>
        ) : null}
        {source === 'csv' ? (
          osDialog ? (
            <div className="field">
              <span>Candle file (CSV)</span>
              <button type="button" onClick={() => void chooseFile()}>
                {picked ? `${picked.fileName}: choose another…` : 'Choose a file…'}
              </button>
            </div>
          ) : (
            <div className="field">
              <label htmlFor="bt-file">Candle file (CSV)</label>
              <input id="bt-file" type="file" accept=".csv,text/csv" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
            </div>
          )
        ) : (
          <>
            <div className="field">
              <label htmlFor="bt-candles">Candles</label>
              <select id="bt-candles" value={timeframe} onChange={(e) => setTimeframe(e.target.value as Timeframe)}>
                {(Object.keys(TIMEFRAMES) as Timeframe[]).map((t) => (
                  <option key={t}>{t}</option>
                ))}
              </select>
            </div>
            <div className="field">
              <label htmlFor="bt-from">From</label>
              <input id="bt-from" type="date" value={from} min={source === 'simulated' ? isoDay(DEFAULT_SERIES_ORIGIN_MS) : undefined} onChange={(e) => setFrom(e.target.value)} />
            </div>
            <div className="field">
              <label htmlFor="bt-to">To</label>
              <input id="bt-to" type="date" value={to} onChange={(e) => setTo(e.target.value)} />
            </div>
          </>
        )}
        <div className="field">
          <label htmlFor="bt-starting-equity">Starting equity</label>
          <input id="bt-starting-equity" type="number" min={1} step="any" value={equity} onChange={(e) => setEquity(Number(e.target.value))} />
        </div>
        <button type="submit" className="primary" disabled={run !== null || !templateId}>
          Run backtest
        </button>
        <span className="muted small">
          {source === 'csv'
            ? `The whole file, at the timeframe of its rows; ${symbol} is the asset its prices are of.`
            : source === 'exchange'
              ? `${candles.toLocaleString('en')} candles, fetched from the exchange when the backtest starts`
              : `${candles.toLocaleString('en')} candles of the simulated market`}
        </span>
      </form>
      {run ? (
        <div className="progress-row">
          <progress max={100} value={percent} aria-label="Backtest progress" />
          <span className="small">{run.total > 0 ? `${run.done.toLocaleString('en')} of ${run.total.toLocaleString('en')} candles` : 'Preparing candles…'}</span>
          <button type="button" onClick={() => void cancelBacktest()} disabled={run.cancelling}>
            {run.cancelling ? 'Cancelling…' : 'Cancel'}
          </button>
        </div>
      ) : null}
      <Alert message={error} />
      {result ? <BacktestResultView record={result} /> : null}
      {history.length > 0 ? (
        <>
          <h3>Earlier backtests on this computer</h3>
          <table className="table" aria-label="Earlier backtests">
            <thead>
              <tr>
                <th scope="col">Template</th>
                <th scope="col">Market</th>
                <th scope="col">Period</th>
                <th scope="col">Return</th>
                <th scope="col">Trades</th>
                <th scope="col">
                  <span className="visually-hidden">Show</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {history.map((h) => (
                <tr key={h.id}>
                  <td>
                    {h.templateName} v{h.version}
                    {h.cancelled ? <span className="badge">cancelled</span> : null}
                  </td>
                  <td>
                    {h.symbol} {h.timeframe}
                  </td>
                  <td>
                    {isoDay(h.from)} to {isoDay(h.to)}
                  </td>
                  <td>{h.summary.returnPercent.toFixed(2)} %</td>
                  <td>{h.summary.trades}</td>
                  <td>
                    <button type="button" onClick={() => void showResult(h.id)}>
                      Show
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
    </section>
  );
}
