import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';

/**
 * Opens the app's local cache database (`cache.db` in the app's data folder), or a memory-only one
 * where nothing may be kept (`':memory:'`). The folder is the user's alone (0700) and so are the files
 * (0600); deleted rows are overwritten (secure_delete).
 */
export function openLocalCache(file: string): SQLite.Database {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const db = new SQLite(file);
  db.pragma('journal_mode = WAL');
  db.pragma('secure_delete = ON');
  db.pragma('busy_timeout = 2000');
  if (file !== ':memory:') {
    for (const path of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(path)) chmodSync(path, 0o600);
  }
  return db;
}
