import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkpointWal, openSqlite } from '../../../src-server/sqlite.ts';
import { tempDir } from '../../support/temp.ts';

describe('openSqlite', () => {
  let dir: ReturnType<typeof tempDir> | undefined;
  afterEach(() => dir?.cleanup());

  it.each([
    ['normal', 1],
    ['full', 2],
  ] as const)('opens a %s-durability file in WAL, zeroing deletes and enforcing foreign keys', (durability, synchronous) => {
    dir = tempDir();
    const file = join(dir.path, 'nested', 'store.db');
    const connection = openSqlite(file, { durability, directoryMode: 0o700 });
    try {
      expect(connection.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(connection.pragma('synchronous', { simple: true })).toBe(synchronous);
      expect(connection.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(connection.pragma('secure_delete', { simple: true })).toBe(1);
      expect(statSync(join(dir.path, 'nested')).mode & 0o777).toBe(0o700);
    } finally {
      connection.close();
    }
  });

  it('checkpoints the WAL into the file, and says so when a reader blocks it', () => {
    dir = tempDir();
    const file = join(dir.path, 'store.db');
    const writer = openSqlite(file, { durability: 'normal' });
    const reader = openSqlite(file, { durability: 'normal' });
    try {
      writer.exec('CREATE TABLE t (x TEXT); INSERT INTO t VALUES (1);');
      const read = reader.prepare('SELECT x FROM t').iterate();
      read.next();
      writer.exec('INSERT INTO t VALUES (2);');
      expect(checkpointWal(writer)).toBe(false);
      read.return?.();
      expect(checkpointWal(writer)).toBe(true);
      expect(statSync(`${file}-wal`).size).toBe(0);
    } finally {
      reader.close();
      writer.close();
    }
  });
});
