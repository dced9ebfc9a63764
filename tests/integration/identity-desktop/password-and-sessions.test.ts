import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemorySecretStore, systemClock } from '../../../src-main/services/host-defaults.ts';
import type { Clock } from '../../../src-main/services/ports.ts';
import { startTestApi, type TestApi } from '../../support/api.ts';
import { call } from '../../support/http.ts';
import { device, devicePool, failureOf, GOOD_PASSWORD, Relay, uniqueEmail, waitFor } from './harness.ts';

const TOKEN_KEY = 'session-token';

describe('password sign-in and the session on the desktop (real API)', () => {
  let api: TestApi;
  const makeDevice = devicePool();
  const newDevice = (options?: Parameters<typeof device>[1]) => makeDevice(api.url, options);
  beforeAll(async () => {
    api = await startTestApi({ PLUTARC_CEREMONY_STARTS_PER_MINUTE: '1000' });
  });
  afterAll(() => api.close());

  it('registers and is signed in; a restart with the same store restores the session; sign-out clears it', async () => {
    const store = new MemorySecretStore();
    const first = newDevice({ store });
    const email = uniqueEmail();
    const state = await first.identity.register(email, GOOD_PASSWORD);
    expect(state).toMatchObject({ state: 'signedIn', user: { email, hasPassword: true }, session: { current: true, kind: 'desktop', method: 'password' }, tokenStorage: 'memory' });
    expect(first.states.at(-1)).toEqual(state);
    if (state.state !== 'signedIn') throw new Error('not signed in');
    expect(state.session.deviceLabel).toBe('plutarc desktop 0.0.0-test on Linux');
    const token = await store.get(TOKEN_KEY);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    first.identity.stop();

    const restarted = newDevice({ store });
    restarted.identity.start();
    const restored = await restarted.identity.state();
    expect(restored).toMatchObject({ state: 'signedIn', user: { email }, session: { id: state.session.id } });

    expect(await restarted.identity.signOut()).toEqual({ state: 'signedOut', reason: null });
    expect(restarted.states.at(-1)).toEqual({ state: 'signedOut', reason: null });
    expect(await store.get(TOKEN_KEY)).toBeNull();
    expect((await call(api.url, 'GET', '/v1/me', { token: token! })).status).toBe(401);

    const again = newDevice({ store });
    again.identity.start();
    expect(await again.identity.state()).toEqual({ state: 'signedOut', reason: null });
  });

  it('drops a stored session the API has ended, and says why', async () => {
    const store = new MemorySecretStore();
    const a = newDevice({ store });
    await a.identity.register(uniqueEmail(), GOOD_PASSWORD);
    const token = (await store.get(TOKEN_KEY))!;
    a.identity.stop();
    await call(api.url, 'POST', '/v1/auth/sign-out', { token });

    const restarted = newDevice({ store });
    restarted.identity.start();
    expect(await restarted.identity.state()).toEqual({ state: 'signedOut', reason: 'revoked' });
    expect(await store.get(TOKEN_KEY)).toBeNull();
  });

  it('keeps a stored session while the API is out of reach, and restores it once the API answers', async () => {
    const relay = new Relay(new URL(api.url));
    await relay.listen();
    try {
      const store = new MemorySecretStore();
      const first = newDevice({ store });
      const state = await first.identity.register(uniqueEmail(), GOOD_PASSWORD);
      first.identity.stop();
      relay.drop();
      // Retries come after seconds to minutes; here after a moment.
      const hurried: Pick<Clock, 'setTimeout'> = { setTimeout: (fn, ms) => systemClock.setTimeout(fn, Math.min(ms, 200)) };
      const later = makeDevice(relay.url, { store, clock: hurried });
      later.identity.start();
      expect(await later.identity.state()).toEqual({ state: 'signedOut', reason: null });
      expect(await store.get(TOKEN_KEY)).not.toBeNull();
      expect(later.logs.join('\n')).toMatch(/could not check the stored session \(api_unreachable\)/);
      relay.restore();
      await waitFor(() => later.states.at(-1)?.state === 'signedIn', 'the restored session');
      expect(later.states.at(-1)).toMatchObject({ session: { id: state.state === 'signedIn' ? state.session.id : '' } });
    } finally {
      await relay.close();
    }
  });

  it('gives a wrong password and an unknown email the same code and words', async () => {
    const email = uniqueEmail();
    await newDevice().identity.register(email, GOOD_PASSWORD);
    const wrongPassword = await failureOf(newDevice().identity.signIn(email, `${GOOD_PASSWORD} but wrong`));
    const unknownEmail = await failureOf(newDevice().identity.signIn(uniqueEmail('nobody'), GOOD_PASSWORD));
    expect(wrongPassword.code).toBe('invalid_credentials');
    expect([unknownEmail.code, unknownEmail.message]).toEqual([wrongPassword.code, wrongPassword.message]);
  });

  it('once the free wrong passwords are used up, says how long to wait as a number, not only in words', async () => {
    const email = uniqueEmail();
    await newDevice().identity.register(email, GOOD_PASSWORD);
    const stranger = newDevice();
    for (let i = 0; i < 5; i++) expect((await failureOf(stranger.identity.signIn(email, `wrong guess ${i}`))).code).toBe('invalid_credentials');
    const waiting = await failureOf(stranger.identity.signIn(email, GOOD_PASSWORD));
    expect(waiting.code).toBe('too_many_attempts');
    expect(waiting.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(waiting.message).toBe(`Too many attempts. Try again in ${waiting.retryAfterSeconds} s.`);
  });

  it('refuses a weak password with the reasons, and stays signed out', async () => {
    const d = newDevice();
    const email = uniqueEmail();
    const error = await failureOf(d.identity.register(email, 'short'));
    expect(error.code).toBe('weak_password');
    expect(error.message).toMatch(/at least 15 characters/);
    const containsEmail = await failureOf(d.identity.register(email, `${email} is my password`));
    expect(containsEmail.message).toMatch(/email/i);
    expect(await d.identity.state()).toEqual({ state: 'signedOut', reason: null });
  });

  it('reverifies with the password: the token rotates (the old one is dead) and a sensitive action then works', async () => {
    const email = uniqueEmail();
    const a = newDevice();
    await a.identity.register(email, GOOD_PASSWORD);
    const b = newDevice();
    await b.identity.signIn(email, GOOD_PASSWORD);

    const refused = await failureOf(a.identity.revokeOtherSessions());
    expect(refused.code).toBe('reverification_required');
    expect(await a.identity.state()).toMatchObject({ state: 'signedIn' });

    const wrong = await failureOf(a.identity.reverifyWithPassword('not my password at all'));
    expect(wrong.code).toBe('wrong_password');

    const before = (await a.store.get(TOKEN_KEY))!;
    const reverified = await a.identity.reverifyWithPassword(GOOD_PASSWORD);
    expect(reverified).toMatchObject({ state: 'signedIn' });
    if (reverified.state !== 'signedIn') throw new Error('not signed in');
    expect(Date.parse(reverified.reverifiedUntil ?? '')).toBeGreaterThan(Date.now());
    const after = (await a.store.get(TOKEN_KEY))!;
    expect(after).not.toBe(before);
    expect((await call(api.url, 'GET', '/v1/me', { token: before })).status).toBe(401);

    const remaining = await a.identity.revokeOtherSessions();
    expect(remaining.map((s) => s.id)).toEqual([reverified.session.id]);
    expect(await a.identity.state()).toMatchObject({ state: 'signedIn' });
    await waitFor(() => b.states.at(-1)?.state === 'signedOut', 'device B to be signed out');
    expect(b.states.at(-1)).toEqual({ state: 'signedOut', reason: 'revoked' });
  });

  it('changes the password (after reverifying) and refuses to remove the only way to sign in', async () => {
    const email = uniqueEmail();
    const a = newDevice();
    await a.identity.register(email, GOOD_PASSWORD);
    const next = 'lantern orchard copper whistle';
    expect((await failureOf(a.identity.changePassword({ currentPassword: GOOD_PASSWORD, newPassword: next, signOutOtherSessions: false }))).code).toBe(
      'reverification_required',
    );
    await newDevice().identity.signIn(email, GOOD_PASSWORD);
    await a.identity.reverifyWithPassword(GOOD_PASSWORD);
    expect((await failureOf(a.identity.changePassword({ currentPassword: GOOD_PASSWORD, newPassword: 'short', signOutOtherSessions: true }))).code).toBe(
      'weak_password',
    );
    expect(await a.identity.changePassword({ currentPassword: GOOD_PASSWORD, newPassword: next, signOutOtherSessions: true })).toEqual({ signedOutSessions: 1 });
    expect(await newDevice().identity.signIn(email, next)).toMatchObject({ state: 'signedIn' });

    const last = await failureOf(a.identity.removePassword());
    expect(last.code).toBe('last_sign_in_method');
    expect(last.message).toMatch(/passkey/);
  });

  it('lists sessions; revoking this device’s own session signs it out', async () => {
    const email = uniqueEmail();
    const a = newDevice();
    const state = await a.identity.register(email, GOOD_PASSWORD);
    await newDevice().identity.signIn(email, GOOD_PASSWORD);
    const sessions = await a.identity.listSessions();
    expect(sessions).toHaveLength(2);
    expect(sessions.filter((s) => s.current).map((s) => s.id)).toEqual([state.state === 'signedIn' ? state.session.id : '']);
    await a.identity.reverifyWithPassword(GOOD_PASSWORD);
    expect(await a.identity.revokeSession(state.state === 'signedIn' ? state.session.id : '')).toEqual([]);
    expect(await a.identity.state()).toEqual({ state: 'signedOut', reason: null });
    expect(await a.store.get(TOKEN_KEY)).toBeNull();
    expect((await failureOf(a.identity.listSessions())).code).toBe('not_signed_in');
  });

  it('cannot revoke another user’s session: a clear error, and that session lives on', async () => {
    const a = newDevice();
    await a.identity.register(uniqueEmail('alice'), GOOD_PASSWORD);
    const b = newDevice();
    const bState = await b.identity.register(uniqueEmail('bob'), GOOD_PASSWORD);
    if (bState.state !== 'signedIn') throw new Error('not signed in');
    await a.identity.reverifyWithPassword(GOOD_PASSWORD);
    const error = await failureOf(a.identity.revokeSession(bState.session.id));
    expect(error.code).toBe('session_not_found');
    expect(error.message).toBe('That device is already signed out.');
    expect(await b.identity.listSessions()).toHaveLength(1);
    expect(await b.identity.state()).toMatchObject({ state: 'signedIn' });
    expect(await a.identity.state()).toMatchObject({ state: 'signedIn' });
  });

  it('refuses a second sign-in while signed in', async () => {
    const a = newDevice();
    const email = uniqueEmail();
    await a.identity.register(email, GOOD_PASSWORD);
    expect((await failureOf(a.identity.signIn(email, GOOD_PASSWORD))).code).toBe('already_signed_in');
  });
});

describe('a session that expires while the app runs (real API, moved clock)', () => {
  let api: TestApi;
  let now = new Date();
  beforeAll(async () => {
    api = await startTestApi({}, () => {}, { now: () => now });
  });
  afterAll(() => api.close());

  it('a 401 on any call signs the app out with the reason, and forgets the token', async () => {
    now = new Date();
    const a = device(api.url);
    await a.identity.register(uniqueEmail(), GOOD_PASSWORD);
    now = new Date(Date.now() + 31 * 24 * 3600_000);
    const error = await failureOf(a.identity.listPasskeys());
    expect(error.code).toBe('session_expired');
    expect(error.message).toMatch(/expired/);
    expect(a.states.at(-1)).toEqual({ state: 'signedOut', reason: 'expired' });
    expect(await a.store.get(TOKEN_KEY)).toBeNull();
    a.identity.stop();
  });
});
