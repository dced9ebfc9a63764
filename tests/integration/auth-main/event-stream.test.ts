import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../../support/api.ts';
import { devicePool, GOOD_PASSWORD, Relay, uniqueEmail, waitFor } from './harness.ts';

describe('the account event stream on the desktop (real API)', () => {
  let api: TestApi;
  const makeDevice = devicePool();
  const newDevice = (url = api.url) => makeDevice(url);
  beforeAll(async () => {
    api = await startTestApi({ PLUTARC_CEREMONY_STARTS_PER_MINUTE: '1000' });
  });
  afterAll(() => api.close());

  it('signs this device out within moments when another device revokes its session', async () => {
    const email = uniqueEmail();
    const a = newDevice();
    const aState = await a.identity.register(email, GOOD_PASSWORD);
    if (aState.state !== 'signedIn') throw new Error('not signed in');
    const b = newDevice();
    await b.identity.signIn(email, GOOD_PASSWORD);
    await b.identity.reverifyWithPassword(GOOD_PASSWORD);
    // Let A's stream connect before B acts (it opens right after sign-in).
    await new Promise((resolve) => setTimeout(resolve, 200));

    const started = Date.now();
    await b.identity.revokeSession(aState.session.id);
    await waitFor(() => a.states.at(-1)?.state === 'signedOut', 'device A to hear it was signed out');
    expect(Date.now() - started).toBeLessThan(2000);
    expect(a.states.at(-1)).toEqual({ state: 'signedOut', reason: 'revoked' });
    expect(await a.store.get('session-token')).toBeNull();
    expect(await b.identity.state()).toMatchObject({ state: 'signedIn' });
  });

  it('tells this device about a new sign-in elsewhere, not about its own', async () => {
    const email = uniqueEmail();
    const a = newDevice();
    await a.identity.register(email, GOOD_PASSWORD);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const b = newDevice();
    const bState = await b.identity.signIn(email, GOOD_PASSWORD);
    if (bState.state !== 'signedIn') throw new Error('not signed in');
    const notice = await waitFor(() => a.notices[0], 'a notice on device A');
    expect(notice).toMatchObject({ id: `session.created:${bState.session.id}`, level: 'warning', title: 'New sign-in' });
    expect(notice.body).toContain('New sign-in to your account: plutarc desktop 0.0.0-test on Linux from 127.0.0.1');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(a.notices).toHaveLength(1);
    expect(b.notices).toHaveLength(0);
  });

  it('stops listening on sign-out', async () => {
    const email = uniqueEmail();
    const a = newDevice();
    await a.identity.register(email, GOOD_PASSWORD);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await a.identity.signOut();
    await newDevice().identity.signIn(email, GOOD_PASSWORD);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(a.notices).toEqual([]);
  });

  it('reconnects after a dropped connection and gets what it missed (Last-Event-ID)', async () => {
    const relay = new Relay(new URL(api.url));
    await relay.listen();
    try {
      const email = uniqueEmail();
      const a = newDevice(relay.url);
      await a.identity.register(email, GOOD_PASSWORD);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await newDevice().identity.signIn(email, GOOD_PASSWORD);
      await waitFor(() => a.notices.length === 1, 'the first notice');

      relay.drop();
      const c = newDevice();
      const cState = await c.identity.signIn(email, GOOD_PASSWORD);
      if (cState.state !== 'signedIn') throw new Error('not signed in');
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(a.notices).toHaveLength(1);
      relay.restore();

      const missed = await waitFor(() => a.notices[1], 'the notice published while the connection was down');
      expect(missed.id).toBe(`session.created:${cState.session.id}`);
      expect(a.logs.some((line) => line.includes('event stream dropped'))).toBe(true);
      expect(await a.identity.state()).toMatchObject({ state: 'signedIn' });
    } finally {
      await relay.close();
    }
  });

  it('after a reverification rotates the token, reconnects with the new one (the old one would sign it out)', async () => {
    const relay = new Relay(new URL(api.url));
    await relay.listen();
    try {
      const email = uniqueEmail();
      const a = newDevice(relay.url);
      await a.identity.register(email, GOOD_PASSWORD);
      await a.identity.reverifyWithPassword(GOOD_PASSWORD);
      await new Promise((resolve) => setTimeout(resolve, 200));
      relay.drop();
      await new Promise((resolve) => setTimeout(resolve, 100));
      relay.restore();
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await newDevice().identity.signIn(email, GOOD_PASSWORD);
      await waitFor(() => a.notices.length === 1, 'a notice after the token rotated');
      expect(await a.identity.state()).toMatchObject({ state: 'signedIn' });
    } finally {
      await relay.close();
    }
  });
});

describe('a desktop session that runs out while the app is open (real API, 2 s sessions)', () => {
  let api: TestApi;
  const makeDevice = devicePool();
  beforeAll(async () => {
    api = await startTestApi({ PLUTARC_CEREMONY_STARTS_PER_MINUTE: '1000', PLUTARC_DESKTOP_SESSION_IDLE_SECONDS: '2' });
  });
  afterAll(() => api.close());

  it('signs the device out the moment it expires, says why, and forgets the token', async () => {
    // Reconnecting would take 10 s here: a sign-out within moments can only come from the event.
    const a = makeDevice(api.url, { stream: { initialBackoffMs: 10_000, maxBackoffMs: 10_000 } });
    const started = Date.now();
    await a.identity.register(uniqueEmail(), GOOD_PASSWORD);
    await waitFor(() => a.states.at(-1)?.state === 'signedOut', 'the device to be signed out');
    expect(Date.now() - started).toBeLessThan(4500);
    expect(a.states.at(-1)).toEqual({ state: 'signedOut', reason: 'expired' });
    expect(await a.store.get('session-token')).toBeNull();
    expect(a.logs.some((line) => line.includes('event stream dropped'))).toBe(false);
  });
});
