import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../../support/api.ts';
import { eventually, listen } from '../../support/event-stream.ts';
import { call } from '../../support/http.ts';
import { GOOD_PASSWORD, registerUser, reverify, signIn } from '../../support/identity.ts';

describe('the account event stream', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi({ PLUTARC_CEREMONY_STARTS_PER_MINUTE: '1000' });
  });
  afterAll(() => api.close());

  it('tells a device about a new sign-in elsewhere, and ends when that device is signed out', async () => {
    const alice = await registerUser(api.url);
    const stream = listen(api.url, alice.token);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const laptop = await signIn(api.url, alice.email);
    await eventually(() => stream.received.some((r) => r.event.type === 'session.created'));
    expect(stream.received[0]?.event).toMatchObject({ type: 'session.created', sessionId: laptop.body.session.id, method: 'password', ip: '127.0.0.1' });

    const laptopToken = await reverify(api.url, laptop.body.token);
    expect((await call(api.url, 'DELETE', `/v1/me/sessions/${alice.session.id}`, { token: laptopToken })).status).toBe(200);
    await eventually(() => stream.ended());
    expect(stream.received.at(-1)?.event).toMatchObject({ type: 'session.revoked', sessionId: alice.session.id });
    expect((await fetch(`${api.url}/v1/events`, { headers: { authorization: `Bearer ${alice.token}` } })).status).toBe(401);
  });

  it('replays what a device missed when it reconnects with Last-Event-ID', async () => {
    const bob = await registerUser(api.url);
    const first = listen(api.url, bob.token);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await signIn(api.url, bob.email);
    await eventually(() => first.received.length === 1);
    first.stop();
    await first.done;
    await signIn(api.url, bob.email);
    await signIn(api.url, bob.email);
    const resumed = listen(api.url, bob.token, first.received[0]!.id);
    await eventually(() => resumed.received.length === 2);
    expect(resumed.received.map((r) => r.event.type)).toEqual(['session.created', 'session.created']);
    resumed.stop();
  });

  it('never carries another user\'s events', async () => {
    const carol = await registerUser(api.url);
    const dave = await registerUser(api.url);
    const stream = listen(api.url, carol.token);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await signIn(api.url, dave.email);
    await signIn(api.url, carol.email);
    await eventually(() => stream.received.length >= 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(stream.received).toHaveLength(1);
    stream.stop();
  });
});

describe('a session that expires while its stream is open', () => {
  let api: TestApi;
  beforeAll(async () => {
    // Real time, shortened: a desktop session here lasts 3 s unused (last-seen written at most every 1.5 s).
    api = await startTestApi({ PLUTARC_CEREMONY_STARTS_PER_MINUTE: '1000', PLUTARC_DESKTOP_SESSION_IDLE_SECONDS: '3' });
  });
  afterAll(() => api.close());

  it('ends its stream the moment it expires, saying so, and the token stops working', async () => {
    const { token } = await registerUser(api.url);
    const started = Date.now();
    const stream = listen(api.url, token);
    await eventually(() => stream.ended(), 8000);
    const waited = Date.now() - started;
    // Not at the next 20 s heartbeat: at the expiry, give or take the check's own margin.
    expect(waited).toBeGreaterThanOrEqual(2500);
    expect(waited).toBeLessThan(6000);
    expect(stream.received.map((r) => r.event)).toEqual([
      { type: 'session.expired', sessionId: expect.any(String), at: expect.any(String) },
    ]);
    expect(stream.received[0]!.id).toBe('');
    expect((await call(api.url, 'GET', '/v1/me', { token })).body.code).toBe('session_expired');
  });

  it('stays open while the session is in use, and follows its idle expiry as it moves', async () => {
    const { token } = await registerUser(api.url);
    const stream = listen(api.url, token);
    // Used every 300 ms for 4.5 s: well past the first idle expiry, each use moving it on.
    for (let i = 0; i < 15; i++) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect((await call(api.url, 'GET', '/v1/me', { token })).status).toBe(200);
    }
    expect(stream.ended()).toBe(false);
    await eventually(() => stream.ended(), 6000);
    expect(stream.received.map((r) => r.event.type)).toEqual(['session.expired']);
  });

  it('does not end another session of the same user that is still in use', async () => {
    const { email, token } = await registerUser(api.url);
    const other = await signIn(api.url, email, GOOD_PASSWORD, { client: 'desktop' });
    const stream = listen(api.url, other.body.token);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // The first session runs out; the second is kept alive by use, and its stream hears nothing of the first.
    for (let i = 0; i < 15; i++) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect((await call(api.url, 'GET', '/v1/me', { token: other.body.token })).status).toBe(200);
    }
    expect((await call(api.url, 'GET', '/v1/me', { token })).body.code).toBe('session_expired');
    expect(stream.ended()).toBe(false);
    expect(stream.received).toEqual([]);
    stream.stop();
  });
});
