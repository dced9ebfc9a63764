// A device that was off when its account was deleted: main is stopped with the account's copy on disk, the account
// is deleted from another device, and a new main over the same data folder, with nobody signing in, erases that
// copy (trades database, cached backtests, the folder) because the API no longer knows its token; a forensic scan
// of the data folder then finds nothing of the account, while another account's copy on the same device stays.
// With the API away at start the copy is kept, and erased once the API answers again.
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatchInvoke } from '../../../src-main/services/dispatch.ts';
import { createMainServices, type MainServices } from '../../../src-main/services/main-services.ts';
import { parseCopyRecord } from '../../../src-main/services/trades/copy-record.ts';
import { accountFolder } from '../../../src-main/services/trades/trades-copy.ts';
import { ACCOUNT_DATA_ROUTES } from '../../../src-shared/account-data.ts';
import type { InvokeChannel, InvokeInput, InvokeOutput } from '../../../src-shared/ipc.ts';
import type { Result } from '../../../src-shared/result.ts';
import type { Trade } from '../../../src-shared/trades.ts';
import { startTestApi, type TestApi } from '../../support/api.ts';
import { startFakeTradesApi, type FakeTradesApi } from '../../support/fake-trades-api.ts';
import { GOOD_PASSWORD, reverify, signIn, uniqueEmail } from '../../support/identity.ts';
import { tempDir } from '../../support/temp.ts';
import { trade } from '../../support/trade.ts';
import { waitFor } from '../../support/wait.ts';

let api: TestApi;
// The trades routes' stand-in in front of the real API; `offline` makes the whole API unreachable for main.
let front: FakeTradesApi;
const running = new Set<MainServices>();
const folders: { cleanup: () => void }[] = [];

beforeAll(async () => {
  api = await startTestApi({ PLUTARC_CEREMONY_STARTS_PER_MINUTE: '1000' });
  front = await startFakeTradesApi(async (token) => {
    const me = await fetch(`${api.url}/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    return me.ok ? ((await me.json()) as { user: { id: string } }).user.id : null;
  }, api.url);
});
afterAll(async () => {
  front.offline = false;
  await Promise.all([...running].map((s) => s.stop()));
  await front.close();
  await api.close();
  for (const folder of folders) folder.cleanup();
});

function dataFolder(): string {
  const made = tempDir('plutarc-copy-guard-');
  folders.push(made);
  return made.path;
}

/** Main over `dataDir`, as the app starts it; its log lines are kept. */
function startMain(dataDir: string) {
  const log: string[] = [];
  const services = createMainServices({
    apiUrl: front.url,
    host: 'browser',
    version: '0.0.0-test',
    dataDir,
    apiStatusIntervalMs: 100,
    log: (line) => log.push(line),
    identity: { stream: { initialBackoffMs: 50, maxBackoffMs: 500 } },
  });
  services.start();
  running.add(services);
  const invoke = async <C extends InvokeChannel>(channel: C, input?: InvokeInput<C>): Promise<InvokeOutput<C>> => {
    const result = (await dispatchInvoke(services.handlers, channel, input)) as Result<InvokeOutput<C>>;
    if (!result.ok) throw new Error(`${channel}: ${result.code} ${result.message}`);
    return result.value;
  };
  const stop = async () => {
    running.delete(services);
    await services.stop();
  };
  return { services, invoke, log, stop };
}
type Main = ReturnType<typeof startMain>;

/** Registers on `main`, gives the account trades and a cached backtest, and waits until its copy's token is registered. */
async function accountWithCopy(main: Main, dataDir: string, label: string) {
  const email = uniqueEmail(label);
  const state = await main.invoke('identity.register', { email, password: GOOD_PASSWORD });
  if (state.state !== 'signedIn') throw new Error('registering did not sign in');
  const userId = state.user.id;
  const tag = randomUUID();
  const stored = front.add(
    userId,
    Array.from({ length: 4 }, (_, i): Omit<Trade, 'feedSeq'> => {
      const { feedSeq: _seq, ...rest } = trade(i + 1, { id: `trade-${tag}-${i}`, clientOrderId: `order-${tag}-${i}`, botName: `Bot ${tag}` });
      return rest;
    }),
  );
  await main.invoke('trades.syncNow');
  await waitFor(async () => (await main.invoke('trades.syncState')).trades === 4, { what: 'the copy of 4 trades' });
  const templateName = `Guarded ${tag.slice(0, 8)}`;
  const copy = await main.invoke('templates.duplicate', { id: 'system-mean-reversion', name: templateName });
  const JAN = Date.UTC(2026, 0, 1);
  await main.invoke('backtests.run', { runId: randomUUID(), templateId: copy.id, version: 1, symbol: 'BTC', timeframe: '1h', from: JAN, to: JAN + 3 * 86_400_000, initialEquity: 1_000 });
  const folder = accountFolder(dataDir, userId);
  await waitFor(() => parseCopyRecord(readText(join(folder, 'copy.json')))?.registered === true, { what: 'the copy’s token registered' });
  return { email, userId, folder, traces: [email, templateName, ...stored.map((t) => t.id)] };
}

/** The account deleted from another device: signed in there, reverified, deletion asked and finished. */
async function deleteElsewhere(email: string) {
  const grant = await signIn(api.url, email);
  if (grant.status !== 200) throw new Error(`sign-in elsewhere failed: ${grant.status}`);
  const token = await reverify(api.url, grant.body.token);
  const answer = await fetch(`${api.url}${ACCOUNT_DATA_ROUTES.deletion}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ email }),
  });
  expect(answer.status).toBe(202);
  await api.app.deletions.settled();
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** Which of `traces` any file under `folder` holds, as UTF-8 bytes. */
function tracesIn(folder: string, traces: string[]): string[] {
  const contents = readdirSync(folder, { recursive: true, encoding: 'utf8' })
    .map((name) => join(folder, name))
    .filter((path) => statSync(path).isFile())
    .map((path) => readFileSync(path));
  return traces.filter((trace) => contents.some((bytes) => bytes.includes(Buffer.from(trace, 'utf8'))));
}

describe('a copy whose account was deleted while this device was off', () => {
  it('is erased at the next start with nobody signing in, and nothing of the account stays; another account’s copy stays', async () => {
    const dataDir = dataFolder();
    const before = startMain(dataDir);
    const kept = await accountWithCopy(before, dataDir, 'kept');
    await before.invoke('identity.signOut');
    const gone = await accountWithCopy(before, dataDir, 'gone');
    await before.stop();
    // The scan can find what is there.
    expect(tracesIn(dataDir, gone.traces.slice(1))).toEqual(gone.traces.slice(1));

    await deleteElsewhere(gone.email);

    const after = startMain(dataDir);
    await waitFor(() => !existsSync(gone.folder), { what: 'the deleted account’s folder erased' });
    expect(await after.invoke('identity.state')).toMatchObject({ state: 'signedOut' });
    expect(tracesIn(dataDir, gone.traces)).toEqual([]);

    // The other account's copy and backtest are as they were, and open at its sign-in.
    expect(existsSync(kept.folder)).toBe(true);
    expect(tracesIn(dataDir, kept.traces.slice(1))).toEqual(kept.traces.slice(1));
    await after.invoke('identity.signIn', { email: kept.email, password: GOOD_PASSWORD });
    expect((await after.invoke('backtests.list')).map((b) => b.templateName)).toEqual([kept.traces[1]]);
    await after.stop();
  });

  it('is kept while the API cannot be reached at start, and erased once it answers again', async () => {
    const dataDir = dataFolder();
    const before = startMain(dataDir);
    const gone = await accountWithCopy(before, dataDir, 'offline');
    await before.stop();
    await deleteElsewhere(gone.email);

    front.offline = true;
    const after = startMain(dataDir);
    await waitFor(() => after.log.some((line) => line.startsWith('copies: could not check the local copies')), { what: 'a check that could not reach the API' });
    expect(existsSync(gone.folder)).toBe(true);
    expect((await after.invoke('api.status')).state).not.toBe('online');

    front.offline = false;
    await waitFor(() => !existsSync(gone.folder), { what: 'the copy erased once the API answers' });
    expect(tracesIn(dataDir, gone.traces)).toEqual([]);
    await after.stop();
  });

  it('"Sign out and forget this device" unregisters the copy’s token with the API', async () => {
    const dataDir = dataFolder();
    const main = startMain(dataDir);
    const mine = await accountWithCopy(main, dataDir, 'forget');
    const record = parseCopyRecord(readText(join(mine.folder, 'copy.json')));
    const rows = () => api.app.database.db.selectFrom('device_copies').select('token_hash').where('user_id', '=', mine.userId).execute();
    expect(await rows()).toHaveLength(1);
    await main.invoke('identity.signOut', { forgetDevice: true });
    expect(await rows()).toEqual([]);
    expect(existsSync(mine.folder)).toBe(false);
    const check = await fetch(`${api.url}/v1/devices/copies/check`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tokens: [record!.token] }) });
    expect(await check.json()).toEqual({ unknown: [record!.token] });
    await main.stop();
  });

});

describe('folders no token vouches for', () => {
  it('gives a folder from before copy tokens a token at its next sign-in, and erases one never opened again after 30 days', async () => {
    const dataDir = dataFolder();
    const before = startMain(dataDir);
    const older = await accountWithCopy(before, dataDir, 'older');
    await before.stop();
    // As a version before copy tokens left it: no copy.json, no opened mark.
    rmSync(join(older.folder, 'copy.json'));
    rmSync(join(older.folder, 'opened.json'));
    // A folder nobody can vouch for, last opened 31 days ago (its account unknown to this test, as to the API).
    const abandoned = join(dataDir, 'accounts', 'ab'.repeat(16));
    mkdirSync(abandoned, { recursive: true, mode: 0o700 });
    writeFileSync(join(abandoned, 'trades.db'), 'left behind');
    writeFileSync(join(abandoned, 'opened.json'), JSON.stringify({ openedAt: new Date(Date.now() - 31 * 86_400_000).toISOString() }));

    const after = startMain(dataDir);
    await waitFor(() => !existsSync(abandoned), { what: 'the abandoned folder erased by age' });
    // The older folder is not erased: its 30 days start now, and it has no token yet.
    await waitFor(() => readText(join(older.folder, 'opened.json')), { what: 'the older folder marked' });
    expect(existsSync(join(older.folder, 'trades.db'))).toBe(true);
    expect(existsSync(join(older.folder, 'copy.json'))).toBe(false);

    await after.invoke('identity.signIn', { email: older.email, password: GOOD_PASSWORD });
    await waitFor(() => parseCopyRecord(readText(join(older.folder, 'copy.json')))?.registered === true, { what: 'a token registered at sign-in' });
    await after.stop();
  });
});
