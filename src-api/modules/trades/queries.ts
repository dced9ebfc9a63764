// The trades module's SQL: the account's trades, its change-feed counter and the tombstones of deleted bots.
import { sql, type Insertable, type Kysely, type Selectable } from 'kysely';
import type { TradeFilter } from '../../../src-shared/trades.ts';
import type { BotTradesTable, Database } from '../../db/schema.ts';

type Db = Kysely<Database>;
export type TradeRow = Selectable<BotTradesTable>;

/**
 * Takes the next `count` feed positions of the account; returns the first. The counter row stays locked until the
 * transaction ends, so on PostgreSQL an account's feed positions commit in the order they were taken.
 */
export async function takeFeedSeqs(db: Db, userId: string, count: number): Promise<number> {
  const row = await db
    .insertInto('trade_feeds')
    .values({ user_id: userId, last_seq: count })
    .onConflict((oc) => oc.column('user_id').doUpdateSet({ last_seq: sql<number>`trade_feeds.last_seq + ${count}` }))
    .returning('last_seq')
    .executeTakeFirstOrThrow();
  return Number(row.last_seq) - count + 1;
}

/** What a trade names of its bot at the time: owner, name, exchange (from its key) and trading config. */
export const botOfInstance = (db: Db, botId: string) =>
  db
    .selectFrom('bots')
    .leftJoin('exchange_keys', 'exchange_keys.id', 'bots.key_record_id')
    .select(['bots.user_id', 'bots.name', 'bots.config', 'exchange_keys.exchange'])
    .where('bots.id', '=', botId)
    .executeTakeFirst();

/** The instance's stored reports with sequence in [from, to): where a fill's order and decision may be. */
export const historyBetween = (db: Db, instanceId: string, from: number, to: number) =>
  db
    .selectFrom('bot_history')
    .select(['seq', 'payload'])
    .where('instance_id', '=', instanceId)
    .where('seq', '>=', from)
    .where('seq', '<', to)
    .where('kind', 'in', ['decision', 'order'])
    .orderBy('seq')
    .execute();

export const insertTrades = (db: Db, rows: Insertable<BotTradesTable>[]) => db.insertInto('bot_trades').values(rows).execute();

export const insertRemoval = (db: Db, row: { user_id: string; feed_seq: number; bot_id: string; removed_at: string }) =>
  db.insertInto('bot_trade_removals').values(row).execute();

/** A page of the account's trades, newest first, after the cursor position (time, feed_seq). */
export function tradesPage(db: Db, userId: string, filter: TradeFilter, after: { time: number; feedSeq: number } | null, limit: number) {
  let query = db.selectFrom('bot_trades').selectAll().where('user_id', '=', userId);
  if (filter.botId !== undefined) query = query.where('bot_id', '=', filter.botId);
  if (filter.symbol !== undefined) query = query.where('symbol', '=', filter.symbol);
  if (filter.side !== undefined) query = query.where('side', '=', filter.side);
  if (filter.testnet !== undefined) query = query.where('testnet', '=', filter.testnet ? 1 : 0);
  if (filter.from !== undefined) query = query.where('time', '>=', filter.from);
  if (filter.to !== undefined) query = query.where('time', '<', filter.to);
  if (after) {
    // A row-value comparison: both databases seek the index to it, where an OR of the two cases scans.
    query = query.where(sql<boolean>`(time, feed_seq) < (${after.time}, ${after.feedSeq})`);
  }
  return query.orderBy('time', 'desc').orderBy('feed_seq', 'desc').limit(limit).execute();
}

export const tradesSince = (db: Db, userId: string, since: number, limit: number) =>
  db.selectFrom('bot_trades').selectAll().where('user_id', '=', userId).where('feed_seq', '>', since).orderBy('feed_seq').limit(limit).execute();

export function removalsBetween(db: Db, userId: string, since: number, upTo: number | null) {
  let query = db.selectFrom('bot_trade_removals').select(['bot_id', 'feed_seq']).where('user_id', '=', userId).where('feed_seq', '>', since);
  if (upTo !== null) query = query.where('feed_seq', '<=', upTo);
  return query.orderBy('feed_seq').execute();
}

export const tradeOf = (db: Db, userId: string, id: string) =>
  db.selectFrom('bot_trades').selectAll().where('user_id', '=', userId).where('id', '=', id).executeTakeFirst();

/** The fills of one order, oldest first; sorted here, so the database reads them by the order's index alone. */
export const fillsOfOrder = async (db: Db, userId: string, runId: string, clientOrderId: string) =>
  (await db.selectFrom('bot_trades').selectAll().where('run_id', '=', runId).where('client_order_id', '=', clientOrderId).where('user_id', '=', userId).execute()).sort(
    (a, b) => Number(a.time) - Number(b.time) || Number(a.feed_seq) - Number(b.feed_seq),
  );

const likeLiteral = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/** The order reports of a run that mention `clientOrderId` (the caller checks the field itself), oldest first. */
export const orderReportsMentioning = (db: Db, botId: string, runId: string, clientOrderId: string) =>
  db
    .selectFrom('bot_history')
    .select(['payload'])
    .where('bot_id', '=', botId)
    .where('kind', '=', 'order')
    .where('run_id', '=', runId)
    .where(sql<boolean>`payload like ${`%${likeLiteral(JSON.stringify(clientOrderId))}%`} escape '\\'`)
    .orderBy('time')
    .orderBy('received_at')
    .orderBy('seq')
    .execute();
