// The Privacy page cannot fall behind the code: every table of the migrated database is named on it, with
// what it holds and for how long, and the page names no table that does not exist.
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { migrateToLatest } from '../../../src-api/db/database.ts';
import { createIdentity } from '../../../src-api/modules/identity/index.ts';
import { DEFAULT_THROTTLE } from '../../../src-api/modules/identity/throttle.ts';
import { AccountEvents } from '../../../src-api/modules/events/index.ts';
import { DELETION_ORDER, LIBRARY_TABLES, TABLES, ownedRule } from '../../../src-api/modules/account-data/queries.ts';
import { STORED_TABLES } from '../../../src-shared/privacy.ts';
import { startTestApi } from '../../support/api.ts';
import { openSqliteTestDatabase, type TestDatabase } from '../../support/databases.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await openSqliteTestDatabase();
  await migrateToLatest(database.handle);
  // The sign-in throttle keeps its own table; it is made when the identity module starts.
  await createIdentity({
    database: database.handle,
    events: new AccountEvents(database.handle, () => new Date()),
    webauthn: { rpId: 'localhost', rpName: 'plutarc', hostedOrigin: 'http://localhost', origins: ['http://localhost'] },
    throttle: DEFAULT_THROTTLE,
    warn: () => {},
  });
});
afterAll(() => database.dispose());

it('names every table of the database, and only those, each with what it holds and how long', async () => {
  const { rows } = await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name`.execute(database.handle.db);
  const tables = rows.map((row) => row.name);
  expect(tables.length).toBeGreaterThan(20);
  const named = STORED_TABLES.map((entry) => entry.table);
  expect([...named].sort()).toEqual(tables);
  for (const entry of STORED_TABLES) {
    expect(entry.holds.length, `${entry.table}: what it holds`).toBeGreaterThan(10);
    expect(entry.kept.length, `${entry.table}: how long`).toBeGreaterThan(3);
  }
});

it('export and deletion have a rule for every table of the database, and deletion takes every table an account owns', async () => {
  const { rows } = await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name`.execute(database.handle.db);
  const ruled = new Set<string>([...Object.keys(TABLES), ...LIBRARY_TABLES]);
  expect(rows.map((row) => row.name).filter((name) => !ruled.has(name))).toEqual([]);
  const owned = (Object.keys(TABLES) as (keyof typeof TABLES)[]).filter((table) => ownedRule(table) && table !== 'account_deletions');
  expect([...DELETION_ORDER].sort()).toEqual(owned.sort());
});

it('is served on the hosted site too, as plain HTML under the hosted pages’ policy, naming every table', async () => {
  const api = await startTestApi();
  try {
    const answer = await fetch(`${api.url}/privacy`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^text\/html/);
    expect(answer.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await answer.text();
    expect(html).not.toMatch(/<script/i);
    for (const entry of STORED_TABLES) expect(html, entry.table).toContain(`<code>${entry.table}</code>`);
    expect(html).toContain('key pairs are destroyed');
  } finally {
    await api.close();
  }
});
