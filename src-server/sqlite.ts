// SQLite as every server process opens it: the API's embedded database and the key broker's key store.
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';

const BUSY_TIMEOUT_MS = 5000;

export interface SqliteOptions {
  /**
   * `normal` skips an fsync per transaction: WAL keeps the file consistent on a crash, but a power cut may
   * lose the last commits. `full` for a store whose acknowledged writes must survive one (the broker's keys).
   */
  durability: 'normal' | 'full';
  /** The mode of the folder, when it has to be made. */
  directoryMode?: number;
}

/**
 * Opens a SQLite file, making its folder: WAL, foreign keys enforced, deleted content overwritten with zeros.
 * The file is 0600, readable by this user only; SQLite gives the WAL and shared-memory files it makes the
 * same mode, and ones an earlier run left wider are narrowed.
 */
export function openSqlite(file: string, options: SqliteOptions): SQLite.Database {
  mkdirSync(dirname(file), { recursive: true, ...(options.directoryMode === undefined ? {} : { mode: options.directoryMode }) });
  closeSync(openSync(file, 'a', 0o600));
  for (const path of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(path)) chmodSync(path, 0o600);
  const connection = new SQLite(file);
  try {
    connection.pragma('journal_mode = WAL');
    connection.pragma(`synchronous = ${options.durability === 'full' ? 'FULL' : 'NORMAL'}`);
    connection.pragma('foreign_keys = ON');
    connection.pragma('secure_delete = ON');
    connection.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    connection.pragma('journal_size_limit = 0');
  } catch (error) {
    connection.close();
    throw error;
  }
  return connection;
}

/** Copies the WAL into the database file and truncates it; false when a reader blocked it. */
export function checkpointWal(connection: SQLite.Database): boolean {
  // No busy wait: the connection is synchronous, so waiting here would stall every request. Callers retry.
  connection.pragma('busy_timeout = 0');
  try {
    const [row] = connection.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
    return row?.busy === 0;
  } finally {
    connection.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  }
}
