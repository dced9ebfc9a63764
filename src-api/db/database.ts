import { resolve } from 'node:path';
import type SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql, type SqliteDatabase } from 'kysely';
import { Migrator, type MigrationProvider } from 'kysely/migration';
import pg from 'pg';
import { checkpointWal, openSqlite } from '../../src-server/sqlite.ts';
import type { SqlDialect } from './dialect.ts';
import { migrationsFor } from './migrations/index.ts';
import type { Database } from './schema.ts';

// Counters and sequence numbers are int8 on PostgreSQL; ours stay far below 2^53, so read them as numbers.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number.parseInt(value, 10));

export interface DatabaseHandle {
  db: Kysely<Database>;
  dialect: SqlDialect;
  /** The driver underneath, for libraries that keep their own tables (rate limiting). */
  driver: { kind: 'sqlite'; statements: CachedSqlite } | { kind: 'postgres'; pool: pg.Pool };
  /** The SQLite file, for tests and the forensic checks; undefined on PostgreSQL. */
  file: string | undefined;
  /** Moves everything from the WAL into the database file and truncates the WAL (SQLite); a no-op on PostgreSQL. */
  checkpoint(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Kysely prepares every query afresh; our queries are a fixed set, so each is prepared once and reused
 * (preparing was a tenth of a sign-in's time on the main thread). The rate limiter uses it too.
 */
export type CachedSqlite = SqliteDatabase & Pick<SQLite.Database, 'transaction'>;

function withStatementCache(connection: SQLite.Database, size = 256): CachedSqlite {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => connection.close(),
    transaction: (fn) => connection.transaction(fn),
    prepare(sql) {
      let statement = cache.get(sql);
      if (!statement) {
        statement = connection.prepare(sql);
        if (cache.size >= size) cache.delete(cache.keys().next().value ?? '');
        cache.set(sql, statement);
      }
      return statement;
    },
  };
}

export function openDatabase(url: string): DatabaseHandle {
  if (url.startsWith('sqlite:')) {
    const file = resolve(url.slice('sqlite:'.length));
    // Accounts, sessions and sealed keys: a folder made for them is private to this user.
    const connection = openSqlite(file, { durability: 'normal', directoryMode: 0o700 });
    const statements = withStatementCache(connection);
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: statements }) });
    return {
      db,
      dialect: 'sqlite',
      driver: { kind: 'sqlite', statements },
      file,
      async checkpoint() {
        if (!checkpointWal(connection)) throw new Error('WAL checkpoint was blocked by a reader; retry once it finishes.');
      },
      close: () => db.destroy(),
    };
  }
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    dialect: 'postgres',
    driver: { kind: 'postgres', pool },
    file: undefined,
    checkpoint: async () => {},
    close: () => db.destroy(),
  };
}

export async function migrateToLatest(handle: DatabaseHandle): Promise<void> {
  const provider: MigrationProvider = { getMigrations: async () => migrationsFor(handle.dialect) };
  // On PostgreSQL, Kysely looks for its bookkeeping tables in every schema unless told which one: another
  // schema's copy in the same database (another deployment, another test run) would pass for ours.
  const migrationTableSchema =
    handle.dialect === 'postgres' ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(handle.db)).rows[0]?.schema : undefined;
  const migrator = new Migrator({ db: handle.db, provider, ...(migrationTableSchema ? { migrationTableSchema } : {}) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`Database migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}

export async function pingDatabase(handle: DatabaseHandle): Promise<void> {
  await sql`select 1`.execute(handle.db);
}
