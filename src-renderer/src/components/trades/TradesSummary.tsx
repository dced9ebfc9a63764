import { AreaSeries, createChart, HistogramSeries, LineSeries, type UTCTimestamp } from 'lightweight-charts';
import { useEffect, useRef } from 'react';
import type { TradeSummary } from '../../../../src-shared/trades.ts';
import { formatDay } from '../../format.ts';
import { useTradesStore } from '../../stores/trades.ts';
import { curveBySecond, formatPercent, formatRatio, formatSigned, formatQuantity } from '../../stores/trades-view.ts';
import { Alert } from '../Alert.tsx';
import { CHART_THEME } from '../templates/charts.tsx';
import { FactList, type Fact } from '../FactList.tsx';

/** Net PnL after each trade as a line, the drawdown from its peak as an area in a pane below. */
function PnlChart({ summary }: { summary: TradeSummary }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!box.current) return;
    const chart = createChart(box.current, CHART_THEME);
    const points = curveBySecond(summary.curve);
    const pnl = chart.addSeries(LineSeries, { color: '#58a6ff', lineWidth: 2, title: `net PnL ${summary.currency}` });
    pnl.setData(points.map((p) => ({ time: p.time as UTCTimestamp, value: p.pnl })));
    const drawdown = chart.addSeries(
      AreaSeries,
      { lineColor: '#f85149', topColor: '#f8514933', bottomColor: '#f8514966', lineWidth: 1, title: 'drawdown', invertFilledArea: true },
      1,
    );
    drawdown.setData(points.map((p) => ({ time: p.time as UTCTimestamp, value: -Math.abs(p.drawdown) })));
    chart.panes()[1]?.setHeight(90);
    chart.timeScale().fitContent();
    return () => chart.remove();
  }, [summary]);
  return (
    <div
      ref={box}
      className="chart trades-chart"
      data-testid="pnl-chart"
      role="img"
      aria-label={`Net PnL in ${summary.currency} after each trade, ending at ${formatSigned(summary.netPnl)}, and its drawdown, deepest ${formatQuantity(summary.maxDrawdown)}`}
    />
  );
}

/** Net PnL of each UTC day as bars: green for a gain, red for a loss. */
function DailyChart({ summary }: { summary: TradeSummary }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!box.current) return;
    const chart = createChart(box.current, { ...CHART_THEME, timeScale: { ...CHART_THEME.timeScale, timeVisible: false } });
    const bars = chart.addSeries(HistogramSeries, { title: `net PnL by day ${summary.currency}` });
    bars.setData(
      summary.byDay.map((d) => ({ time: (Date.parse(`${d.day}T00:00:00Z`) / 1000) as UTCTimestamp, value: d.netPnl, color: d.netPnl < 0 ? '#f85149' : '#3fb950' })),
    );
    chart.timeScale().fitContent();
    return () => chart.remove();
  }, [summary]);
  const best = summary.byDay.reduce<TradeSummary['byDay'][number] | null>((top, d) => (!top || d.netPnl > top.netPnl ? d : top), null);
  const worst = summary.byDay.reduce<TradeSummary['byDay'][number] | null>((low, d) => (!low || d.netPnl < low.netPnl ? d : low), null);
  const words =
    best && worst
      ? `Net PnL in ${summary.currency} by day over ${summary.byDay.length} days: best ${formatDay(best.day)} ${formatSigned(best.netPnl)}, worst ${formatDay(worst.day)} ${formatSigned(worst.netPnl)}`
      : `No days with trades in ${summary.currency}`;
  return <div ref={box} className="chart trades-daily-chart" data-testid="daily-chart" role="img" aria-label={words} />;
}

function CurrencySummary({ summary }: { summary: TradeSummary }) {
  const facts: Fact[] = [
    ['Trades', `${summary.trades} (${summary.closingTrades} closing)`, 'trades'],
    ['Net PnL (after fees)', `${formatSigned(summary.netPnl)} ${summary.currency}`, 'net-pnl'],
    ['Fees', `${formatQuantity(summary.fees)} ${summary.currency}`, 'fees'],
    ['Win rate', formatPercent(summary.winRatePercent), 'win-rate'],
    ['Profit factor', formatRatio(summary.profitFactor), 'profit-factor'],
    ['Max drawdown', `${formatQuantity(summary.maxDrawdown)} ${summary.currency}`, 'max-drawdown'],
  ];
  const headingId = `trades-summary-${summary.currency}`;
  return (
    <section className="panel trades-summary" aria-labelledby={headingId} data-currency={summary.currency}>
      <h2 id={headingId}>Summary in {summary.currency}</h2>
      <FactList facts={facts} className="summary" />
      <PnlChart summary={summary} />
      <h3>PnL by bot</h3>
      <table className="table" aria-label={`PnL by bot in ${summary.currency}`}>
        <thead>
          <tr>
            <th scope="col">Bot</th>
            <th scope="col">Trades</th>
            <th scope="col">Net PnL</th>
          </tr>
        </thead>
        <tbody>
          {summary.byBot.map((bot) => (
            <tr key={bot.botId} data-bot={bot.botId}>
              <td>{bot.botName}</td>
              <td>{bot.trades}</td>
              <td className={bot.netPnl < 0 ? 'loss' : bot.netPnl > 0 ? 'gain' : undefined}>{formatSigned(bot.netPnl)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>PnL by day</h3>
      <DailyChart summary={summary} />
    </section>
  );
}

/** The summary over the filter, one per currency: PnL in USDT and in BTC are never added together. */
export function TradesSummary() {
  const summary = useTradesStore((s) => s.summary);
  const load = useTradesStore((s) => s.summaryLoad);
  if (load.state === 'error') return <Alert message={`The summary could not be made: ${load.message}`} />;
  if (!summary || summary.length === 0) return null;
  return (
    <div className="trades-summaries" aria-busy={load.state === 'loading'}>
      {summary.map((s) => (
        <CurrencySummary key={s.currency} summary={s} />
      ))}
    </div>
  );
}
