// The bots feed the tray reads (main's bots service) against the real bots API: the list at sign-in, changes
// from the stream, the list again whenever the stream (re)connects (a bot that changed while nothing listened
// is in the list only), pause and resume through the API's routes, and nothing kept after sign-out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import type { BotDetail } from '../../../src-shared/bots.ts';
import type { AccountEvent } from '../../../src-shared/events.ts';
import type { IdentityState } from '../../../src-shared/ipc-identity.ts';
import { ApiHttp } from '../../../src-main/services/api-http.ts';
import type { BotsChange, SessionAccess } from '../../../src-main/services/ports.ts';
import { BotsApi } from '../../../src-main/services/bots/bots-api.ts';
import { BotsService } from '../../../src-main/services/bots/bots-service.ts';
import { EventHub } from '../../../src-main/services/events/event-hub.ts';
import { addKey, asUser, deployWithInstance, heartbeat, settings, startBotsWorld, type BotsWorld, type Trader } from '../bots/harness.ts';
import { registerUser, reverify } from '../../support/identity.ts';
import { waitFor } from '../../support/wait.ts';
import { signedInState } from '../../support/signed-in.ts';

/** The account's stream, driven by the test: what it hears and when it says it is connected. */
class TestStream {
  subscribers = new Set<{ schema: z.ZodType; listener: (event: never) => void }>();
  connectListeners = new Set<() => void>();
  subscribe<S extends z.ZodType>(schema: S, listener: (event: z.output<S>) => void) {
    const subscriber = { schema, listener: listener as (event: never) => void };
    this.subscribers.add(subscriber);
    return () => void this.subscribers.delete(subscriber);
  }
  onConnect(listener: () => void) {
    this.connectListeners.add(listener);
    return () => void this.connectListeners.delete(listener);
  }
  connected() {
    for (const listener of this.connectListeners) listener();
  }
  send(event: AccountEvent) {
    for (const { schema, listener } of this.subscribers) {
      const parsed = schema.safeParse(event);
      if (parsed.success) listener(parsed.data as never);
    }
  }
}

let world: BotsWorld;
let trader: Trader;

beforeAll(async () => {
  world = await startBotsWorld('sqlite');
  const grant = await registerUser(world.api.url);
  trader = { userId: grant.user.id, token: await reverify(world.api.url, grant.token) };
}, 60_000);

afterAll(async () => {
  await world?.close();
});

function feedFor(token: string) {
  const session: SessionAccess = {
    current: async () => ({ userId: trader.userId, sessionId: 's1' }),
    withSession: (call) => call(token),
    onSessionEnd: () => () => undefined,
  };
  const stream = new TestStream();
  const events = new EventHub();
  const feed = new BotsService({ api: new BotsApi(new ApiHttp({ baseUrl: world.api.url, userAgent: 'plutarc-test' })), session, stream, events });
  feed.start();
  const changes: BotsChange[] = [];
  feed.subscribe((change) => changes.push(change));
  const identityChanged = (state: IdentityState) => events.emit('identity.onState', state);
  return { feed, stream, changes, identityChanged };
}

const signedIn = signedInState('u1', { sessionId: 's1', email: 'trader@example.com' });

describe('the bots feed', () => {
  it('lists at sign-in, again when the stream connects, pauses and resumes through the API, and forgets at sign-out', async () => {
    const create = async (name: string) =>
      (await asUser<BotDetail>(world.api, trader, 'POST', '/v1/bots', settings(await addKey(world.api, trader.userId), { name }))).body.summary.id;
    const first = await create('First bot');
    const { feed, stream, changes, identityChanged } = feedFor(trader.token);
    identityChanged(signedIn);
    await waitFor(() => feed.current().length === 1, { what: 'the list at sign-in' });
    expect(feed.current()).toMatchObject([{ id: first, name: 'First bot', state: 'stopped' }]);

    // Made while the stream was not yet listening: the stream never says so, the list does.
    const second = await create('Second bot');
    stream.connected();
    await waitFor(() => feed.current().length === 2, { what: 'the list when the stream connected' });
    expect(changes.filter((change) => change.kind === 'reset').at(-1)).toMatchObject({ kind: 'reset', bots: expect.arrayContaining([expect.objectContaining({ id: second })]) });

    const instance = await deployWithInstance(world, trader, first);
    await heartbeat(world.api, instance.token, 'running');
    await feed.pause(first);
    expect((await heartbeat(world.api, instance.token, 'running')).body).toEqual({ desired: 'paused' });
    await feed.resume(first);
    expect((await heartbeat(world.api, instance.token, 'paused')).body).toEqual({ desired: 'running' });

    identityChanged({ state: 'signedOut', reason: null });
    expect(feed.current()).toEqual([]);
    expect(changes.at(-1)).toEqual({ kind: 'reset', bots: [] });
    feed.stop();
  }, 60_000);

  it('ends with what the API holds when a bot changed while the list was on its way', async () => {
    const gone = (await asUser<BotDetail>(world.api, trader, 'POST', '/v1/bots', settings(await addKey(world.api, trader.userId), { name: 'Third bot' }))).body.summary.id;
    const before = (await asUser<{ bots: { id: string }[] }>(world.api, trader, 'GET', '/v1/bots')).body.bots.map((bot) => bot.id);
    const { feed, stream, identityChanged } = feedFor(trader.token);
    identityChanged(signedIn);
    // The list is on its way when a bot is deleted and the stream says so: the list may or may not have had it.
    expect((await asUser(world.api, trader, 'DELETE', `/v1/bots/${gone}`)).status).toBe(204);
    stream.send({ type: 'bot.deleted', botId: gone, at: new Date().toISOString() });
    const kept = before.filter((id) => id !== gone).sort();
    await waitFor(() => JSON.stringify(feed.current().map((bot) => bot.id).sort()) === JSON.stringify(kept), { what: 'every bot but the deleted one' });
    feed.stop();
  }, 60_000);
});
