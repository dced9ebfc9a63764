// Trade history as the API keeps it: every fill an instance reports becomes a trade in the same transaction as
// the report, numbered in the account's change feed; the owner reads them a page at a time (newest first, an
// opaque keyset cursor), as a feed of changes (for the desktop's local copy), or one with its orders and fills.
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { ReportBody } from '../../../src-shared/bot-instance.ts';
import { ExchangeId } from '../../../src-shared/exchanges.ts';
import { TradeDecision, TradeDetail, type Trade, type TradeChanges, type TradeFilter, type TradesPage } from '../../../src-shared/trades.ts';
import { ProblemError } from '../../../src-server/problem.ts';
import type { DatabaseHandle } from '../../db/database.ts';
import type { Database } from '../../db/schema.ts';
import { deriveTrades, LOOKBACK_REPORTS, settlementOf, tradeIdOf, type HistoryEntry } from './derive.ts';
import * as q from './queries.ts';

type Db = Kysely<Database>;

/** The instance whose reports are being stored. */
export interface ReportingInstance {
  instanceId: string;
  botId: string;
  runId: string;
  userId: string;
}

export const tradeNotFound = () => new ProblemError(404, 'trade_not_found', 'Trade not found', 'There is no such trade in this account.');

const cursorInvalid = () =>
  new ProblemError(400, 'trade_cursor_invalid', 'Cursor not understood', 'The `after` cursor was not one this API gave out. Start again from the first page.');

const Cursor = z.tuple([z.number().int().nonnegative(), z.number().int().positive()]);

/** The cursor names the last trade of a page by its place in the order (time, then feed position), not by offset. */
export const encodeCursor = (trade: { time: number; feedSeq: number }): string => Buffer.from(JSON.stringify([trade.time, trade.feedSeq])).toString('base64url');

export function decodeCursor(after: string): { time: number; feedSeq: number } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(after, 'base64url').toString('utf8'));
  } catch {
    throw cursorInvalid();
  }
  const cursor = Cursor.safeParse(parsed);
  if (!cursor.success) throw cursorInvalid();
  return { time: cursor.data[0], feedSeq: cursor.data[1] };
}

const BotConfigFields = z.object({ symbol: z.string().min(1), testnet: z.boolean() });

export function tradeOfRow(row: q.TradeRow): Trade {
  return {
    id: row.id,
    feedSeq: Number(row.feed_seq),
    time: Number(row.time),
    botId: row.bot_id,
    botName: row.bot_name,
    runId: row.run_id,
    instanceId: row.instance_id,
    exchange: ExchangeId.parse(row.exchange),
    symbol: row.symbol,
    testnet: row.testnet === 1,
    side: row.side === 'sell' ? 'sell' : 'buy',
    action: row.action === 'exit' ? 'exit' : 'enter',
    quantity: row.quantity,
    price: row.price,
    fee: row.fee,
    currency: row.currency,
    realizedPnl: row.realized_pnl,
    clientOrderId: row.client_order_id,
    decision: row.decision === null ? null : TradeDecision.parse(JSON.parse(row.decision)),
  };
}

/**
 * Stores the trades of the fills among `entries` (just appended to the instance's history, inside `trx`). Their
 * feed positions come from the account's counter, taken after the instance's row and before the account's event
 * turn, the same order a bot's deletion takes them in.
 */
export async function recordTrades(trx: Db, instance: ReportingInstance, entries: readonly HistoryEntry[]): Promise<number> {
  const fills = entries.filter((entry) => entry.body.kind === 'fill');
  if (fills.length === 0) return 0;
  const first = entries[0]!.seq;
  const stored = await q.historyBetween(trx, instance.instanceId, first - LOOKBACK_REPORTS, first);
  const earlier: HistoryEntry[] = [];
  for (const row of stored) {
    const body = ReportBody.safeParse(JSON.parse(row.payload));
    if (body.success) earlier.push({ seq: row.seq, body: body.data });
  }
  const trades = deriveTrades(entries, earlier);
  if (trades.length === 0) return 0;
  const bot = await q.botOfInstance(trx, instance.botId);
  const exchange = ExchangeId.safeParse(bot?.exchange);
  const config = BotConfigFields.safeParse(bot ? JSON.parse(bot.config) : null);
  // The bot's key is held while it runs; without it there is no exchange to name, and the fills stay in the history.
  if (!bot || !exchange.success || !config.success) return 0;
  const firstFeedSeq = await q.takeFeedSeqs(trx, instance.userId, trades.length);
  await q.insertTrades(
    trx,
    trades.map((trade, i) => ({
      id: tradeIdOf(instance.instanceId, trade.seq),
      user_id: instance.userId,
      feed_seq: firstFeedSeq + i,
      bot_id: instance.botId,
      bot_name: bot.name,
      run_id: instance.runId,
      instance_id: instance.instanceId,
      seq: trade.seq,
      time: trade.time,
      exchange: exchange.data,
      symbol: config.data.symbol,
      testnet: config.data.testnet ? 1 : 0,
      side: trade.side,
      action: trade.action,
      quantity: trade.quantity,
      price: trade.price,
      fee: trade.fee,
      currency: settlementOf(config.data.symbol),
      realized_pnl: trade.realizedPnl,
      client_order_id: trade.clientOrderId,
      decision: trade.decision ? JSON.stringify(trade.decision) : null,
    })),
  );
  return trades.length;
}

/** Records, inside the bot's deletion (`trx`), that its trades are gone, so a local copy drops them too. */
export async function recordBotRemoval(trx: Db, userId: string, botId: string, at: string): Promise<void> {
  const feedSeq = await q.takeFeedSeqs(trx, userId, 1);
  await q.insertRemoval(trx, { user_id: userId, feed_seq: feedSeq, bot_id: botId, removed_at: at });
}

export class TradeHistory {
  readonly #database: DatabaseHandle;

  constructor(deps: { database: DatabaseHandle }) {
    this.#database = deps.database;
  }

  async page(userId: string, filter: TradeFilter, after: string | undefined, limit: number): Promise<TradesPage> {
    const cursor = after === undefined ? null : decodeCursor(after);
    const rows = await q.tradesPage(this.#database.db, userId, filter, cursor, limit + 1);
    const trades = rows.slice(0, limit).map(tradeOfRow);
    const last = trades[trades.length - 1];
    return { trades, nextAfter: rows.length > limit && last ? encodeCursor(last) : null };
  }

  async changes(userId: string, since: number, limit: number): Promise<TradeChanges> {
    const db = this.#database.db;
    const rows = await q.tradesSince(db, userId, since, limit + 1);
    const more = rows.length > limit;
    const trades = rows.slice(0, limit).map(tradeOfRow);
    // A full page ends at its last trade; removals after it come with the next page.
    const upTo = more ? trades[trades.length - 1]!.feedSeq : null;
    const removals = await q.removalsBetween(db, userId, since, upTo);
    const next = Math.max(since, trades[trades.length - 1]?.feedSeq ?? 0, ...removals.map((r) => Number(r.feed_seq)));
    return { trades, removedBotIds: [...new Set(removals.map((r) => r.bot_id))], next, more };
  }

  async detail(userId: string, tradeId: string): Promise<TradeDetail> {
    const db = this.#database.db;
    const row = await q.tradeOf(db, userId, tradeId);
    if (!row) throw tradeNotFound();
    const trade = tradeOfRow(row);
    const orders: TradeDetail['orders'] = [];
    for (const report of await q.orderReportsMentioning(db, row.bot_id, row.run_id, row.client_order_id)) {
      const body = ReportBody.safeParse(JSON.parse(report.payload));
      if (!body.success || body.data.kind !== 'order' || body.data.clientOrderId !== row.client_order_id) continue;
      const { time, clientOrderId, exchangeOrderId, side, quantity, reduceOnly, status, detail } = body.data;
      orders.push({ time, clientOrderId, exchangeOrderId, side, quantity, reduceOnly, status, detail });
    }
    const fills = (await q.fillsOfOrder(db, userId, row.run_id, row.client_order_id)).map(tradeOfRow);
    return TradeDetail.parse({ trade, orders, fills });
  }
}
