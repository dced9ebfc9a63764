import { existsSync, readFileSync, statSync } from 'node:fs';
import SQLite from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { migrateToLatest, pingDatabase } from '../../../src-api/db/database.ts';
import { DATABASE_KINDS, openPostgresTestDatabase, openSqliteTestDatabase, PG_URL, type TestDatabase } from '../../support/databases.ts';

for (const kind of DATABASE_KINDS) {
  describe.runIf(kind.enabled)(`database on ${kind.name}`, () => {
    let database: TestDatabase;
    afterEach(() => database.dispose());

    it('migrates from empty, migrates again as a no-op, and runs the same queries', async () => {
      database = await kind.open();
      const { db } = database.handle;
      await migrateToLatest(database.handle);
      await migrateToLatest(database.handle);
      await pingDatabase(database.handle);

      const at = new Date().toISOString();
      await db.insertInto('audit_log').values({ occurred_at: at, actor: 'u1', action: 'test.first', subject: null, detail: '{"n":1}' }).execute();
      await db.insertInto('audit_log').values({ occurred_at: at, actor: 'u1', action: 'test.second', subject: 's', detail: null }).execute();
      await db.insertInto('audit_log').values({ occurred_at: at, actor: 'u2', action: 'test.other', subject: null, detail: null }).execute();

      const rows = await db.selectFrom('audit_log').selectAll().where('actor', '=', 'u1').orderBy('seq', 'desc').execute();
      expect(rows.map((r) => r.action)).toEqual(['test.second', 'test.first']);
      expect(typeof rows[0]?.seq).toBe('number');
      expect(rows[0]!.seq).toBeGreaterThan(rows[1]!.seq);

      await db.deleteFrom('audit_log').where('actor', '=', 'u1').execute();
      const left = await db.selectFrom('audit_log').select(['actor']).execute();
      expect(left).toEqual([{ actor: 'u2' }]);
    });
  });
}

describe.runIf(Boolean(PG_URL))('PostgreSQL schemas side by side', () => {
  it('migrates a schema of its own even when another schema of the database already has the bookkeeping tables', async () => {
    const first = await openPostgresTestDatabase(PG_URL!);
    const second = await openPostgresTestDatabase(PG_URL!);
    try {
      await migrateToLatest(first.handle);
      await migrateToLatest(second.handle);
      await pingDatabase(second.handle);
      expect(await second.handle.db.selectFrom('audit_log').select('seq').execute()).toEqual([]);
    } finally {
      await first.dispose();
      await second.dispose();
    }
  });
});

describe('SQLite connection settings', () => {
  let database: TestDatabase;
  afterEach(() => database.dispose());

  it('uses WAL, enforces foreign keys and zero-fills deleted content', async () => {
    database = await openSqliteTestDatabase();
    await migrateToLatest(database.handle);
    const file = database.handle.file!;
    const marker = 'FORENSIC-MARKER-4c1d9e';
    await database.handle.db
      .insertInto('audit_log')
      .values({ occurred_at: new Date().toISOString(), actor: 'u', action: 'marker', subject: null, detail: marker })
      .execute();
    await database.handle.db.deleteFrom('audit_log').where('action', '=', 'marker').execute();
    await database.handle.checkpoint();

    // Read the settings through a second connection configured the same way the API does.
    const probe = new SQLite(file, { readonly: true });
    expect(probe.pragma('journal_mode', { simple: true })).toBe('wal');
    probe.close();

    const bytes = readFileSync(file);
    expect(bytes.includes(Buffer.from(marker))).toBe(false);
    const wal = `${file}-wal`;
    expect(!existsSync(wal) || statSync(wal).size === 0 || !readFileSync(wal).includes(Buffer.from(marker))).toBe(true);
  });
});
