// What the desktop keeps of an account, and that it goes: the local copy of its trades and its cached backtests,
// erased by "Sign out and forget this device", by deleting the account from this device, and on another device
// that hears the account was deleted. After each, every file in the app's data folder is searched for the
// account's email, its trade ids and its template's name: nothing is found, while another account's copy stays.
// Against a real API; the trades routes are served by the contract's stand-in on the same URL until they land.
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatchInvoke } from '../../../src-main/services/dispatch.ts';
import { createMainServices, type MainServices } from '../../../src-main/services/main-services.ts';
import { tradesCopyFile } from '../../../src-main/services/trades/trades-copy.ts';
import type { InvokeChannel, InvokeInput, InvokeOutput } from '../../../src-shared/ipc.ts';
import type { Result } from '../../../src-shared/result.ts';
import type { Trade } from '../../../src-shared/trades.ts';
import { startTestApi, type TestApi } from '../../support/api.ts';
import { startFakeTradesApi, type FakeTradesApi } from '../../support/fake-trades-api.ts';
import { GOOD_PASSWORD, uniqueEmail } from '../../support/identity.ts';
import { tempDir } from '../../support/temp.ts';
import { trade } from '../../support/trade.ts';
import { waitFor } from '../../support/wait.ts';

let api: TestApi;
let trades: FakeTradesApi;
const opened: MainServices[] = [];
const folders: { cleanup: () => void }[] = [];

beforeAll(async () => {
  api = await startTestApi();
  // Whose token it is, as the real API says.
  trades = await startFakeTradesApi(async (token) => {
    const me = await fetch(`${api.url}/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    return me.ok ? ((await me.json()) as { user: { id: string } }).user.id : null;
  }, api.url);
});
afterAll(async () => {
  await Promise.all(opened.map((s) => s.stop()));
  await trades.close();
  await api.close();
  for (const folder of folders) folder.cleanup();
});

/** A desktop app on a data folder (its own unless given), through the IPC handlers as the renderer calls them. */
function desktop(dataDir?: string) {
  let folder = dataDir;
  if (!folder) {
    const made = tempDir('plutarc-forget-');
    folders.push(made);
    folder = made.path;
  }
  const services = createMainServices({
    apiUrl: trades.url,
    host: 'browser',
    version: '0.0.0-test',
    dataDir: folder,
    identity: { stream: { initialBackoffMs: 50, maxBackoffMs: 500 } },
  });
  services.start();
  opened.push(services);
  const invoke = async <C extends InvokeChannel>(channel: C, input?: InvokeInput<C>): Promise<InvokeOutput<C>> => {
    const result = (await dispatchInvoke(services.handlers, channel, input)) as Result<InvokeOutput<C>>;
    if (!result.ok) throw new Error(`${channel}: ${result.code} ${result.message}`);
    return result.value;
  };
  const tradesCurrent = (count: number) =>
    waitFor(
      async () => {
        const state = await dispatchInvoke(services.handlers, 'trades.syncState', undefined);
        return state.ok && (state.value as { state: string; trades: number }).state === 'current' && (state.value as { trades: number }).trades === count;
      },
      { what: `a current copy of ${count} trades` },
    );
  return { services, invoke, dataDir: folder, tradesCurrent };
}

/** Signs up on `app`, gives the account trades (by the API) and a backtest of its own template (in the cache). */
async function accountWithData(app: ReturnType<typeof desktop>, label: string) {
  const email = uniqueEmail(label);
  const state = await app.invoke('identity.register', { email, password: GOOD_PASSWORD });
  if (state.state !== 'signedIn') throw new Error('registering did not sign in');
  const userId = state.user.id;
  const tag = randomUUID();
  const stored = trades.add(
    userId,
    Array.from({ length: 5 }, (_, i): Omit<Trade, 'feedSeq'> => {
      const { feedSeq: _seq, ...rest } = trade(i + 1, { id: `trade-${tag}-${i}`, clientOrderId: `order-${tag}-${i}`, botName: `Bot ${tag}` });
      return rest;
    }),
  );
  await app.invoke('trades.syncNow');
  await app.tradesCurrent(5);
  const templateName = `Reversion ${tag.slice(0, 8)}`;
  const copy = await app.invoke('templates.duplicate', { id: 'system-mean-reversion', name: templateName });
  const JAN = Date.UTC(2026, 0, 1);
  await app.invoke('backtests.run', { runId: randomUUID(), templateId: copy.id, version: 1, symbol: 'BTC', timeframe: '1h', from: JAN, to: JAN + 3 * 86_400_000, initialEquity: 1_000 });
  expect((await app.invoke('backtests.list')).map((b) => b.templateName)).toEqual([templateName]);
  return { email, userId, traces: [email, templateName, ...stored.map((t) => t.id)] };
}

/** Every file under `folder`, whole. */
function filesUnder(folder: string): string[] {
  return readdirSync(folder, { recursive: true, encoding: 'utf8' })
    .map((name) => join(folder, name))
    .filter((path) => statSync(path).isFile());
}

/** Which of `traces` any file under `folder` holds, as UTF-8 bytes. */
function tracesIn(folder: string, traces: string[]): string[] {
  const contents = filesUnder(folder).map((path) => readFileSync(path));
  return traces.filter((trace) => contents.some((bytes) => bytes.includes(Buffer.from(trace, 'utf8'))));
}

const signInAgain = (app: ReturnType<typeof desktop>, email: string) => app.invoke('identity.signIn', { email, password: GOOD_PASSWORD });

describe('forgetting an account on this device', () => {
  it('"Sign out and forget this device" erases its trades copy and cached backtests, and leaves another account’s copy', async () => {
    const app = desktop();
    const other = await accountWithData(app, 'other');
    await app.invoke('identity.signOut');
    const mine = await accountWithData(app, 'forgetful');
    // The scan can find what is there: the data folder holds both accounts' traces now.
    expect(tracesIn(app.dataDir, mine.traces.slice(1))).toEqual(mine.traces.slice(1));

    expect(await app.invoke('identity.signOut', { forgetDevice: true })).toMatchObject({ state: 'signedOut' });
    const file = tradesCopyFile(app.dataDir, mine.userId);
    for (const path of [file, `${file}-wal`, `${file}-shm`]) expect(existsSync(path)).toBe(false);
    expect(tracesIn(app.dataDir, mine.traces)).toEqual([]);

    // The other account's copy and backtests are still here.
    expect(tracesIn(app.dataDir, other.traces.slice(1))).toEqual(other.traces.slice(1));
    await signInAgain(app, other.email);
    await app.tradesCurrent(5);
    expect(await app.invoke('backtests.list')).toHaveLength(1);

    // Signing in again brings the forgotten account's trades back from the API, and nothing of its old cache.
    await app.invoke('identity.signOut');
    await signInAgain(app, mine.email);
    await app.tradesCurrent(5);
    expect(await app.invoke('backtests.list')).toEqual([]);
  });

  it('deleting the account here leaves nothing of it in the data folder', async () => {
    const app = desktop();
    const mine = await accountWithData(app, 'deleting');
    await app.invoke('identity.reverifyPassword', { password: GOOD_PASSWORD });
    await app.invoke('yourData.deleteAccount', { email: mine.email });
    await api.app.deletions.settled();
    expect(existsSync(tradesCopyFile(app.dataDir, mine.userId))).toBe(false);
    expect(tracesIn(app.dataDir, mine.traces)).toEqual([]);
  });

  it('another signed-in device erases the account when the API says it was deleted, not on a plain sign-out elsewhere', async () => {
    const here = desktop();
    const mine = await accountWithData(here, 'two-devices');
    const elsewhere = desktop();
    const signedIn = await signInAgain(elsewhere, mine.email);
    if (signedIn.state !== 'signedIn') throw new Error('signing in did not');
    await elsewhere.tradesCurrent(5);
    const copyElsewhere = tradesCopyFile(elsewhere.dataDir, mine.userId);

    // Signed out from here (a revocation, not a deletion): the copy there stays for the next sign-in.
    await here.invoke('identity.reverifyPassword', { password: GOOD_PASSWORD });
    await here.invoke('sessions.revoke', { id: signedIn.session.id });
    await waitFor(async () => (await elsewhere.invoke('identity.state')).state === 'signedOut', { what: 'the other device signed out' });
    expect(existsSync(copyElsewhere)).toBe(true);

    await signInAgain(elsewhere, mine.email);
    await elsewhere.tradesCurrent(5);
    await here.invoke('identity.reverifyPassword', { password: GOOD_PASSWORD });
    await here.invoke('yourData.deleteAccount', { email: mine.email });
    await api.app.deletions.settled();
    await waitFor(() => !existsSync(copyElsewhere), { what: 'the other device to erase the deleted account’s copy' });
    expect(await elsewhere.invoke('identity.state')).toMatchObject({ state: 'signedOut' });
    expect(tracesIn(elsewhere.dataDir, mine.traces)).toEqual([]);
    expect(tracesIn(here.dataDir, mine.traces)).toEqual([]);
  });
});
