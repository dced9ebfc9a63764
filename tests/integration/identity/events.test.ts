import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../../support/api.ts';
import { eventually, listen, sessionIdOf } from '../../support/event-stream.ts';
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
    await stream.opened;
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
    await first.opened;
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
    await stream.opened;
    await signIn(api.url, dave.email);
    const laptop = await signIn(api.url, carol.email);
    // Events go out in order: once Carol's sign-in, published after Dave's, has arrived, Dave's would have too.
    await eventually(() => stream.received.some((r) => sessionIdOf(r.event) === laptop.body.session.id));
    expect(stream.received.map((r) => sessionIdOf(r.event))).toEqual([laptop.body.session.id]);
    stream.stop();
  });
});

/** The API's heartbeat on an open stream, at which it also checks the session. */
const HEARTBEAT_MS = 20_000;

describe('a session that expires while its stream is open', () => {
  let api: TestApi;
  beforeAll(async () => {
    // Real time, shortened: a desktop session here lasts 3 s unused (last-seen written at most every 1.5 s).
    api = await startTestApi({ PLUTARC_CEREMONY_STARTS_PER_MINUTE: '1000', PLUTARC_DESKTOP_SESSION_IDLE_SECONDS: '3' });
  });
  afterAll(() => api.close());

  /**
   * Uses the session every 300 ms for 4.5 s, well past its first idle expiry, each use moving it on. The
   * pauses are the passing of time this test is about, not waits for something to happen.
   */
  const keepUsing = async (token: string) => {
    for (let i = 0; i < 15; i++) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect((await call(api.url, 'GET', '/v1/me', { token })).status).toBe(200);
    }
  };

  it('ends its stream the moment it expires, saying so, and the token stops working', async () => {
    const { token, session } = await registerUser(api.url);
    const started = Date.now();
    const stream = listen(api.url, token);
    await stream.done;
    // At the expiry (3 s), not at the next heartbeat (20 s): a margin no busy machine closes.
    expect(Date.now() - started).toBeLessThan(HEARTBEAT_MS);
    expect(stream.received.map((r) => r.event)).toEqual([{ type: 'session.expired', sessionId: session.id, at: expect.any(String) }]);
    // Not before it: the server's own clock says when the session ran out and when the stream said so.
    expect(Date.parse(stream.received[0]!.event.at)).toBeGreaterThanOrEqual(Date.parse(session.expiresAt));
    expect(stream.received[0]!.id).toBe('');
    expect((await call(api.url, 'GET', '/v1/me', { token })).body.code).toBe('session_expired');
  });

  it('stays open while the session is in use, and follows its idle expiry as it moves', async () => {
    const { email, token } = await registerUser(api.url);
    const stream = listen(api.url, token);
    await stream.opened;
    await keepUsing(token);
    // Still open after the first idle expiry: an event published now reaches it.
    const phone = await signIn(api.url, email);
    await eventually(() => stream.received.some((r) => sessionIdOf(r.event) === phone.body.session.id));
    expect(stream.ended()).toBe(false);
    await stream.done;
    expect(stream.received.map((r) => r.event.type)).toEqual(['session.created', 'session.expired']);
  });

  it('does not end another session of the same user that is still in use', async () => {
    const { email, token } = await registerUser(api.url);
    const other = await signIn(api.url, email, GOOD_PASSWORD, { client: 'desktop' });
    const stream = listen(api.url, other.body.token);
    await stream.opened;
    // The first session runs out; the second is kept alive by use, and its stream hears nothing of the first.
    await keepUsing(other.body.token);
    expect((await call(api.url, 'GET', '/v1/me', { token })).body.code).toBe('session_expired');
    // An event published now is the next thing the stream hears, so nothing came before it.
    const phone = await signIn(api.url, email);
    await eventually(() => stream.received.length > 0);
    expect(stream.received.map((r) => sessionIdOf(r.event))).toEqual([phone.body.session.id]);
    expect(stream.ended()).toBe(false);
    stream.stop();
  });
});
