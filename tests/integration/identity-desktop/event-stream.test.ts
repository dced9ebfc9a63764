import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../../support/api.ts';
import { listen, sessionIdOf } from '../../support/event-stream.ts';
import { signIn } from '../../support/identity.ts';
import { devicePool, GOOD_PASSWORD, Relay, uniqueEmail, waitFor } from './harness.ts';

describe('the account event stream on the desktop (real API)', () => {
  let api: TestApi;
  const makeDevice = devicePool();
  const newDevice = (url = api.url) => makeDevice(url);
  beforeAll(async () => {
    api = await startTestApi({ PLUTARC_CEREMONY_STARTS_PER_MINUTE: '1000' });
  });
  afterAll(() => api.close());
  const relays: Relay[] = [];
  afterEach(async () => {
    for (const relay of relays.splice(0)) await relay.close();
  });
  /** A relay to the API, to see when a device's event stream has opened (and to cut it). */
  const openRelay = async () => {
    const relay = new Relay(new URL(api.url));
    await relay.listen();
    relays.push(relay);
    return relay;
  };

  it('signs this device out when another device revokes its session', async () => {
    const email = uniqueEmail();
    const relay = await openRelay();
    const a = newDevice(relay.url);
    const aState = await a.identity.register(email, GOOD_PASSWORD);
    if (aState.state !== 'signedIn') throw new Error('not signed in');
    const b = newDevice();
    await b.identity.signIn(email, GOOD_PASSWORD);
    await b.identity.reverifyWithPassword(GOOD_PASSWORD);
    // A's stream opens right after sign-in: B acts once it has.
    await relay.streamOpened();

    await b.identity.revokeSession(aState.session.id);
    await waitFor(() => a.states.at(-1)?.state === 'signedOut', 'device A to hear it was signed out');
    expect(a.states.at(-1)).toEqual({ state: 'signedOut', reason: 'revoked' });
    expect(await a.store.get('session-token')).toBeNull();
    expect(await b.identity.state()).toMatchObject({ state: 'signedIn' });
  });

  it('tells this device about a new sign-in elsewhere, not about its own', async () => {
    const email = uniqueEmail();
    const [relayOfA, relayOfB] = [await openRelay(), await openRelay()];
    const a = newDevice(relayOfA.url);
    await a.identity.register(email, GOOD_PASSWORD);
    await relayOfA.streamOpened();
    const b = newDevice(relayOfB.url);
    const bState = await b.identity.signIn(email, GOOD_PASSWORD);
    if (bState.state !== 'signedIn') throw new Error('not signed in');
    const notice = await waitFor(() => a.notices[0], 'a notice on device A');
    expect(notice).toMatchObject({ id: `session.created:${bState.session.id}`, level: 'warning', title: 'New sign-in' });
    expect(notice.body).toContain('New sign-in to your account: plutarc desktop 0.0.0-test on Linux from 127.0.0.1');
    // A third sign-in, once B listens too: when both have heard of it, anything before it has arrived.
    await relayOfB.streamOpened();
    const third = await signIn(api.url, email);
    await waitFor(() => a.notices[1] && b.notices[0], 'both devices to hear of the third sign-in');
    expect(a.notices.map((n) => n.id)).toEqual([`session.created:${bState.session.id}`, `session.created:${third.body.session.id}`]);
    expect(b.notices.map((n) => n.id)).toEqual([`session.created:${third.body.session.id}`]);
  });

  it('stops listening on sign-out', async () => {
    const email = uniqueEmail();
    const relay = await openRelay();
    const a = newDevice(relay.url);
    await a.identity.register(email, GOOD_PASSWORD);
    await relay.streamOpened();
    // A witness on the same account: once it has heard of the next sign-in, a listening A would have too.
    const witnessGrant = await signIn(api.url, email);
    const witness = listen(api.url, witnessGrant.body.token);
    await witness.opened;
    await a.identity.signOut();
    const later = await newDevice().identity.signIn(email, GOOD_PASSWORD);
    if (later.state !== 'signedIn') throw new Error('not signed in');
    await waitFor(() => witness.received.some((r) => sessionIdOf(r.event) === later.session.id), 'the witness to hear of the sign-in');
    witness.stop();
    // A may have heard of the witness's own sign-in, before it signed out; of nothing after.
    expect(a.notices.filter((n) => n.id !== `session.created:${witnessGrant.body.session.id}`)).toEqual([]);
  });

  it('reconnects after a dropped connection and gets what it missed (Last-Event-ID)', async () => {
    const relay = await openRelay();
    const email = uniqueEmail();
    const a = newDevice(relay.url);
    await a.identity.register(email, GOOD_PASSWORD);
    await relay.streamOpened();
    await newDevice().identity.signIn(email, GOOD_PASSWORD);
    await waitFor(() => a.notices.length === 1, 'the first notice');

    relay.drop();
    const c = newDevice();
    const cState = await c.identity.signIn(email, GOOD_PASSWORD);
    if (cState.state !== 'signedIn') throw new Error('not signed in');
    await waitFor(() => a.logs.some((line) => line.includes('event stream dropped')), 'device A to notice the dropped connection');
    expect(a.notices).toHaveLength(1);
    relay.restore();

    const missed = await waitFor(() => a.notices[1], 'the notice published while the connection was down');
    expect(missed.id).toBe(`session.created:${cState.session.id}`);
    expect(await a.identity.state()).toMatchObject({ state: 'signedIn' });
  });

  it('after a reverification rotates the token, reconnects with the new one (the old one would sign it out)', async () => {
    const relay = await openRelay();
    const email = uniqueEmail();
    const a = newDevice(relay.url);
    await a.identity.register(email, GOOD_PASSWORD);
    await a.identity.reverifyWithPassword(GOOD_PASSWORD);
    // While cut, no stream opens; every stream that opens after the restore connected with the token of then.
    relay.drop();
    const before = relay.streamsOpened;
    relay.restore();
    await relay.streamOpened(before + 1);
    await newDevice().identity.signIn(email, GOOD_PASSWORD);
    await waitFor(() => a.notices.length === 1, 'a notice after the token rotated');
    expect(await a.identity.state()).toMatchObject({ state: 'signedIn' });
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
    await a.identity.register(uniqueEmail(), GOOD_PASSWORD);
    await waitFor(() => a.states.at(-1)?.state === 'signedOut', 'the device to be signed out');
    expect(a.states.at(-1)).toEqual({ state: 'signedOut', reason: 'expired' });
    expect(await a.store.get('session-token')).toBeNull();
    expect(a.logs.some((line) => line.includes('event stream dropped'))).toBe(false);
  });
});
