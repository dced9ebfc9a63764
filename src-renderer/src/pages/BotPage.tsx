import { useCallback, useEffect, useMemo, useState, type HTMLAttributes, type ReactNode } from 'react';
import type { ReportBody, ReportKind } from '../../../src-shared/bot-instance.ts';
import type { BotDetail, BotSummary } from '../../../src-shared/bots.ts';
import { exchangeFacts } from '../../../src-shared/exchanges.ts';
import type { RegionId } from '../../../src-shared/regions.ts';
import type { Result } from '../../../src-shared/result.ts';
import { Alert } from '../components/Alert.tsx';
import { regionName, SandboxOff, StateBadge, useNow, useStateAnnouncement } from '../components/bots/BotCard.tsx';
import { BotEquityChart } from '../components/bots/BotEquityChart.tsx';
import { BotSettingsDialog } from '../components/bots/BotSettingsDialog.tsx';
import { ConfirmDialog, Dialog } from '../components/Dialog.tsx';
import { RegionPicker } from '../components/regions/RegionPicker.tsx';
import { formatWhen } from '../format.ts';
import { formatMoney, heartbeatWords, onStopWords, reportsOf, STATE_WORDS, type BotReport } from '../stores/bot-feed.ts';
import { selectOpenSummary, useBotsStore } from '../stores/bots.ts';
import { useNoticesStore } from '../stores/notices.ts';
import { useRegionsStore } from '../stores/regions.ts';
import { errorOf } from '../stores/reverification.ts';
import { FactList } from '../components/FactList.tsx';

const moment = (ms: number) => formatWhen(new Date(ms).toISOString());
const number = (value: number | null) => (value === null ? '—' : value.toLocaleString(undefined, { maximumFractionDigits: 8 }));

function DeployDialog({ bot, onDeploy, onClose }: { bot: BotSummary; onDeploy(region: RegionId): void; onClose(): void }) {
  const regions = useRegionsStore((s) => s.regions);
  const lastProbe = useRegionsStore((s) => s.history[0] ?? null);
  const fetchRegions = useRegionsStore((s) => s.fetchRegions);
  const [region, setRegion] = useState<RegionId>(bot.region);
  const onSelect = useCallback((picked: RegionId) => setRegion(picked), []);
  useEffect(() => {
    if (regions.length === 0) void fetchRegions();
  }, [regions.length, fetchRegions]);
  return (
    <Dialog title={`Deploy “${bot.name}”`} onClose={onClose}>
      <div className="dialog-body">
        <p>A new instance starts in the region you pick, with a fresh sandbox; the bot opens its key there and starts trading.</p>
        {regions.length > 0 ? <RegionPicker exchange={bot.exchange} regions={regions} probes={lastProbe?.results ?? null} onSelect={onSelect} /> : null}
      </div>
      <div className="dialog-actions">
        <button type="button" onClick={onClose}>
          Cancel
        </button>
        <button type="button" className="primary" onClick={() => onDeploy(region)}>
          Deploy to {regionName(region)}
        </button>
      </div>
    </Dialog>
  );
}

type ReportOf<K extends ReportKind> = Extract<ReportBody, { kind: K }>;

interface Column<K extends ReportKind> {
  header: string;
  cell(report: ReportOf<K>): ReactNode;
}

/** One kind of report as a table, newest first: each page section below says only its columns. */
function ReportTable<K extends ReportKind>({
  rows,
  label,
  columns,
  rowProps,
}: {
  rows: readonly (BotReport & { report: ReportOf<K> })[];
  label: string;
  columns: readonly Column<K>[];
  rowProps?: (report: ReportOf<K>) => HTMLAttributes<HTMLTableRowElement> & { 'data-decision'?: string };
}) {
  return (
    <table className="table" aria-label={label}>
      <thead>
        <tr>
          {columns.map((column) => (
            <th scope="col" key={column.header}>
              {column.header}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map(({ instanceId, seq, report }) => (
          <tr key={`${instanceId}:${seq}`} {...rowProps?.(report)}>
            {columns.map((column) => (
              <td key={column.header}>{column.cell(report)}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const WHEN = { header: 'When', cell: (report: { time: number }) => moment(report.time) };
const ORDER_ID = {
  header: 'Order id',
  cell: (report: { clientOrderId: string }) => <code>{report.clientOrderId}</code>,
};

const DECISION_COLUMNS: readonly Column<'decision'>[] = [
  WHEN,
  { header: 'Decision', cell: (r) => (r.type === 'blocked' ? `blocked${r.by ? ` by ${r.by}` : ''}` : r.type) },
  { header: 'Side', cell: (r) => r.side },
  { header: 'Quantity', cell: (r) => number(r.quantity) },
  { header: 'Price', cell: (r) => number(r.price) },
  { header: 'Why', cell: (r) => r.reason },
];

function Decisions({ reports }: { reports: readonly BotReport[] }) {
  const decisions = reportsOf(reports, 'decision');
  if (decisions.length === 0) return <p className="placeholder">No decisions yet: the bot decides at each candle close.</p>;
  return (
    <ReportTable
      rows={decisions}
      label="Decisions"
      columns={DECISION_COLUMNS}
      rowProps={(r) => ({ 'data-decision': r.type, className: r.type === 'blocked' ? 'blocked' : undefined })}
    />
  );
}

const ORDER_COLUMNS: readonly Column<'order'>[] = [
  WHEN,
  { header: 'Action', cell: (r) => `${r.action}${r.reduceOnly ? ' (reduce only)' : ''}` },
  { header: 'Side', cell: (r) => r.side },
  { header: 'Quantity', cell: (r) => number(r.quantity) },
  { header: 'Status', cell: (r) => `${r.status}${r.detail ? `: ${r.detail}` : ''}` },
  ORDER_ID,
];

function Orders({ reports }: { reports: readonly BotReport[] }) {
  const orders = reportsOf(reports, 'order');
  if (orders.length === 0) return <p className="placeholder">No orders yet.</p>;
  return <ReportTable rows={orders} label="Orders" columns={ORDER_COLUMNS} />;
}

const FILL_COLUMNS: readonly Column<'fill'>[] = [
  WHEN,
  { header: 'Price', cell: (r) => number(r.price) },
  { header: 'Quantity', cell: (r) => number(r.quantity) },
  { header: 'Fee', cell: (r) => number(r.fee) },
  ORDER_ID,
];

function Fills({ reports }: { reports: readonly BotReport[] }) {
  const fills = reportsOf(reports, 'fill');
  if (fills.length === 0) return <p className="placeholder">No fills yet.</p>;
  return <ReportTable rows={fills} label="Fills" columns={FILL_COLUMNS} />;
}

const ORIGIN_WORDS = { order: 'its own order', adopted: 'found on start, adopted', closed: 'closed' } as const;

const POSITION_COLUMNS: readonly Column<'position'>[] = [
  WHEN,
  { header: 'Side', cell: (r) => r.side ?? 'flat' },
  { header: 'Quantity', cell: (r) => number(r.quantity) },
  { header: 'Entry price', cell: (r) => number(r.entryPrice) },
  { header: 'How', cell: (r) => ORIGIN_WORDS[r.origin] },
];

/** The position now, and how it came to be: each change the bot reported, newest first. */
function Positions({ reports }: { reports: readonly BotReport[] }) {
  const positions = reportsOf(reports, 'position');
  const last = positions[0];
  const open = last && last.report.side !== null && last.report.quantity > 0;
  return (
    <>
      {open ? (
        <p data-testid="bot-position">
          {last.report.side} {number(last.report.quantity)} at {number(last.report.entryPrice)}
          {last.report.origin === 'adopted' ? ' (found on start and adopted)' : ''} · since {moment(last.report.time)}
        </p>
      ) : (
        <p data-testid="bot-position">No open position.</p>
      )}
      {positions.length > 0 ? <ReportTable rows={positions} label="Position changes" columns={POSITION_COLUMNS} /> : null}
    </>
  );
}

function Errors({ reports }: { reports: readonly BotReport[] }) {
  const errors = reportsOf(reports, 'error').slice(0, 20);
  // Reports the API acknowledged once and no longer holds (its database was restored from a backup).
  const lost = reportsOf(reports, 'reports_lost').slice(0, 20);
  if (errors.length === 0 && lost.length === 0) return null;
  return (
    <section aria-labelledby="bot-errors">
      <h2 id="bot-errors">Errors the bot reported</h2>
      <ul className="bot-errors">
        {lost.map(({ instanceId, seq, report }) => (
          <li key={`${instanceId}:${seq}`}>
            {moment(report.time)}: {report.count === 1 ? '1 report' : `${report.count} reports`} of this bot were lost when plutarc's
            database was restored from a backup (numbers {report.fromSeq}–{report.toSeq}).
          </li>
        ))}
        {errors.map(({ instanceId, seq, report }) => (
          <li key={`${instanceId}:${seq}`}>
            {moment(report.time)}: {report.message} <code>{report.code}</code>
          </li>
        ))}
      </ul>
    </section>
  );
}

function Settings({ detail }: { detail: BotDetail }) {
  const { settings, summary } = detail;
  const rows: [string, string][] = [
    ['Template', `${summary.templateName} v${settings.templateVersion}`],
    ['Key', summary.keyLabel],
    ['Market', `${settings.symbol}, ${settings.timeframe} candles${settings.testnet ? ', testnet' : ''}`],
    ['Size', settings.equityPercent === null ? 'the template’s' : `${settings.equityPercent}% of equity per entry`],
    ['Leverage', `${settings.leverage}×, ${settings.marginMode} margin`],
    [
      'Limits',
      `${settings.limits.maxOpenPositionsPerSymbol} per asset, ${settings.limits.maxOpenPositionsTotal} in all, daily loss ${settings.limits.maxDailyLossPercent}%, leverage at most ${settings.limits.maxLeverage}×`,
    ],
    ['When it stops', settings.onStop === 'close' ? 'closes its position' : 'keeps its position'],
    ['Found on start', settings.reconcile === 'adopt' ? 'manages it as its own' : 'closes it'],
  ];
  return (
    <section aria-labelledby="bot-settings">
      <h2 id="bot-settings">Settings</h2>
      <FactList facts={rows} className="bot-facts bot-settings" testId="bot-settings" />
    </section>
  );
}

function History({ detail }: { detail: BotDetail }) {
  return (
    <>
      <section aria-labelledby="bot-runs">
        <h2 id="bot-runs">Deployments</h2>
        {detail.runs.length === 0 ? (
          <p className="placeholder">Not deployed yet.</p>
        ) : (
          <table className="table" aria-label="Deployments">
            <thead>
              <tr>
                <th scope="col">Region</th>
                <th scope="col">Started</th>
                <th scope="col">Stopped</th>
                <th scope="col">Template</th>
                <th scope="col">Where it ran</th>
                <th scope="col">Why it ended</th>
              </tr>
            </thead>
            <tbody>
              {detail.runs.map((run) => (
                <tr key={run.id} data-run={run.id}>
                  <td>{regionName(run.region)}</td>
                  <td>{formatWhen(run.startedAt)}</td>
                  <td>{run.stoppedAt ? formatWhen(run.stoppedAt) : 'running'}</td>
                  <td>v{run.templateVersion}</td>
                  <td>
                    {run.driver ?? 'not provisioned yet'}
                    {run.instanceIds.length > 1 ? ` · ${run.instanceIds.length} instances (restarted)` : ''}
                  </td>
                  <td>{run.stopReason ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section aria-labelledby="bot-transitions">
        <h2 id="bot-transitions">State changes</h2>
        <ol className="bot-transitions" aria-label="State changes, newest first">
          {detail.transitions.map((t, i) => (
            <li key={`${t.at}-${i}`}>
              <time dateTime={t.at}>{formatWhen(t.at)}</time>: {t.from ? `${STATE_WORDS[t.from]} → ` : ''}
              {STATE_WORDS[t.to]}
              {t.reason ? ` (${t.reason})` : ''}
            </li>
          ))}
        </ol>
      </section>
    </>
  );
}

type Confirming = 'stop' | 'delete' | 'deploy' | 'edit' | null;

/** One bot: its live state, what it decides and trades, its equity, its history, and the buttons that run it. */
export function BotPage({ id, deployProblem, confirmStop, onBack }: { id: string; deployProblem: string | null; confirmStop: boolean; onBack(): void }) {
  const open = useBotsStore((s) => s.open);
  const summary = useBotsStore(selectOpenSummary);
  const openBot = useBotsStore((s) => s.openBot);
  const closeBot = useBotsStore((s) => s.closeBot);
  const { deploy, pause, resume, stop, remove, loadOlder } = useBotsStore.getState();
  const notify = useNoticesStore((s) => s.notify);
  const [confirming, setConfirming] = useState<Confirming>(confirmStop ? 'stop' : null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(deployProblem);
  const now = useNow();
  const announcementBots = useMemo(() => (summary ? [summary] : []), [summary]);
  const announcement = useStateAnnouncement(announcementBots);

  useEffect(() => {
    void openBot(id);
    return () => closeBot();
  }, [id, openBot, closeBot]);

  const reports = open?.id === id ? open.reports : [];
  const equity = useMemo(() => reportsOf(reports, 'equity').map((r) => ({ time: r.report.time, equity: r.report.equity })), [reports]);
  const detail = open?.id === id ? open.detail : null;

  const run = async <T,>(action: () => Promise<Result<T>>, after?: () => void) => {
    setBusy(true);
    setError(null);
    const result = await action();
    setBusy(false);
    if (!result.ok) return setError(errorOf(result));
    after?.();
  };

  if (!summary) {
    return (
      <section aria-labelledby="bot-title" className="bots">
        <header className="page-header">
          <h1 id="bot-title">Bot</h1>
          <button type="button" onClick={onBack}>
            All bots
          </button>
        </header>
        <Alert message={open?.load.state === 'error' ? open.load.message : null} />
        {open?.load.state === 'loading' ? <p className="placeholder">Loading…</p> : null}
      </section>
    );
  }

  const onStop = detail?.settings.onStop;
  const running = summary.state !== 'stopped';
  return (
    <section aria-labelledby="bot-title" className="bots bot-page" data-bot={summary.id}>
      <header className="page-header">
        <h1 id="bot-title">
          {summary.name} <StateBadge state={summary.state} />
          {summary.testnet ? <span className="badge">testnet</span> : null}
        </h1>
        <button type="button" onClick={onBack}>
          All bots
        </button>
      </header>
      <p className="visually-hidden" role="status" aria-live="polite">
        {announcement}
      </p>
      {summary.stateReason ? <p className="bot-reason">{summary.stateReason}</p> : null}
      <dl className="bot-facts bot-summary">
        <div>
          <dt>Last heartbeat</dt>
          <dd data-testid="heartbeat">{heartbeatWords(summary, now)}</dd>
        </div>
        <div>
          <dt>Region</dt>
          <dd>{regionName(summary.region)}</dd>
        </div>
        <div>
          <dt>Market</dt>
          <dd>
            {summary.symbol} on {exchangeFacts(summary.exchange).name}
          </dd>
        </div>
        <div>
          <dt>Key</dt>
          <dd>{summary.keyLabel}</dd>
        </div>
        <div>
          <dt>Template</dt>
          <dd>
            {summary.templateName} v{summary.templateVersion}
          </dd>
        </div>
        <div>
          <dt>PnL today</dt>
          <dd className={summary.pnlToday && summary.pnlToday.amount < 0 ? 'loss' : undefined}>
            {summary.pnlToday ? formatMoney(summary.pnlToday) : 'no equity report today'}
          </dd>
        </div>
      </dl>
      {summary.sandboxed || !running ? null : <SandboxOff />}
      {detail && detail.isolationWarnings.length > 0 ? (
        <ul className="bot-warning" aria-label="Isolation warnings" data-testid="isolation-warnings">
          {detail.isolationWarnings.map((warning) => (
            <li key={warning}>{warning}</li>
          ))}
        </ul>
      ) : null}

      <div className="bot-actions" role="group" aria-label="Run the bot">
        {summary.state === 'stopped' || summary.state === 'error' ? (
          <button type="button" className="primary" disabled={busy} onClick={() => setConfirming('deploy')}>
            {summary.state === 'error' ? 'Deploy again' : 'Deploy'}
          </button>
        ) : null}
        {summary.state === 'online' || summary.state === 'deploying' || summary.state === 'offline' ? (
          <button type="button" disabled={busy} onClick={() => void run(() => pause(summary.id))}>
            Pause
          </button>
        ) : null}
        {summary.state === 'paused' ? (
          <button type="button" disabled={busy} onClick={() => void run(() => resume(summary.id))}>
            Resume
          </button>
        ) : null}
        <button type="button" disabled={busy || !detail} onClick={() => setConfirming('edit')}>
          Edit
        </button>
        {running ? (
          // The confirmation says what happens to the position: it waits for the bot's settings.
          <button type="button" className="danger" disabled={busy || !detail} onClick={() => setConfirming('stop')}>
            Stop
          </button>
        ) : (
          <button type="button" className="danger" disabled={busy || !detail} onClick={() => setConfirming('delete')}>
            Delete
          </button>
        )}
      </div>
      {running ? null : <p className="muted">The bot is stopped and no instance of it runs. Deploy it to start a new run in a region; its settings and history stay as they are.</p>}
      <Alert message={error} />

      <section aria-labelledby="bot-equity">
        <h2 id="bot-equity">Equity</h2>
        {equity.length > 0 ? <BotEquityChart points={equity} /> : <p className="placeholder">No equity reported yet.</p>}
      </section>
      <section aria-labelledby="bot-position-title">
        <h2 id="bot-position-title">Position</h2>
        <Positions reports={reports} />
      </section>
      <section aria-labelledby="bot-decisions">
        <h2 id="bot-decisions">Decisions</h2>
        <Decisions reports={reports} />
      </section>
      <section aria-labelledby="bot-orders">
        <h2 id="bot-orders">Orders</h2>
        <Orders reports={reports} />
      </section>
      <section aria-labelledby="bot-fills">
        <h2 id="bot-fills">Fills</h2>
        <Fills reports={reports} />
      </section>
      {open?.id === id && open.olderFrom ? (
        <button type="button" disabled={busy} onClick={() => void run(() => loadOlder())}>
          Show older reports
        </button>
      ) : null}
      <Errors reports={reports} />
      {detail ? <Settings detail={detail} /> : null}
      {detail ? <History detail={detail} /> : null}

      {confirming === 'edit' && detail ? (
        <BotSettingsDialog
          onClose={() => setConfirming(null)}
          mode={{
            kind: 'edit',
            // The live state decides what may change, not the one the detail was fetched in.
            detail: { ...detail, summary },
            onSaved: (saved) => {
              setConfirming(null);
              notify({ level: 'info', title: 'Bot saved', body: `“${saved.summary.name}” is saved.` });
            },
          }}
        />
      ) : null}
      {confirming === 'deploy' ? (
        <DeployDialog
          bot={summary}
          onClose={() => setConfirming(null)}
          onDeploy={(region) => {
            setConfirming(null);
            void run(() => deploy(summary.id, region));
          }}
        />
      ) : null}
      {confirming === 'stop' && running ? (
        <ConfirmDialog
          title={`Stop “${summary.name}”?`}
          confirmLabel={`Stop “${summary.name}”`}
          onCancel={() => setConfirming(null)}
          onConfirm={() => {
            setConfirming(null);
            void run(() => stop(summary.id));
          }}
        >
          {onStop ? <p>{onStopWords(onStop)}</p> : null}
          <p>Its instance is then destroyed and checked gone. Its settings, trades and history stay, and you can deploy it again.</p>
        </ConfirmDialog>
      ) : null}
      {confirming === 'delete' ? (
        <ConfirmDialog
          title={`Delete “${summary.name}”?`}
          confirmLabel={`Delete “${summary.name}”`}
          onCancel={() => setConfirming(null)}
          onConfirm={() => {
            setConfirming(null);
            void run(
              () => remove(summary.id),
              () => {
                notify({ level: 'info', title: 'Bot deleted', body: `“${summary.name}” is deleted; its key ${summary.keyLabel} is free for another bot.` });
                onBack();
              },
            );
          }}
        >
          <p>
            The bot is stopped, so it holds no instance. {onStop === 'keep' ? 'Any position it left open stays on the exchange. ' : ''}Deleting removes its
            settings and history from plutarc for good, and frees its key for another bot.
          </p>
        </ConfirmDialog>
      ) : null}
    </section>
  );
}
