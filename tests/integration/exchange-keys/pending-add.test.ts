// "The secret crosses once": when the API wants "Confirm it's you" before a key is stored, main keeps the
// checked key and the renderer resumes it with an opaque pending id. Real API, broker and exchange
// simulator; main's services with a clock the test moves.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatchInvoke } from '../../../src-main/services/dispatch.ts';
import { createMainServices, type MainServices } from '../../../src-main/services/main-services.ts';
import type { Cancellable, Clock } from '../../../src-main/services/ports.ts';
import { PENDING_ADD_SECONDS } from '../../../src-shared/ipc-exchange-keys.ts';
import type { InvokeChannel, InvokeInput, InvokeOutput } from '../../../src-shared/ipc.ts';
import type { Result } from '../../../src-shared/result.ts';
import { GOOD_PASSWORD, uniqueEmail } from '../../support/identity.ts';
import { addInput, startKeysWorld, type KeysWorld } from './harness.ts';

/** A clock whose time moves only when the test says; timers fire as it passes them. */
class ManualClock implements Clock {
  private at = Date.parse('2026-11-30T12:00:00Z');
  private timers: { due: number; fn: () => void; live: boolean }[] = [];

  now = () => new Date(this.at);

  setTimeout(fn: () => void, ms: number): Cancellable {
    const timer = { due: this.at + ms, fn, live: true };
    this.timers.push(timer);
    return { cancel: () => (timer.live = false) };
  }

  setInterval(): Cancellable {
    return { cancel: () => {} };
  }

  advance(ms: number): void {
    this.at += ms;
    const due = this.timers.filter((t) => t.live && t.due <= this.at);
    this.timers = this.timers.filter((t) => !due.includes(t));
    for (const timer of due) timer.fn();
  }
}

let world: KeysWorld;
beforeAll(async () => {
  world = await startKeysWorld();
});
afterAll(() => world.close());

interface App {
  services: MainServices;
  clock: ManualClock;
  /** Every IPC payload the renderer sent, as it would cross the bridge. */
  sent: string[];
  invoke<C extends InvokeChannel>(channel: C, input?: InvokeInput<C>): Promise<Result<InvokeOutput<C>>>;
}

const apps: App[] = [];
afterAll(() => Promise.all(apps.map((app) => app.services.stop())));

function startApp(): App {
  const clock = new ManualClock();
  const services = createMainServices({ apiUrl: world.proxy.url, host: 'browser', version: '0.0.0-test', clock, exchangeKeys: world.settings });
  services.start();
  const sent: string[] = [];
  const app: App = {
    services,
    clock,
    sent,
    invoke: (channel, input) => {
      sent.push(JSON.stringify({ channel, input }));
      return dispatchInvoke(services.handlers, channel, input) as never;
    },
  };
  apps.push(app);
  return app;
}

async function signUp(app: App, email = uniqueEmail()): Promise<string> {
  const state = await app.invoke('identity.register', { email, password: GOOD_PASSWORD });
  if (!state.ok || state.value.state !== 'signedIn') throw new Error(`sign-up failed: ${JSON.stringify(state)}`);
  return email;
}

async function reverify(app: App): Promise<void> {
  const state = await app.invoke('identity.reverifyPassword', { password: GOOD_PASSWORD });
  if (!state.ok) throw new Error(`reverification failed: ${JSON.stringify(state)}`);
}

/** Adds a key without a reverified session: main checks it and holds it. */
async function held(app: App, key = world.exchangeKey({ exchange: 'bybit' })) {
  const outcome = await app.invoke('exchangeKeys.add', addInput('bybit', key));
  if (!outcome.ok || outcome.value.state !== 'reverificationRequired') throw new Error(`expected a held key, got ${JSON.stringify(outcome)}`);
  return { key, pendingId: outcome.value.pendingId };
}

const keyCount = async () => (await world.api.app.database.db.selectFrom('exchange_keys').select('id').execute()).length;

describe('a key added before "Confirm it\'s you"', () => {
  it('is held after the exchange check and stored on resume, with only the pending id crossing the second time', async () => {
    const app = startApp();
    await signUp(app);
    const before = await keyCount();
    const { key, pendingId } = await held(app);
    expect(await keyCount(), 'nothing stored while it waits').toBe(before);

    // The exchange is not asked again: the key could even be gone there by now.
    world.sim.keys.revoke(key.apiKey);
    await reverify(app);
    const sentBefore = app.sent.length;
    const resumed = await app.invoke('exchangeKeys.resumeAdd', { pendingId });
    if (!resumed.ok || resumed.value.state !== 'added') throw new Error(`resume failed: ${JSON.stringify(resumed)}`);
    expect(resumed.value.key).toMatchObject({ exchange: 'bybit', maskedKey: `${key.apiKey.slice(0, 4)}…${key.apiKey.slice(-4)}` });
    expect(await keyCount()).toBe(before + 1);

    const second = app.sent.slice(sentBefore).join('\n');
    expect(second).not.toContain(key.secret);
    expect(second).not.toContain(key.apiKey);
    // The first call carried the secret; the renderer never had to send it again.
    expect(app.sent.filter((payload) => payload.includes(key.secret))).toHaveLength(1);
  });

  it('is refused when resumed twice: the held key is dropped once used', async () => {
    const app = startApp();
    await signUp(app);
    const { pendingId } = await held(app);
    await reverify(app);
    expect((await app.invoke('exchangeKeys.resumeAdd', { pendingId })).ok).toBe(true);
    expect(await app.invoke('exchangeKeys.resumeAdd', { pendingId })).toMatchObject({ ok: false, code: 'pending_add_unknown' });
  });

  it('is refused after it expired, and nothing is stored', async () => {
    const app = startApp();
    await signUp(app);
    const before = await keyCount();
    const { pendingId } = await held(app);
    await reverify(app);
    app.clock.advance(PENDING_ADD_SECONDS * 1000 + 1);
    expect(await app.invoke('exchangeKeys.resumeAdd', { pendingId })).toMatchObject({ ok: false, code: 'pending_add_unknown' });
    expect(await keyCount()).toBe(before);
  });

  it('is refused for another session: after signing out and in again, and on another device', async () => {
    const app = startApp();
    const email = await signUp(app);
    const before = await keyCount();
    const { pendingId } = await held(app);
    expect((await app.invoke('identity.signOut')).ok).toBe(true);
    expect((await app.invoke('identity.signIn', { email, password: GOOD_PASSWORD })).ok).toBe(true);
    await reverify(app);
    expect(await app.invoke('exchangeKeys.resumeAdd', { pendingId })).toMatchObject({ ok: false, code: 'pending_add_unknown' });

    const other = startApp();
    await signUp(other);
    const { pendingId: othersId } = await held(other);
    await reverify(app);
    expect(await app.invoke('exchangeKeys.resumeAdd', { pendingId: othersId })).toMatchObject({ ok: false, code: 'pending_add_unknown' });
    expect(await keyCount()).toBe(before);
  });

  it('is forgotten when the user closes "Confirm it\'s you"', async () => {
    const app = startApp();
    await signUp(app);
    const { pendingId } = await held(app);
    expect(await app.invoke('exchangeKeys.discardAdd', { pendingId })).toEqual({ ok: true, value: { discarded: true } });
    await reverify(app);
    expect(await app.invoke('exchangeKeys.resumeAdd', { pendingId })).toMatchObject({ ok: false, code: 'pending_add_unknown' });
  });

  it('refuses a pending id that is not an id, at the contract', async () => {
    const app = startApp();
    expect(await app.invoke('exchangeKeys.resumeAdd', { pendingId: 'x'.repeat(36) })).toMatchObject({ ok: false, code: 'invalid_input' });
  });
});
