import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PasskeyFlow } from '../../../src-shared/ipc-identity.ts';
import { startTestApi, type TestApi } from '../../support/api.ts';
import { call } from '../../support/http.ts';
import { SoftAuthenticator } from '../../support/soft-authenticator.ts';
import { devicePool, failureOf, GOOD_PASSWORD, systemBrowser, uniqueEmail, visitAuthorizePage, waitFor, type device, type Device } from './harness.ts';

const portOpen = (origin: string) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: Number(new URL(origin).port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

const finished = (d: Device, flow: PasskeyFlow) =>
  waitFor(() => d.flows.find((f) => f.flowId === flow.flowId && f.state !== 'waiting'), `flow ${flow.purpose} to finish`);

describe('passkeys through the system browser (RFC 8252 hand-off, real API, software authenticator)', () => {
  let api: TestApi;
  let hostedOrigin = '';
  const makeDevice = devicePool();
  const newDevice = (options: Parameters<typeof device>[1] = {}) => makeDevice(api.url, options);
  beforeAll(async () => {
    api = await startTestApi({ PLUTARC_CEREMONY_STARTS_PER_MINUTE: '1000' });
    hostedOrigin = api.url.replace('127.0.0.1', 'localhost');
  });
  afterAll(() => api.close());

  it('adds a passkey, signs in with it on another device, reverifies with it, renames and removes it', async () => {
    const authenticator = new SoftAuthenticator();
    const opened: string[] = [];
    const email = uniqueEmail();
    const a = newDevice({ openExternal: systemBrowser(api.url, authenticator, opened) });
    await a.identity.register(email, GOOD_PASSWORD);

    // Adding a passkey is sensitive: the API wants a fresh reverification first, and no listener is left behind.
    expect((await failureOf(a.identity.startPasskey('add-passkey'))).code).toBe('reverification_required');
    expect(a.identity.passkeyLoopbackOrigin()).toBeUndefined();
    await a.identity.reverifyWithPassword(GOOD_PASSWORD);

    const adding = await a.identity.startPasskey('add-passkey');
    expect(adding).toMatchObject({ purpose: 'add-passkey', state: 'waiting', openedExternally: true });
    expect(adding.authorizeUrl).toMatch(new RegExp(`^${hostedOrigin}/desktop/authorize\\?handoff=[A-Za-z0-9_-]+$`));
    expect(opened).toEqual([adding.authorizeUrl]);
    const loopback = a.identity.passkeyLoopbackOrigin();
    expect(loopback).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await finished(a, adding)).toMatchObject({ state: 'completed', message: 'Added the passkey “Test laptop”.' });
    expect(await a.identity.state()).toMatchObject({ state: 'signedIn', user: { passkeyCount: 1 } });
    expect(a.identity.passkeyLoopbackOrigin()).toBeUndefined();
    expect(await portOpen(loopback!)).toBe(false);
    // A password sign-in's answer counts the passkey too: its user view comes from the query that read the hash.
    const viaPassword = await call(api.url, 'POST', '/v1/auth/password', { body: { email, password: GOOD_PASSWORD, device: { client: 'desktop' } } });
    expect(viaPassword.body).toMatchObject({ user: { email, hasPassword: true, passkeyCount: 1 } });

    // Device B signs in with the passkey alone; A hears about it.
    const b = newDevice({ openExternal: systemBrowser(api.url, authenticator) });
    const signingIn = await b.identity.startPasskey('signin');
    expect(await finished(b, signingIn)).toMatchObject({ state: 'completed' });
    const bState = await b.identity.state();
    expect(bState).toMatchObject({ state: 'signedIn', user: { email }, session: { method: 'passkey' } });
    await waitFor(() => a.notices.find((n) => bState.state === 'signedIn' && n.id === `session.created:${bState.session.id}`), 'the sign-in notice');

    // Reverifying with the passkey rotates B's token.
    const before = (await b.store.get('session-token'))!;
    const reverifying = await b.identity.startPasskey('reverify');
    expect(await finished(b, reverifying)).toMatchObject({ state: 'completed' });
    const after = (await b.store.get('session-token'))!;
    expect(after).not.toBe(before);
    expect((await call(api.url, 'GET', '/v1/me', { token: before })).status).toBe(401);
    const reverified = await b.identity.state();
    expect(reverified.state === 'signedIn' && Date.parse(reverified.reverifiedUntil ?? '') > Date.now()).toBe(true);

    const [passkey] = await b.identity.listPasskeys();
    expect(passkey).toMatchObject({ name: 'Test laptop', transports: ['internal'] });
    expect(await b.identity.renamePasskey(passkey!.id, 'Work laptop')).toMatchObject({ id: passkey!.id, name: 'Work laptop' });
    expect(await b.identity.removePassword()).toMatchObject({ state: 'signedIn', user: { hasPassword: false } });
    expect(await b.identity.state()).toMatchObject({ state: 'signedIn', user: { hasPassword: false, passkeyCount: 1 } });
    const last = await failureOf(b.identity.removePasskey(passkey!.id));
    expect(last.code).toBe('last_sign_in_method');
  });

  it('where it cannot open a browser, hands back the link; the user’s click completes it', async () => {
    const authenticator = new SoftAuthenticator();
    const a = newDevice({ openExternal: systemBrowser(api.url, authenticator) });
    await a.identity.register(uniqueEmail(), GOOD_PASSWORD);
    await a.identity.reverifyWithPassword(GOOD_PASSWORD);
    const adding = await a.identity.startPasskey('add-passkey');
    await finished(a, adding);

    const host = newDevice(); // the browser host: OpenExternal answers false
    const flow = await host.identity.startPasskey('signin');
    expect(flow).toMatchObject({ state: 'waiting', openedExternally: false });
    const visit = await visitAuthorizePage(api.url, flow.authorizeUrl, authenticator);
    expect(visit.status).toBe(200);
    expect(visit.page).toContain('You can close this tab and return to plutarc');
    expect(await finished(host, flow)).toMatchObject({ state: 'completed' });
    expect(await host.identity.state()).toMatchObject({ state: 'signedIn', session: { method: 'passkey' } });
  });

  it('a code the API did not issue fails the flow with the API’s words; the listener is closed', async () => {
    const authenticator = new SoftAuthenticator();
    const a = newDevice({ openExternal: systemBrowser(api.url, authenticator) });
    await a.identity.register(uniqueEmail(), GOOD_PASSWORD);
    await a.identity.reverifyWithPassword(GOOD_PASSWORD);
    await finished(a, await a.identity.startPasskey('add-passkey'));

    const d = newDevice();
    const flow = await d.identity.startPasskey('signin');
    // A wrong state is refused and the flow keeps waiting.
    const redirect = new URL(`${d.identity.passkeyLoopbackOrigin()}/callback`);
    redirect.searchParams.set('code', 'x'.repeat(43));
    redirect.searchParams.set('state', 'y'.repeat(43));
    expect((await fetch(redirect)).status).toBe(400);
    expect(d.flows).toEqual([]);
    // The real state with a code swapped for a made-up one: the API refuses the exchange.
    const page = new URL(flow.authorizeUrl);
    const options = await call(api.url, 'POST', `/v1/desktop/handoffs/${page.searchParams.get('handoff')}/options`);
    const response = authenticator.assert(options.body as never, { origin: page.origin });
    const completion = await call<{ redirectTo: string }>(api.url, 'POST', `/v1/desktop/handoffs/${page.searchParams.get('handoff')}/complete`, { body: { response } });
    const forged = new URL(completion.body.redirectTo);
    forged.searchParams.set('code', 'z'.repeat(43));
    expect((await fetch(forged)).status).toBe(200);
    expect(await finished(d, flow)).toMatchObject({ state: 'failed', message: 'Start again from the plutarc app.' });
    expect(await d.identity.state()).toEqual({ state: 'signedOut', reason: null });
    expect(await portOpen(forged.origin)).toBe(false);
  });

  it('cancels: on request, when a new flow starts, and on time-out', async () => {
    const d = newDevice();
    const first = await d.identity.startPasskey('signin');
    const firstLoopback = d.identity.passkeyLoopbackOrigin()!;
    const second = await d.identity.startPasskey('signin');
    expect(d.flows).toEqual([{ ...first, state: 'cancelled' }]);
    expect(await portOpen(firstLoopback)).toBe(false);

    const secondLoopback = d.identity.passkeyLoopbackOrigin()!;
    expect(d.identity.cancelPasskey()).toEqual({ ...second, state: 'cancelled' });
    expect(d.identity.cancelPasskey()).toBeNull();
    expect(await portOpen(secondLoopback)).toBe(false);

    expect(d.flows.map((f) => f.state)).toEqual(['cancelled', 'cancelled']);

    // A short time-out on a device of its own: the flows above must not run out while the test works.
    const hurried = newDevice({ passkeyTimeoutMs: 300 });
    const third = await hurried.identity.startPasskey('signin');
    expect(await finished(hurried, third)).toMatchObject({ state: 'failed', message: expect.stringMatching(/timed out/) });
    expect(hurried.identity.passkeyLoopbackOrigin()).toBeUndefined();
    expect(hurried.flows.map((f) => f.state)).toEqual(['failed']);
  });

  it('needs a session for adding a passkey or reverifying, and no session for signing in', async () => {
    const d = newDevice();
    expect((await failureOf(d.identity.startPasskey('reverify'))).code).toBe('not_signed_in');
    expect((await failureOf(d.identity.startPasskey('add-passkey'))).code).toBe('not_signed_in');
    await d.identity.register(uniqueEmail(), GOOD_PASSWORD);
    expect((await failureOf(d.identity.startPasskey('signin'))).code).toBe('already_signed_in');
    expect(d.identity.passkeyLoopbackOrigin()).toBeUndefined();
  });
});
