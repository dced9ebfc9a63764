import type { TradeDetail } from '../../../../src-shared/trades.ts';
import { exchangeFacts } from '../../../../src-shared/exchanges.ts';
import { useTradesStore, type OpenTrade } from '../../stores/trades.ts';
import { formatQuantity, formatSigned, formatTradeTime } from '../../stores/trades-view.ts';
import { Alert } from '../Alert.tsx';
import { Dialog } from '../Dialog.tsx';
import { FactList } from '../FactList.tsx';

function Facts({ detail }: { detail: TradeDetail }) {
  const t = detail.trade;
  const rows: [string, string][] = [
    ['When', formatTradeTime(t.time)],
    ['Bot', t.botName],
    ['Run', t.runId],
    ['Instance', t.instanceId],
    ['Market', `${t.symbol} on ${exchangeFacts(t.exchange).name}${t.testnet ? ', testnet' : ''}`],
    ['Side', `${t.side}, ${t.action === 'enter' ? 'opened or added to the position' : 'reduced or closed the position'}`],
    ['Size', formatQuantity(t.quantity)],
    ['Price', formatQuantity(t.price)],
    ['Fee', `${formatQuantity(t.fee)} ${t.currency}`],
    ['Realized PnL', t.realizedPnl === null ? 'none (this fill only opened or added)' : `${formatSigned(t.realizedPnl)} ${t.currency}`],
    ['Order id', t.clientOrderId],
  ];
  return (
    <FactList facts={rows} className="bot-facts trade-facts" testId="trade-facts" />
  );
}

function Decision({ detail }: { detail: TradeDetail }) {
  const d = detail.trade.decision;
  if (!d) return <p data-testid="trade-decision">No candle decision caused this fill: the bot closed its position as it stopped, or reconciled what it found on start.</p>;
  return (
    <p data-testid="trade-decision">
      At {formatTradeTime(d.time)} the bot decided to {d.type === 'enter' ? 'enter' : 'exit'} {d.side}
      {d.by ? ` (${d.by})` : ''}: {d.reason}
    </p>
  );
}

function Orders({ detail }: { detail: TradeDetail }) {
  if (detail.orders.length === 0) return <p className="muted">No order reports held for this trade (offline, only the local copy answers; orders live on the server).</p>;
  return (
    <table className="table" aria-label="Orders">
      <thead>
        <tr>
          <th scope="col">When</th>
          <th scope="col">Side</th>
          <th scope="col">Size</th>
          <th scope="col">Status</th>
          <th scope="col">Exchange order id</th>
        </tr>
      </thead>
      <tbody>
        {detail.orders.map((order, i) => (
          <tr key={`${order.time}:${i}`}>
            <td>{formatTradeTime(order.time)}</td>
            <td>
              {order.side}
              {order.reduceOnly ? ' (reduce only)' : ''}
            </td>
            <td>{formatQuantity(order.quantity)}</td>
            <td>
              {order.status}
              {order.detail ? `: ${order.detail}` : ''}
            </td>
            <td>{order.exchangeOrderId ? <code>{order.exchangeOrderId}</code> : '—'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Fills({ detail }: { detail: TradeDetail }) {
  return (
    <table className="table" aria-label="Fills">
      <thead>
        <tr>
          <th scope="col">When</th>
          <th scope="col">Size</th>
          <th scope="col">Price</th>
          <th scope="col">Fee</th>
          <th scope="col">Realized PnL</th>
        </tr>
      </thead>
      <tbody>
        {detail.fills.map((fill) => (
          <tr key={fill.id} className={fill.id === detail.trade.id ? 'this-fill' : undefined} aria-current={fill.id === detail.trade.id ? 'true' : undefined}>
            <td>{formatTradeTime(fill.time)}</td>
            <td>{formatQuantity(fill.quantity)}</td>
            <td>{formatQuantity(fill.price)}</td>
            <td>{formatQuantity(fill.fee)}</td>
            <td>{fill.realizedPnl === null ? '—' : formatSigned(fill.realizedPnl)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A trade opened from the table or a link: what it was, the decision that caused it, its order and every fill of that order. */
export function TradeDialog({ open, onClose }: { open: OpenTrade; onClose(): void }) {
  const openTrade = useTradesStore((s) => s.openTrade);
  const trade = open.detail?.trade;
  const title = trade ? `${trade.side === 'buy' ? 'Buy' : 'Sell'} ${formatQuantity(trade.quantity)} ${trade.symbol}` : 'Trade';
  return (
    <Dialog title={title} onClose={onClose}>
      <div className="dialog-body trade-detail">
        {open.load.state === 'loading' ? <p role="status">Loading the trade…</p> : null}
        <Alert message={open.load.state === 'error' ? open.load.message : null} onRetry={() => void openTrade(open.id)} />
        {open.detail ? (
          <>
            <Facts detail={open.detail} />
            <h3>Decision</h3>
            <Decision detail={open.detail} />
            <h3>Orders</h3>
            <Orders detail={open.detail} />
            <h3>Fills of this order</h3>
            <Fills detail={open.detail} />
          </>
        ) : null}
      </div>
      <div className="dialog-actions">
        <button type="button" onClick={onClose} data-autofocus>
          Close
        </button>
      </div>
    </Dialog>
  );
}
