import { useEffect, useState } from 'react';
import { Alert } from '../components/Alert.tsx';
import { TradeDialog } from '../components/trades/TradeDialog.tsx';
import { TradesFilterBar } from '../components/trades/TradesFilterBar.tsx';
import { TradesSummary } from '../components/trades/TradesSummary.tsx';
import { TradesTable } from '../components/trades/TradesTable.tsx';
import { formatWhen } from '../format.ts';
import { useNavigationStore } from '../stores/navigation.ts';
import { useTradesStore } from '../stores/trades.ts';
import { isFiltered } from '../stores/trades-view.ts';
import '../trades.css';

/** How current this device's copy is, and the way to catch up now. */
function SyncMarker() {
  const sync = useTradesStore((s) => s.sync);
  const syncing = useTradesStore((s) => s.syncing);
  const syncNow = useTradesStore((s) => s.syncNow);
  const [problem, setProblem] = useState<string | null>(null);
  const last = sync?.lastSyncedAt ? formatWhen(sync.lastSyncedAt) : null;
  const words = !sync
    ? ''
    : sync.state === 'offline'
      ? `Offline, last synced ${last ?? 'never'}`
      : sync.state === 'syncing' || syncing
        ? 'Syncing…'
        : `Up to date, last synced ${last ?? 'never'}`;
  return (
    <div className="trades-sync">
      <span className={`dot ${sync?.state === 'offline' ? 'dot-offline' : 'dot-online'}`} aria-hidden="true" />
      <span role="status" data-testid="trades-sync">
        {words}
      </span>
      <button
        type="button"
        disabled={syncing}
        onClick={() => {
          setProblem(null);
          void syncNow().then((result) => setProblem(result.ok ? null : result.message));
        }}
      >
        Sync now
      </button>
      <Alert message={problem} small />
    </div>
  );
}

/** The list's state when it has no rows: loading, nothing yet (and how to get some), or nothing matching. */
function NoRows() {
  const load = useTradesStore((s) => s.load);
  const total = useTradesStore((s) => s.total);
  const filter = useTradesStore((s) => s.filter);
  const sync = useTradesStore((s) => s.sync);
  const clearFilter = useTradesStore((s) => s.clearFilter);
  const start = useTradesStore((s) => s.start);
  const go = useNavigationStore((s) => s.go);
  if (load.state === 'error') return <Alert message={load.message} onRetry={start} />;
  if (total === null) {
    return (
      <p role="status" className="trades-loading" data-testid="trades-loading">
        <span className="spinner" aria-hidden="true" /> Loading trades…
      </p>
    );
  }
  if (isFiltered(filter)) {
    return (
      <div className="placeholder" data-testid="trades-empty">
        <p>No trades match this filter.</p>
        <button type="button" className="primary" onClick={clearFilter}>
          Clear the filter
        </button>
      </div>
    );
  }
  if (sync?.state === 'syncing' && !sync.lastSyncedAt) {
    return (
      <p role="status" className="trades-loading" data-testid="trades-loading">
        <span className="spinner" aria-hidden="true" /> Fetching your trade history to this device…
      </p>
    );
  }
  return (
    <div className="placeholder" data-testid="trades-empty">
      <p>No trades yet. A trade is recorded here each time an order of one of your bots fills: create a bot and deploy it, and its fills appear as they happen.</p>
      <button type="button" className="primary" onClick={() => go('bots')}>
        Go to Bots
      </button>
    </div>
  );
}

/** Every fill of every bot and run, from this device's copy: filter, sort, open one; the summary over the filter. */
export function TradesPage() {
  const tradeId = useNavigationStore((s) => s.tradeId);
  const goTrade = useNavigationStore((s) => s.goTrade);
  const total = useTradesStore((s) => s.total);
  const open = useTradesStore((s) => s.open);
  const start = useTradesStore((s) => s.start);
  const connect = useTradesStore((s) => s.connect);
  const openTrade = useTradesStore((s) => s.openTrade);
  const closeTrade = useTradesStore((s) => s.closeTrade);

  useEffect(() => connect(), [connect]);
  useEffect(() => start(), [start]);
  // The address names the trade open (`#/trades/<id>`), so a link or Back opens and closes it.
  useEffect(() => {
    if (tradeId) void openTrade(tradeId);
    else closeTrade();
  }, [tradeId, openTrade, closeTrade]);

  return (
    <section aria-labelledby="trades-title" className="trades">
      <header className="page-header">
        <h1 id="trades-title">Trades</h1>
        <SyncMarker />
      </header>
      <p className="lead">Every fill of every bot and run, kept on this device too so the page opens at once and works offline.</p>
      <TradesFilterBar />
      {total !== null && total > 0 ? (
        <>
          <p className="muted trades-count" data-testid="trades-count">
            {total === 1 ? '1 trade' : `${total.toLocaleString()} trades`}
          </p>
          <TradesTable />
        </>
      ) : (
        <NoRows />
      )}
      <TradesSummary />
      {open ? <TradeDialog open={open} onClose={() => goTrade(null)} /> : null}
    </section>
  );
}
