import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { openDatabase, type DatabaseHandle } from '../../src-api/db/database.ts';
import { tempDir } from './temp.ts';

/**
 * The databases every query test runs against: a SQLite file always, and PostgreSQL where
 * PLUTARC_TEST_PG_URL names one (.ci/run starts Debian's server). PLUTARC_REQUIRE_PG=1 makes a
 * missing server an error instead of a skip, so CI cannot silently drop the variant.
 */
export const PG_URL = process.env.PLUTARC_TEST_PG_URL;
if (process.env.PLUTARC_REQUIRE_PG === '1' && !PG_URL) {
  throw new Error('PLUTARC_REQUIRE_PG=1 but PLUTARC_TEST_PG_URL is not set');
}

export interface TestDatabase {
  handle: DatabaseHandle;
  dispose(): Promise<void>;
}

export async function openSqliteTestDatabase(): Promise<TestDatabase> {
  const dir = tempDir('plutarc-db-');
  const handle = openDatabase(`sqlite:${join(dir.path, 'test.db')}`);
  return {
    handle,
    async dispose() {
      await handle.close();
      dir.cleanup();
    },
  };
}

/** A fresh PostgreSQL schema and a connection URL scoped to it, so runs never see each other's rows. */
export async function postgresSchema(url: string): Promise<{ url: string; drop(): Promise<void> }> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const scoped = new URL(url);
  scoped.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: scoped.toString(),
    async drop() {
      const cleanup = new pg.Client({ connectionString: url });
      await cleanup.connect();
      await cleanup.query(`drop schema ${schema} cascade`);
      await cleanup.end();
    },
  };
}

export async function openPostgresTestDatabase(url: string): Promise<TestDatabase> {
  const schema = await postgresSchema(url);
  const handle = openDatabase(schema.url);
  return {
    handle,
    async dispose() {
      await handle.close();
      await schema.drop();
    },
  };
}

export const DATABASE_KINDS = [
  { name: 'sqlite', open: openSqliteTestDatabase, enabled: true },
  { name: 'postgres', open: () => openPostgresTestDatabase(PG_URL ?? ''), enabled: Boolean(PG_URL) },
] as const;
