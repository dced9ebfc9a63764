import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type SQLite from 'better-sqlite3';
import { z } from 'zod';
import type { TradesFacets, TradesWindow } from '../../../src-shared/ipc-trades.ts';
import { Trade, type TradeChanges, type TradeFilter, type TradeSort, type TradeSummary } from '../../../src-shared/trades.ts';
import { openLocalCache } from '../local-cache.ts';
import { summarizeCopy } from './summary-query.ts';
import { tradeQuery } from './trade-query.ts';

/**
 * The folder of one account's local data in the app's data folder: named by a hash of the user id, so the folder
 * names of the accounts that used this computer say nothing about who they are.
 */
export const accountFolder = (dataDir: string, userId: string): string =>
  join(dataDir, 'accounts', createHash('sha256').update(`plutarc-account:${userId}`).digest('hex').slice(0, 32));

export const TRADES_FILE = 'trades.db';

/** Where the copy of `userId`'s trades lives, or `:memory:` for a host that may keep nothing. */
export const tradesCopyFile = (dataDir: string | null, userId: string): string => (dataDir === null ? ':memory:' : join(accountFolder(dataDir, userId), TRADES_FILE));

const SyncMark = z.object({ cursor: z.number().int().nonnegative(), lastSyncedAt: z.iso.datetime().nullable() });
export type SyncMark = z.infer<typeof SyncMark>;

/**
 * One account's trades on this device (better-sqlite3, secure_delete, 0600 in a 0700 folder): a copy of the API's
 * trades, brought up to date page by page from the change feed, and queried by the Trades page through the
 * same filters and sorts the API offers.
 */
export class TradesCopy {
  readonly userId: string;
  readonly file: string;
  private readonly db: SQLite.Database;

  constructor(file: string, userId: string) {
    this.file = file;
    this.userId = userId;
    this.db = openLocalCache(file);
    this.db.exec(`
      create table if not exists trades (
        id text primary key,
        feed_seq integer not null unique,
        time integer not null,
        bot_id text not null,
        bot_name text not null,
        symbol text not null,
        side text not null,
        testnet integer not null,
        price real not null,
        quantity real not null,
        fee real not null,
        realized_pnl real,
        currency text not null,
        client_order_id text not null,
        body text not null
      );
      create index if not exists trades_time on trades (time, feed_seq);
      create index if not exists trades_bot_time on trades (bot_id, time);
      create index if not exists trades_bot_feed on trades (bot_id, feed_seq);
      create index if not exists trades_symbol_time on trades (symbol, time);
      create index if not exists trades_price on trades (price);
      create index if not exists trades_quantity on trades (quantity);
      create index if not exists trades_fee on trades (fee);
      create index if not exists trades_realized_pnl on trades (realized_pnl);
      create index if not exists trades_order on trades (client_order_id);
      create table if not exists sync_mark (
        only integer primary key check (only = 1),
        body text not null
      );
    `);
  }

  /** Where the feed was read up to, and when the copy was last complete. A mark this version cannot read starts over. */
  mark(): SyncMark {
    const row = this.db.prepare('select body from sync_mark where only = 1').get() as { body: string } | undefined;
    const parsed = row ? SyncMark.safeParse(safeJson(row.body)) : null;
    return parsed?.success ? parsed.data : { cursor: 0, lastSyncedAt: null };
  }

  /** One page of the change feed, all or nothing: its trades in, the removed bots' trades out, the cursor moved. */
  apply(page: TradeChanges, syncedAt: string | null): void {
    const insert = this.db.prepare(`insert or replace into trades
      (id, feed_seq, time, bot_id, bot_name, symbol, side, testnet, price, quantity, fee, realized_pnl, currency, client_order_id, body)
      values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    const removeBot = this.db.prepare('delete from trades where bot_id = ?');
    const setMark = this.db.prepare('insert or replace into sync_mark (only, body) values (1, ?)');
    this.db.transaction(() => {
      for (const t of page.trades) {
        insert.run(t.id, t.feedSeq, t.time, t.botId, t.botName, t.symbol, t.side, t.testnet ? 1 : 0, t.price, t.quantity, t.fee, t.realizedPnl, t.currency, t.clientOrderId, JSON.stringify(t));
      }
      for (const botId of page.removedBotIds) removeBot.run(botId);
      const before = this.mark();
      setMark.run(JSON.stringify({ cursor: page.next, lastSyncedAt: syncedAt ?? before.lastSyncedAt } satisfies SyncMark));
    })();
  }

  count(): number {
    return (this.db.prepare('select count(*) as n from trades').get() as { n: number }).n;
  }

  window(filter: TradeFilter, sort: TradeSort, offset: number, limit: number): TradesWindow {
    const q = tradeQuery(filter, sort);
    const read = this.db.transaction(() => {
      const { n } = this.db.prepare(`select count(*) as n from trades ${q.where}`).get(...q.params) as { n: number };
      const rows = this.db.prepare(`select body from trades ${q.where} ${q.orderBy} limit ? offset ?`).all(...q.params, limit, offset) as { body: string }[];
      return { total: n, offset, trades: rows.flatMap(readTrade) };
    });
    return read();
  }

  summary(filter: TradeFilter): TradeSummary[] {
    return summarizeCopy(this.db, filter);
  }

  /** Bots under the name of their newest trade, by name; symbols alphabetically. */
  facets(): TradesFacets {
    // Each bot's newest trade from the (bot_id, feed_seq) index alone, then its name by the unique feed position.
    const bots = this.db
      .prepare('select t.bot_id as id, t.bot_name as name from (select max(feed_seq) as seq from trades group by bot_id) newest join trades t on t.feed_seq = newest.seq')
      .all() as { id: string; name: string }[];
    const symbols = this.db.prepare('select distinct symbol from trades order by symbol').all() as { symbol: string }[];
    return {
      bots: bots.map((b) => ({ id: b.id, name: b.name })).sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id)),
      symbols: symbols.map((s) => s.symbol),
    };
  }

  get(id: string): Trade | null {
    const row = this.db.prepare('select body from trades where id = ?').get(id) as { body: string } | undefined;
    return row ? (readTrade(row)[0] ?? null) : null;
  }

  /** Every fill of one order, oldest first. */
  fillsOf(clientOrderId: string): Trade[] {
    const rows = this.db.prepare('select body from trades where client_order_id = ? order by time, feed_seq').all(clientOrderId) as { body: string }[];
    return rows.flatMap(readTrade);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Closes the copy and deletes its files, the WAL and shared-memory files with them. */
  erase(): void {
    this.close();
    eraseTradesCopyFile(this.file);
  }
}

/** Deletes a copy's database file and the files SQLite keeps beside it; a memory copy has none. */
export function eraseTradesCopyFile(file: string): void {
  if (file === ':memory:') return;
  for (const path of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]) rmSync(path, { force: true });
}

/** A row this version cannot read (written by another version) is skipped, not fatal: the next full sync brings it back. */
function readTrade(row: { body: string }): Trade[] {
  const parsed = Trade.safeParse(safeJson(row.body));
  return parsed.success ? [parsed.data] : [];
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
