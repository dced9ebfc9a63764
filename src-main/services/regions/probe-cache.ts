import type SQLite from 'better-sqlite3';
import { openLocalCache } from '../local-cache.ts';
import { ProbeRun } from '../../../src-shared/latency.ts';

/** Probes kept for trends; older ones are deleted (and, with secure_delete, overwritten). */
const KEEP = 500;

/**
 * The app's local cache of latency probes (better-sqlite3 in the app's data folder), so a dialog
 * shows the last figures and their age instead of probing again, and the Regions page can show trends.
 */
export class ProbeCache {
  private readonly db: SQLite.Database;

  /** `file` is a path in the app's data folder, or ':memory:' where nothing may be kept. */
  constructor(file: string) {
    this.db = openLocalCache(file);
    this.db.exec(`create table if not exists probe_runs (
      id integer primary key autoincrement,
      started_at text not null,
      body text not null
    )`);
  }

  /** Stores a finished probe and returns it with its id. */
  save(run: Omit<ProbeRun, 'id'>): ProbeRun {
    const insert = this.db.transaction(() => {
      const { lastInsertRowid } = this.db
        .prepare('insert into probe_runs (started_at, body) values (?, ?)')
        .run(run.startedAt, JSON.stringify(run));
      this.db.prepare('delete from probe_runs where id <= ?').run(Number(lastInsertRowid) - KEEP);
      return Number(lastInsertRowid);
    });
    return { id: insert(), ...run };
  }

  last(): ProbeRun | null {
    return this.history(1)[0] ?? null;
  }

  /** Newest first. A row this version cannot read (written by another version) is skipped, not fatal. */
  history(limit: number): ProbeRun[] {
    const rows = this.db.prepare('select id, body from probe_runs order by id desc limit ?').all(limit) as { id: number; body: string }[];
    return rows.flatMap((row) => {
      try {
        const parsed = ProbeRun.safeParse({ ...JSON.parse(row.body), id: row.id });
        return parsed.success ? [parsed.data] : [];
      } catch {
        return [];
      }
    });
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
