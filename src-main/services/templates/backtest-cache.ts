import type SQLite from 'better-sqlite3';
import { openLocalCache } from '../local-cache.ts';
import { BacktestListItem, BacktestRecord } from '../../../src-shared/ipc-templates.ts';

/** Results kept per user; older ones are deleted (and, with secure_delete, overwritten). */
const KEEP = 100;

/**
 * Finished backtests in the app's local cache (the same database file as the latency probes), per
 * signed-in user: someone else signing in on this computer does not see them.
 */
export class BacktestCache {
  private readonly db: SQLite.Database;

  /** `file` is a path in the app's data folder, or ':memory:' where nothing may be kept. */
  constructor(file: string) {
    this.db = openLocalCache(file);
    this.db.exec(`create table if not exists backtest_runs (
      seq integer primary key autoincrement,
      id text not null unique,
      user_id text not null,
      ran_at text not null,
      head text not null,
      body text not null
    )`);
  }

  save(userId: string, record: BacktestRecord): void {
    const { trades, curve, ...head } = record;
    this.db.transaction(() => {
      this.db
        .prepare('insert into backtest_runs (id, user_id, ran_at, head, body) values (?, ?, ?, ?, ?)')
        .run(record.id, userId, record.ranAt, JSON.stringify(head), JSON.stringify({ trades, curve }));
      this.db
        .prepare('delete from backtest_runs where user_id = ? and seq not in (select seq from backtest_runs where user_id = ? order by seq desc limit ?)')
        .run(userId, userId, KEEP);
    })();
  }

  /** Newest first. A row this version cannot read (written by another version) is skipped, not fatal. */
  list(userId: string): BacktestListItem[] {
    const rows = this.db.prepare('select head from backtest_runs where user_id = ? order by seq desc').all(userId) as { head: string }[];
    return rows.flatMap((row) => {
      const parsed = BacktestListItem.safeParse(safeJson(row.head));
      return parsed.success ? [parsed.data] : [];
    });
  }

  get(userId: string, id: string): BacktestRecord | null {
    const row = this.db.prepare('select head, body from backtest_runs where user_id = ? and id = ?').get(userId, id) as { head: string; body: string } | undefined;
    if (!row) return null;
    const head = safeJson(row.head);
    const body = safeJson(row.body);
    if (typeof head !== 'object' || typeof body !== 'object' || !head || !body) return null;
    const parsed = BacktestRecord.safeParse({ ...head, ...body });
    return parsed.success ? parsed.data : null;
  }

  /** Deletes every result of `userId` (forgetting an account on this device); the WAL is emptied so no copy of them stays in it. */
  forget(userId: string): void {
    this.db.prepare('delete from backtest_runs where user_id = ?').run(userId);
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  /** Whose results are kept here: the copy guard finds an erased folder's account among them. */
  users(): string[] {
    return (this.db.prepare('select distinct user_id from backtest_runs').all() as { user_id: string }[]).map((row) => row.user_id);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}
