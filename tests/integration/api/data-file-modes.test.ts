import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { migrateToLatest, openDatabase } from '../../../src-api/db/database.ts';
import { tempDir } from '../../support/temp.ts';

const modeOf = (path: string) => (statSync(path).mode & 0o777).toString(8);

describe('the API database on disk is private to its user', () => {
  const dirs: ReturnType<typeof tempDir>[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) dir.cleanup();
  });

  it('makes its folder 0700 and the database, WAL and shared-memory files 0600', async () => {
    const dir = tempDir('plutarc-modes-');
    dirs.push(dir);
    const folder = join(dir.path, 'data', 'api');
    const file = join(folder, 'plutarc.db');
    const database = openDatabase(`sqlite:${file}`);
    await migrateToLatest(database);
    await sql`insert into audit_log (occurred_at, action) values ('2026-01-01T00:00:00Z', 'test')`.execute(database.db);
    expect(modeOf(join(dir.path, 'data'))).toBe('700');
    expect(modeOf(folder)).toBe('700');
    for (const path of [file, `${file}-wal`, `${file}-shm`]) expect(modeOf(path), path).toBe('600');
    await database.close();
  });

  it('narrows a database file an earlier run left readable by others', async () => {
    const dir = tempDir('plutarc-modes-');
    dirs.push(dir);
    const file = join(dir.path, 'plutarc.db');
    writeFileSync(file, '', { mode: 0o644 });
    writeFileSync(`${file}-wal`, '', { mode: 0o644 });
    const database = openDatabase(`sqlite:${file}`);
    await migrateToLatest(database);
    expect(modeOf(file)).toBe('600');
    expect(modeOf(`${file}-wal`)).toBe('600');
    await database.close();
  });
});
