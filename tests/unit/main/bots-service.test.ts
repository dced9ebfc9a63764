// Main's live model of the account's bots, with the API's routes and the event stream under the test's hand:
// one fetch per sign-in and then the stream alone, heartbeats that only move forward, a list that raced a change
// fetched again, reports only for watched bots, everything forgotten at sign-out, and refusals in our words.
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { ApiError } from '../../../src-main/services/api-http.ts';
import { BotsService, PNL_REFRESH_MS, type BotsRoutes } from '../../../src-main/services/bots/bots-service.ts';
import { EventHub } from '../../../src-main/services/events/event-hub.ts';
import type { BotsChange, SessionAccess, SessionEnd } from '../../../src-main/services/ports.ts';
import type { BotSummary } from '../../../src-shared/bots.ts';
import type { AccountEvent } from '../../../src-shared/events.ts';
import type { BotsChangeEvent, BotReportEvent } from '../../../src-shared/ipc-bots.ts';
import { botSummary as bot } from '../../support/bot-summary.ts';
import { signedInState } from '../../support/signed-in.ts';


interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
}
const deferred = <T,>(): Deferred<T> => {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
};

const signedIn = (userId: string, sessionId = 's1') => signedInState(userId, { sessionId });

/** Timers the test fires by hand. */
function manualClock() {
  const timers: { ms: number; fn: () => void; cancelled: boolean }[] = [];
  return {
    timers,
    setTimeout(fn: () => void, ms: number) {
      const timer = { ms, fn, cancelled: false };
      timers.push(timer);
      return { cancel: () => void (timer.cancelled = true) };
    },
    fireAll() {
      for (const timer of timers.splice(0)) if (!timer.cancelled) timer.fn();
    },
  };
}

/** A service whose list answers are released by the test, one per fetch. */
function setup(details: Record<string, BotSummary> = {}) {
  const clock = manualClock();
  const lists: Deferred<BotSummary[]>[] = [];
  /** The ids of every bot fetched one by one. */
  const gets: string[] = [];
  const events = new EventHub();
  const streamListeners: { schema: z.ZodType; listener: (event: never) => void }[] = [];
  const connectListeners = new Set<() => void>();
  let signedInAs: string | null = null;
  const sessionEnd = new Set<(end: SessionEnd) => void>();
  const refuse = (error: unknown) => Promise.reject(error);
  const api: BotsRoutes = {
    list: () => {
      const answer = deferred<BotSummary[]>();
      lists.push(answer);
      return answer.promise;
    },
    get: (_token, id) => {
      gets.push(id);
      const summary = details[id];
      return summary ? Promise.resolve({ summary, settings: {} as never, desired: 'running', transitions: [], runs: [], isolationWarnings: [] }) : refuse(new ApiError(404, 'api_error', 'Not Found'));
    },
    create: () => refuse(new ApiError(409, 'bot_key_assigned', '“Binance main” already trades for another bot. Pick another key, or delete that bot first.')),
    update: () => refuse(new Error('not in this test')),
    remove: () => Promise.resolve(),
    deploy: () => refuse(new ApiError(500, 'api_error', 'The plutarc API answered with HTTP 500.')),
    act: () => refuse(new Error('not in this test')),
    history: () => refuse(new Error('not in this test')),
  };
  const session: SessionAccess = {
    current: () => Promise.resolve(signedInAs ? { userId: signedInAs, sessionId: 's1' } : null),
    withSession: (call) => (signedInAs ? call('token') : Promise.reject(new Error('signed out'))),
    onSessionEnd: (listener) => {
      sessionEnd.add(listener);
      return () => sessionEnd.delete(listener);
    },
  };
  const service = new BotsService({
    api,
    session,
    events,
    clock,
    stream: {
      subscribe: (schema, listener) => {
        const entry = { schema, listener: listener as (event: never) => void };
        streamListeners.push(entry);
        return () => streamListeners.splice(streamListeners.indexOf(entry), 1);
      },
      onConnect: (listener) => {
        connectListeners.add(listener);
        return () => connectListeners.delete(listener);
      },
    },
  });
  const toRenderer: BotsChangeEvent[] = [];
  const reports: BotReportEvent[] = [];
  events.on('bots.onChange', (change) => toRenderer.push(change));
  events.on('bots.onReport', (event) => reports.push(event));
  const feed: BotsChange[] = [];
  service.start();
  service.subscribe((change) => feed.push(change));
  return {
    service,
    clock,
    lists,
    gets,
    toRenderer,
    reports,
    feed,
    signIn(userId: string) {
      signedInAs = userId;
      events.emit('identity.onState', signedIn(userId));
    },
    signOut() {
      const userId = signedInAs;
      signedInAs = null;
      for (const listener of sessionEnd) listener({ userId, accountDeleted: false });
      events.emit('identity.onState', { state: 'signedOut', reason: null });
    },
    /** The stream (re)connected. */
    connected() {
      for (const listener of [...connectListeners]) listener();
    },
    /** An event off the stream, through each subscriber's own schema as the real stream does. */
    stream(event: AccountEvent) {
      for (const { schema, listener } of [...streamListeners]) {
        const parsed = schema.safeParse(event);
        if (parsed.success) listener(parsed.data as never);
      }
    },
    async settle() {
      for (let i = 0; i < 20; i++) await Promise.resolve();
    },
  };
}

/** Resolves once `predicate` holds, checking after each settled promise (the fakes answer without I/O). */
async function waitUntil(predicate: () => boolean): Promise<void> {
  for (let turn = 0; turn < 10_000; turn++) {
    if (predicate()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error('never happened');
}

const at = (second: number) => new Date(Date.UTC(2026, 10, 30, 12, 0, second)).toISOString();

describe('BotsService', () => {
  it('fetches the list once at sign-in, then follows the stream alone', async () => {
    const t = setup();
    t.signIn('alice');
    expect(t.lists).toHaveLength(1);
    t.lists[0]!.resolve([bot('a'), bot('b')]);
    expect((await t.service.list()).map((b) => b.id)).toEqual(['a', 'b']);
    expect(t.feed.at(-1)).toEqual({ kind: 'reset', bots: [bot('a'), bot('b')] });

    t.stream({ type: 'bot.state', bot: bot('a', { state: 'deploying' }), from: 'stopped', reason: 'deployed to eu', at: at(1) });
    t.stream({ type: 'bot.state', bot: bot('a', { state: 'online', lastHeartbeatAt: at(2) }), from: 'deploying', reason: null, at: at(2) });
    t.stream({ type: 'bot.deleted', botId: 'b', at: at(3) });
    expect(t.service.current()).toEqual([bot('a', { state: 'online', lastHeartbeatAt: at(2) })]);
    expect(t.feed.slice(-2)).toEqual([
      { kind: 'updated', bot: bot('a', { state: 'online', lastHeartbeatAt: at(2) }), from: 'deploying', reason: null },
      { kind: 'removed', botId: 'b' },
    ]);
    // The renderer heard the same, and nothing was fetched again.
    expect(t.toRenderer.map((c) => c.kind)).toEqual(['reset', 'reset', 'updated', 'updated', 'removed']);
    expect(t.lists).toHaveLength(1);
  });

  it('moves the last heartbeat forward only, and says a heartbeat is no transition', async () => {
    const t = setup();
    t.signIn('alice');
    t.lists[0]!.resolve([bot('a', { state: 'online', lastHeartbeatAt: at(10) })]);
    await t.service.list();
    t.stream({ type: 'bot.heartbeat', botId: 'a', at: at(20) });
    t.stream({ type: 'bot.heartbeat', botId: 'a', at: at(15) });
    t.stream({ type: 'bot.heartbeat', botId: 'unknown', at: at(30) });
    expect(t.service.current()[0]?.lastHeartbeatAt).toBe(at(20));
    expect(t.feed.at(-1)).toEqual({ kind: 'updated', bot: bot('a', { state: 'online', lastHeartbeatAt: at(20) }), from: 'online', reason: null });
    expect(t.feed.filter((c) => c.kind === 'updated')).toHaveLength(1);
  });

  it('fetches again when a bot changed while the list was on its way, so an older list cannot win', async () => {
    const t = setup();
    t.signIn('alice');
    // Published after the API read the list, delivered before the list arrived.
    t.stream({ type: 'bot.state', bot: bot('a', { state: 'deploying' }), from: 'stopped', reason: null, at: at(1) });
    t.lists[0]!.resolve([bot('a', { state: 'stopped' })]);
    await t.settle();
    expect(t.lists).toHaveLength(2);
    t.stream({ type: 'bot.heartbeat', botId: 'a', at: at(5) });
    t.lists[1]!.resolve([bot('a', { state: 'online', lastHeartbeatAt: at(4) })]);
    const bots = await t.service.list();
    expect(bots).toEqual([bot('a', { state: 'online', lastHeartbeatAt: at(5) })]);
  });

  it('fetches the list again when the stream connects, as a change before it listened reached no event', async () => {
    const t = setup();
    t.signIn('alice');
    // The stream connects while the first fetch is out: that list may be older than the stream's start.
    t.connected();
    t.lists[0]!.resolve([bot('a')]);
    await t.settle();
    expect(t.lists).toHaveLength(2);
    t.lists[1]!.resolve([bot('a', { state: 'deploying' })]);
    expect(await t.service.list()).toEqual([bot('a', { state: 'deploying' })]);
    // A reconnection later fetches again; signed out, it does not.
    t.connected();
    expect(t.lists).toHaveLength(3);
    t.lists[2]!.resolve([bot('a', { state: 'online' })]);
    await waitUntil(() => t.service.current()[0]?.state === 'online');
    t.signOut();
    t.connected();
    expect(t.lists).toHaveLength(3);
  });

  it('passes on reports only for the bots a page watches', async () => {
    const t = setup();
    t.signIn('alice');
    t.lists[0]!.resolve([bot('a'), bot('b')]);
    await t.service.list();
    const decision = { kind: 'decision', time: 1, type: 'blocked', side: 'long', quantity: null, price: null, by: 'limit', reason: 'max positions' } as const;
    t.service.watch('a');
    t.service.watch('a');
    t.stream({ type: 'bot.report', botId: 'a', instanceId: 'i1', seq: 1, report: decision, at: at(1) });
    t.stream({ type: 'bot.report', botId: 'b', instanceId: 'i2', seq: 1, report: decision, at: at(1) });
    t.service.unwatch('a');
    t.stream({ type: 'bot.report', botId: 'a', instanceId: 'i1', seq: 2, report: decision, at: at(2) });
    t.service.unwatch('a');
    t.stream({ type: 'bot.report', botId: 'a', instanceId: 'i1', seq: 3, report: decision, at: at(3) });
    expect(t.reports.map((r) => `${r.botId}:${r.seq}`)).toEqual(['a:1', 'a:2']);
  });

  it('forgets every bot and watch at sign-out, and fetches the next user’s own', async () => {
    const t = setup();
    t.signIn('alice');
    t.lists[0]!.resolve([bot('a')]);
    await t.service.list();
    t.service.watch('a');
    t.signOut();
    expect(t.service.current()).toEqual([]);
    expect(t.feed.at(-1)).toEqual({ kind: 'reset', bots: [] });
    // An event for the old account that arrives late changes nothing.
    t.stream({ type: 'bot.state', bot: bot('a', { state: 'online' }), from: 'stopped', reason: null, at: at(1) });
    t.stream({ type: 'bot.report', botId: 'a', instanceId: 'i1', seq: 1, report: { kind: 'equity', time: 1, equity: 1, balance: 1 }, at: at(1) });
    expect(t.service.current()).toEqual([]);
    expect(t.reports).toEqual([]);
    t.signIn('bob');
    expect(t.lists).toHaveLength(2);
    t.lists[1]!.resolve([bot('z')]);
    expect((await t.service.list()).map((b) => b.id)).toEqual(['z']);
  });

  it('fetches a bot’s PnL at once after an equity report, then at most once per interval, taking only the PnL', async () => {
    const pnl = { amount: 12.5, currency: 'USDT' };
    // The fetched summary is older in every other way than what the stream said since.
    const t = setup({ a: bot('a', { state: 'deploying', pnlToday: pnl }) });
    t.signIn('alice');
    t.lists[0]!.resolve([bot('a', { state: 'online' })]);
    await t.service.list();
    const equity = { kind: 'equity', time: 1, equity: 10_012.5, balance: 10_000 } as const;
    // The first equity report: fetched at once, so the card does not say "no equity report" beside an equity chart.
    t.stream({ type: 'bot.report', botId: 'a', instanceId: 'i1', seq: 1, report: equity, at: at(1) });
    await waitUntil(() => t.service.current()[0]?.pnlToday !== null);
    expect(t.service.current()).toEqual([bot('a', { state: 'online', pnlToday: pnl })]);
    expect(t.feed.at(-1)).toMatchObject({ kind: 'updated', from: 'online' });
    const fetchedAtOnce = t.gets.length;
    // Reports within the interval wait for it, and are fetched once when it is over.
    t.stream({ type: 'bot.report', botId: 'a', instanceId: 'i1', seq: 2, report: equity, at: at(2) });
    t.stream({ type: 'bot.report', botId: 'a', instanceId: 'i1', seq: 3, report: equity, at: at(3) });
    expect(t.gets).toHaveLength(fetchedAtOnce);
    expect(t.clock.timers).toHaveLength(1);
    expect(t.clock.timers[0]!.ms).toBe(PNL_REFRESH_MS);
    t.clock.fireAll();
    expect(t.gets).toHaveLength(fetchedAtOnce + 1);
    // That fetch opens the next interval; signing out calls it off.
    t.stream({ type: 'bot.report', botId: 'a', instanceId: 'i1', seq: 4, report: equity, at: at(4) });
    expect(t.clock.timers).toHaveLength(1);
    t.signOut();
    expect(t.clock.timers[0]!.cancelled).toBe(true);
  });

  it('drops a list that arrives after its session ended', async () => {
    const t = setup();
    t.signIn('alice');
    t.signOut();
    t.signIn('bob');
    t.lists[0]!.resolve([bot('alice-bot')]);
    t.lists[1]!.resolve([bot('bob-bot')]);
    expect((await t.service.list()).map((b) => b.id)).toEqual(['bob-bot']);
  });

  it('passes a refusal on with its code and the API’s words, and says so plainly when a bot is gone', async () => {
    const t = setup();
    t.signIn('alice');
    t.lists[0]!.resolve([]);
    await expect(t.service.create({} as never)).rejects.toMatchObject({ code: 'bot_key_assigned', message: expect.stringMatching(/“Binance main” already trades/) });
    await expect(t.service.deploy('a', 'us')).rejects.toMatchObject({ code: 'api_error' });
    // A 404 without a problem body (a proxy's, an older API) is still a missing bot.
    await expect(t.service.get('gone')).rejects.toMatchObject({ code: 'bot_not_found', message: expect.stringMatching(/no longer on your account/) });
  });
});

describe('the bots refusals', () => {
  it('are all codes the renderer knows, so none arrives as a bare api_error', async () => {
    const { BOT_PROBLEMS } = await import('../../../src-shared/bots.ts');
    const { knownErrorCode } = await import('../../../src-shared/errors.ts');
    for (const code of Object.values(BOT_PROBLEMS)) expect(knownErrorCode(code)).toBe(code);
  });
});
