// How a fill report becomes a trade: pure, so the report intake and migration 0010's backfill derive trades the
// same way. A fill names only its client order id; the order report of that id says side and action, and the
// decision reported just before that order is what caused it.
import type { ReportBody } from '../../../src-shared/bot-instance.ts';
import type { TradeDecision } from '../../../src-shared/trades.ts';

/** One report of an instance's history with its sequence number. */
export interface HistoryEntry {
  seq: number;
  body: ReportBody;
}

/** What a fill says about its trade; the rest (bot, symbol, feed position) is the intake's. */
export interface DerivedTrade {
  /** The fill's sequence number in its instance's history. */
  seq: number;
  time: number;
  side: 'buy' | 'sell';
  action: 'enter' | 'exit';
  quantity: number;
  price: number;
  fee: number;
  realizedPnl: number | null;
  clientOrderId: string;
  decision: TradeDecision | null;
}

/** How far before a fill its order and decision are looked for: the bot reports decision, order, fill in a row. */
export const LOOKBACK_REPORTS = 16;

/**
 * The trades of the fills among `entries` (an instance's reports, oldest first); `earlier` are the reports the API
 * stored before them (at least the LOOKBACK_REPORTS just before), where a fill's order or decision may be. A fill
 * whose side cannot be known (an old bot's fill with its order report lost) makes no trade.
 */
export function deriveTrades(entries: readonly HistoryEntry[], earlier: readonly HistoryEntry[] = []): DerivedTrade[] {
  const all = [...earlier, ...entries].sort((a, b) => a.seq - b.seq);
  const bySeq = new Map(all.map((entry) => [entry.seq, entry.body]));
  const trades: DerivedTrade[] = [];
  for (const { seq, body } of entries) {
    if (body.kind !== 'fill') continue;
    const order = orderBefore(all, seq, body.clientOrderId);
    const side = body.side ?? order?.body.side;
    if (!side) continue;
    const realizedPnl = body.realizedPnl ?? null;
    const action = order?.body.action ?? (realizedPnl === null ? 'enter' : 'exit');
    const before = order ? bySeq.get(order.seq - 1) : undefined;
    const decision =
      before?.kind === 'decision' && before.type === action
        ? { time: before.time, type: action, side: before.side, by: before.by, reason: before.reason }
        : null;
    trades.push({ seq, time: body.time, side, action, quantity: body.quantity, price: body.price, fee: body.fee, realizedPnl, clientOrderId: body.clientOrderId, decision });
  }
  return trades;
}

type OrderEntry = { seq: number; body: Extract<ReportBody, { kind: 'order' }> };

function orderBefore(all: readonly HistoryEntry[], seq: number, clientOrderId: string): OrderEntry | null {
  for (let i = all.length - 1; i >= 0; i--) {
    const entry = all[i]!;
    if (entry.seq >= seq) continue;
    if (entry.seq < seq - LOOKBACK_REPORTS) break;
    if (entry.body.kind === 'order' && entry.body.clientOrderId === clientOrderId && entry.body.status !== 'refused') return { seq: entry.seq, body: entry.body };
  }
  return null;
}

/** The currency a contract settles in: what follows the colon of its unified symbol (`BTC/USDT:USDT`, `BTC/USD:BTC`). */
export const settlementOf = (symbol: string): string => symbol.slice(symbol.indexOf(':') + 1);

/** A trade's id: the instance and the fill's sequence number, which never change. */
export const tradeIdOf = (instanceId: string, seq: number): string => `${instanceId}:${seq}`;
