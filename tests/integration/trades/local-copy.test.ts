// Main's local copy of the account's trades against the contract's routes on 127.0.0.1: the first sync from
// nothing in pages, catching up from the stored cursor on a fill, a deleted bot's trades removed, offline and
// back, one pull at a time with one queued, the page's windows, the detail with and without the API, and two
// accounts on one computer each with a copy of their own.
import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { EventHub } from '../../../src-main/services/events/event-hub.ts';
import type { SessionAccess, SessionEnd } from '../../../src-main/services/ports.ts';
import { TradesApi } from '../../../src-main/services/trades/trades-api.ts';
import { tradesCopyFile } from '../../../src-main/services/trades/trades-copy.ts';
import { TradesService, type TradeEventSource } from '../../../src-main/services/trades/trades-service.ts';
import type { AccountEvent } from '../../../src-shared/events.ts';
import type { TradesSyncState } from '../../../src-shared/ipc-trades.ts';
import type { Trade } from '../../../src-shared/trades.ts';
import { startFakeTradesApi, type FakeTradesApi } from '../../support/fake-trades-api.ts';
import { tempDir } from '../../support/temp.ts';
import { trade } from '../../support/trade.ts';
import { waitFor } from '../../support/wait.ts';
import { signedInState } from '../../support/signed-in.ts';

let api: FakeTradesApi;
const dir = tempDir('plutarc-trades-copy-');
/** Tokens are `token-<user id>` here: the fake API reads whose account a request is for from it. */
beforeAll(async () => {
  api = await startFakeTradesApi((token) => (token.startsWith('token-') ? token.slice('token-'.length) : null));
});
afterAll(async () => {
  await api.close();
  dir.cleanup();
});
const running: TradesService[] = [];
afterEach(() => {
  for (const service of running.splice(0)) service.stop();
  api.offline = false;
  api.hold = null;
});

let nextTrade = 0;
/** `count` new trades (unique ids), from `overrides`. */
const trades = (count: number, overrides: Partial<Trade> = {}): Omit<Trade, 'feedSeq'>[] =>
  Array.from({ length: count }, () => {
    const n = ++nextTrade;
    const { feedSeq: _seq, ...rest } = trade(n, { id: `trade-${n}`, clientOrderId: `order-${n}`, ...overrides });
    return rest;
  });

const signedIn = (userId: string) => signedInState(userId, { sessionId: `s-${userId}` });

/** Main's trades service on a data folder of its own, with a session, an event stream and the renderer's side played by the test. */
function desktop(dataDir = tempDir('plutarc-trades-app-').path) {
  const events = new EventHub();
  let user: string | null = null;
  const sessionEnd = new Set<(end: SessionEnd) => void>();
  const session: SessionAccess = {
    current: () => Promise.resolve(user ? { userId: user, sessionId: `s-${user}` } : null),
    withSession: (call) => (user ? call(`token-${user}`) : Promise.reject(new Error('signed out'))),
    onSessionEnd: (listener) => {
      sessionEnd.add(listener);
      return () => sessionEnd.delete(listener);
    },
  };
  const subscribers: { schema: z.ZodType; listener: (event: never) => void }[] = [];
  const connectListeners: (() => void)[] = [];
  const stream: TradeEventSource = {
    subscribe(schema, listener) {
      const entry = { schema, listener: listener as (event: never) => void };
      subscribers.push(entry);
      return () => subscribers.splice(subscribers.indexOf(entry), 1);
    },
    onConnect(listener) {
      connectListeners.push(listener);
      return () => connectListeners.splice(connectListeners.indexOf(listener), 1);
    },
  };
  const service = new TradesService({
    api: new TradesApi({ baseUrl: api.url, userAgent: 'test', timeoutMs: 5_000 }),
    session,
    stream,
    events,
    dataDir,
    clock: { now: () => new Date() },
  });
  service.start();
  running.push(service);
  const pushed: TradesSyncState[] = [];
  events.on('trades.onChange', (state) => pushed.push(state));
  return {
    service,
    dataDir,
    pushed,
    signIn(userId: string) {
      user = userId;
      events.emit('identity.onState', signedIn(userId));
    },
    signOut() {
      const userId = user;
      user = null;
      for (const listener of sessionEnd) listener({ userId, accountDeleted: false });
      events.emit('identity.onState', { state: 'signedOut', reason: null });
    },
    /** The event stream delivers an event: each subscriber hears it if its schema takes it, as in the real stream. */
    hear(event: AccountEvent) {
      for (const { schema, listener } of [...subscribers]) {
        const parsed = schema.safeParse(event);
        if (parsed.success) listener(parsed.data as never);
      }
    },
    connected() {
      for (const listener of [...connectListeners]) listener();
    },
    /** Waits until the copy says it is current and holds `count` trades. */
    current: (count: number) =>
      waitFor(
        () => {
          try {
            const state = service.syncState();
            return state.state === 'current' && state.trades === count && state;
          } catch {
            return false;
          }
        },
        { what: `a current copy of ${count} trades` },
      ),
  };
}

const fill = (botId: string): AccountEvent => ({
  type: 'bot.report',
  botId,
  instanceId: 'inst-1',
  seq: 1,
  report: { kind: 'fill', time: 1, clientOrderId: 'o', price: 1, quantity: 1, fee: 0 },
  at: new Date().toISOString(),
});

const newest = { field: 'time', direction: 'desc' } as const;

describe('the local copy of the account’s trades', () => {
  it('syncs from nothing at sign-in, page by page, into a file only the user can read', async () => {
    api.add('u-first', trades(2_345));
    const app = desktop();
    const asked = api.sinceAsked.length;
    app.signIn('u-first');
    const state = await app.current(2_345);
    expect(state.lastSyncedAt).not.toBeNull();
    // Three pages of at most 1000: from 0, then from where each page ended.
    expect(api.sinceAsked.slice(asked)).toEqual([0, expect.any(Number), expect.any(Number)]);
    const file = tradesCopyFile(app.dataDir, 'u-first');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(file)).mode & 0o777).toBe(0o700);
    expect(file).not.toContain('u-first');
    expect(app.pushed.at(-1)).toMatchObject({ state: 'current', trades: 2_345 });
    expect(app.service.window({ filter: {}, sort: newest, offset: 0, limit: 10 }).total).toBe(2_345);
  });

  it('catches up from its cursor on a fill, at a stream connect, and removes a deleted bot’s trades', async () => {
    api.add('u-inc', trades(5, { botId: 'keep', botName: 'Keeper' }));
    api.add('u-inc', trades(3, { botId: 'gone', botName: 'Goner' }));
    const app = desktop();
    app.signIn('u-inc');
    await app.current(8);
    const cursor = api.sinceAsked.at(-1)!;

    api.add('u-inc', trades(2, { botId: 'keep', botName: 'Keeper' }));
    const asked = api.sinceAsked.length;
    app.hear(fill('keep'));
    await app.current(10);
    // From the stored cursor, not from nothing.
    expect(api.sinceAsked[asked]).toBeGreaterThan(cursor);

    api.add('u-inc', trades(1, { botId: 'keep', botName: 'Keeper' }));
    app.connected();
    await app.current(11);

    // A report that is not a fill changes no trade: only the "sync now" asks.
    const beforeEquity = api.sinceAsked.length;
    app.hear({ ...fill('keep'), report: { kind: 'equity', time: 2, equity: 100, balance: 100 } } as AccountEvent);
    await app.service.syncNow();
    expect(api.sinceAsked.length - beforeEquity).toBe(1);

    api.removeBot('u-inc', 'gone');
    app.hear({ type: 'bot.deleted', botId: 'gone', at: new Date().toISOString() });
    await app.current(8);
    expect(app.service.facets().bots).toEqual([{ id: 'keep', name: 'Keeper' }]);
    expect(app.service.window({ filter: { botId: 'gone' }, sort: newest, offset: 0, limit: 10 }).total).toBe(0);
  });

  it('keeps answering offline, says so, and catches up when the API is back', async () => {
    api.add('u-offline', trades(4));
    const app = desktop();
    app.signIn('u-offline');
    await app.current(4);
    api.add('u-offline', trades(2));
    api.offline = true;
    expect(await app.service.syncNow()).toMatchObject({ state: 'offline', trades: 4 });
    expect(app.service.window({ filter: {}, sort: newest, offset: 0, limit: 100 }).trades).toHaveLength(4);
    expect((await app.service.summary({}))[0]!.trades).toBe(4);
    api.offline = false;
    expect(await app.service.syncNow()).toMatchObject({ state: 'current', trades: 6 });
  });

  it('runs one pull at a time and queues at most one more, however many fills arrive meanwhile', async () => {
    api.add('u-busy', trades(3));
    const app = desktop();
    let release = () => {};
    api.hold = new Promise<void>((resolve) => (release = resolve));
    const asked = api.sinceAsked.length;
    app.signIn('u-busy');
    await waitFor(() => app.service.syncState().state === 'syncing', { what: 'the first pull to start' });
    api.add('u-busy', trades(2));
    for (let i = 0; i < 10; i++) app.hear(fill('b1'));
    const done = app.service.syncNow();
    api.hold = null;
    release();
    expect(await done).toMatchObject({ state: 'current', trades: 5 });
    // The held pull, then the one queued behind it: two requests for ten fills and a "sync now".
    expect(api.sinceAsked.length - asked).toBe(2);
  });

  it('answers windows of the filtered, sorted list with its total', async () => {
    api.add('u-window', [
      ...trades(30, { botId: 'a', botName: 'A', symbol: 'BTC/USDT:USDT', side: 'buy' }),
      ...trades(20, { botId: 'b', botName: 'B', symbol: 'ETH/USDT:USDT', side: 'sell', testnet: true }),
    ]);
    const app = desktop();
    app.signIn('u-window');
    await app.current(50);
    const filter = { symbol: 'ETH/USDT:USDT' };
    const first = app.service.window({ filter, sort: { field: 'time', direction: 'asc' }, offset: 0, limit: 15 });
    const second = app.service.window({ filter, sort: { field: 'time', direction: 'asc' }, offset: 15, limit: 15 });
    expect([first.total, first.trades.length, second.trades.length]).toEqual([20, 15, 5]);
    const times = [...first.trades, ...second.trades].map((t) => t.time);
    expect(times).toEqual([...times].sort((x, y) => x - y));
    expect(new Set([...first.trades, ...second.trades].map((t) => t.id)).size).toBe(20);
    expect(app.service.window({ filter: { testnet: true, side: 'sell' }, sort: newest, offset: 0, limit: 100 }).total).toBe(20);
    expect(app.service.window({ filter: { botId: 'a', side: 'sell' }, sort: newest, offset: 0, limit: 100 }).total).toBe(0);
    expect(app.service.facets()).toEqual({ bots: [{ id: 'a', name: 'A' }, { id: 'b', name: 'B' }], symbols: ['BTC/USDT:USDT', 'ETH/USDT:USDT'] });
  });

  it('opens a trade from the API with its orders, and from the copy without them when the API is out of reach', async () => {
    const [part1, part2] = api.add('u-detail', trades(2, { clientOrderId: 'one-order' }));
    const app = desktop();
    app.signIn('u-detail');
    await app.current(2);
    const online = await app.service.detail(part1!.id);
    expect(online.orders).toHaveLength(1);
    expect(online.fills.map((t) => t.id)).toEqual([part1!.id, part2!.id]);
    api.offline = true;
    const offline = await app.service.detail(part2!.id);
    expect(offline).toEqual({ trade: part2, orders: [], fills: [part1, part2] });
    await expect(app.service.detail('no-such-trade')).rejects.toMatchObject({ code: 'trade_not_found' });
  });

  it('keeps each account’s copy to itself, and erases one without touching the other', async () => {
    api.add('u-alice', trades(3, { botId: 'alice-bot' }));
    api.add('u-bob', trades(2, { botId: 'bob-bot' }));
    const app = desktop();
    app.signIn('u-alice');
    await app.current(3);
    app.signOut();
    expect(() => app.service.window({ filter: {}, sort: newest, offset: 0, limit: 10 })).toThrow(expect.objectContaining({ code: 'not_signed_in' }));
    app.signIn('u-bob');
    await app.current(2);
    expect(app.service.facets().bots.map((b) => b.id)).toEqual(['bob-bot']);

    const alice = tradesCopyFile(app.dataDir, 'u-alice');
    const bob = tradesCopyFile(app.dataDir, 'u-bob');
    expect(alice).not.toBe(bob);
    await app.service.erase('u-alice');
    for (const path of [alice, `${alice}-wal`, `${alice}-shm`, dirname(alice)]) expect(existsSync(path)).toBe(false);
    expect(app.service.syncState()).toMatchObject({ trades: 2 });

    // Bob's open copy erased: closed first, every file gone, and nothing answers until a sign-in opens one again.
    await app.service.erase('u-bob');
    for (const path of [bob, `${bob}-wal`, `${bob}-shm`]) expect(existsSync(path)).toBe(false);
    expect(() => app.service.syncState()).toThrow(expect.objectContaining({ code: 'not_signed_in' }));
  });
});
