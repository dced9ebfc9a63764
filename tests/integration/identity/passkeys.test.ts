import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PasskeyView, TokenResult } from '../../../src-shared/identity.ts';
import { startTestApi, type TestApi } from '../../support/api.ts';
import { exchange, runCeremony, startHandoff } from '../../support/handoff.ts';
import { call } from '../../support/http.ts';
import { registerUser, reverify } from '../../support/identity.ts';
import { SoftAuthenticator } from '../../support/soft-authenticator.ts';

describe('passkeys through the desktop hand-off (API level, software authenticator)', () => {
  let api: TestApi;
  let origin = '';
  beforeAll(async () => {
    api = await startTestApi({ PLUTARC_CEREMONY_STARTS_PER_MINUTE: '1000' });
    origin = api.url.replace('127.0.0.1', 'localhost');
  });
  afterAll(() => api.close());

  /** A user with one passkey on `authenticator`; returns a reverified token. */
  async function userWithPasskey(authenticator: SoftAuthenticator) {
    const user = await registerUser(api.url);
    const token = await reverify(api.url, user.token);
    const handoff = await startHandoff(api.url, 'add-passkey', token);
    expect(handoff.created.status).toBe(201);
    expect(handoff.created.body.authorizeUrl).toBe(`${origin}/desktop/authorize?handoff=${handoff.created.body.id}`);
    const ceremony = await runCeremony(api.url, handoff.created.body.id, authenticator, { origin }, 'Work laptop');
    expect(ceremony.completion.status).toBe(200);
    expect(ceremony.state).toBe(handoff.state);
    const result = await exchange(api.url, ceremony.code!, handoff.verifier, token);
    expect(result.body).toMatchObject({ kind: 'passkey-added', passkey: { name: 'Work laptop', transports: ['internal'] } });
    return { ...user, token };
  }

  it('adds a passkey, then signs in with it (discoverable, no email typed)', async () => {
    const authenticator = new SoftAuthenticator();
    const user = await userWithPasskey(authenticator);
    const handoff = await startHandoff(api.url, 'signin');
    const ceremony = await runCeremony(api.url, handoff.created.body.id, authenticator, { origin });
    const result = await exchange(api.url, ceremony.code!, handoff.verifier);
    expect(result.status).toBe(200);
    const signedIn = result.body as Extract<TokenResult, { kind: 'signed-in' }>;
    expect(signedIn.grant.user.email).toBe(user.email);
    expect(signedIn.grant.session.method).toBe('passkey');
    const keys = await call<{ passkeys: PasskeyView[] }>(api.url, 'GET', '/v1/me/passkeys', { token: signedIn.grant.token });
    expect(keys.body.passkeys[0]?.lastUsedAt).not.toBeNull();
  });

  it('reverifies with a passkey, which rotates the token', async () => {
    const authenticator = new SoftAuthenticator();
    const user = await userWithPasskey(authenticator);
    const handoff = await startHandoff(api.url, 'reverify', user.token);
    const ceremony = await runCeremony(api.url, handoff.created.body.id, authenticator, { origin });
    const result = await exchange(api.url, ceremony.code!, handoff.verifier, user.token);
    expect(result.body.kind).toBe('reverified');
    const rotated = (result.body as Extract<TokenResult, { kind: 'reverified' }>).token;
    expect((await call(api.url, 'GET', '/v1/me', { token: user.token })).status).toBe(401);
    expect((await call(api.url, 'POST', '/v1/me/sessions/revoke-others', { token: rotated })).status).toBe(200);
  });

  it('refuses a ceremony without user verification', async () => {
    const authenticator = new SoftAuthenticator();
    await userWithPasskey(authenticator);
    const handoff = await startHandoff(api.url, 'signin');
    const ceremony = await runCeremony(api.url, handoff.created.body.id, authenticator, { origin, userVerified: false });
    expect(ceremony.completion.status).toBe(400);
    expect(ceremony.completion.body).toMatchObject({ code: 'passkey_rejected' });
  });

  it('refuses a bogus signature', async () => {
    const authenticator = new SoftAuthenticator();
    await userWithPasskey(authenticator);
    const handoff = await startHandoff(api.url, 'signin');
    const ceremony = await runCeremony(api.url, handoff.created.body.id, authenticator, { origin, bogusSignature: true });
    expect(ceremony.completion.body).toMatchObject({ code: 'passkey_rejected' });
  });

  it.each([
    ['another origin', { origin: 'http://localhost:1' }],
    ['another RP ID', { rpId: 'evil.example.test' }],
  ])('refuses a response made for %s', async (_name, override) => {
    const authenticator = new SoftAuthenticator();
    await userWithPasskey(authenticator);
    const handoff = await startHandoff(api.url, 'signin');
    const ceremony = await runCeremony(api.url, handoff.created.body.id, authenticator, { origin, ...override });
    expect(ceremony.completion.body).toMatchObject({ code: 'passkey_rejected' });
  });

  it('uses each challenge once: a replayed completion is refused', async () => {
    const authenticator = new SoftAuthenticator();
    await userWithPasskey(authenticator);
    const handoff = await startHandoff(api.url, 'signin');
    const ceremony = await runCeremony(api.url, handoff.created.body.id, authenticator, { origin });
    expect(ceremony.completion.status).toBe(200);
    const replay = await call(api.url, 'POST', `/v1/desktop/handoffs/${handoff.created.body.id}/complete`, { body: { response: ceremony.response } });
    expect(replay.status).toBeGreaterThanOrEqual(400);
  });

  it('refuses a challenge older than five minutes', async () => {
    const authenticator = new SoftAuthenticator();
    await userWithPasskey(authenticator);
    const handoff = await startHandoff(api.url, 'signin');
    const options = await call<{ challenge: string }>(api.url, 'POST', `/v1/desktop/handoffs/${handoff.created.body.id}/options`);
    await api.app.database.db
      .updateTable('desktop_handoffs')
      .set({ challenge_expires_at: new Date(Date.now() - 1000).toISOString() })
      .where('id', '=', handoff.created.body.id)
      .execute();
    const response = authenticator.assert(options.body, { origin });
    const completion = await call(api.url, 'POST', `/v1/desktop/handoffs/${handoff.created.body.id}/complete`, { body: { response } });
    expect(completion.body).toMatchObject({ code: 'passkey_rejected' });
  });

  it('refuses a signature counter that goes backwards, and records it as a possible clone', async () => {
    const authenticator = new SoftAuthenticator();
    const user = await userWithPasskey(authenticator);
    for (const counter of [5, 3]) {
      const handoff = await startHandoff(api.url, 'signin');
      const ceremony = await runCeremony(api.url, handoff.created.body.id, authenticator, { origin, counter });
      expect(ceremony.completion.status).toBe(counter === 5 ? 200 : 400);
    }
    const audit = await api.app.database.db.selectFrom('audit_log').select('action').where('actor', '=', user.user.id).execute();
    expect(audit.map((a) => a.action)).toContain('passkey.counter_regression');
    expect(api.logs()).toContain('possibly a cloned authenticator');
  });

  it('trades a code only once, only with the right PKCE verifier, and never a code for another device\'s flow', async () => {
    const authenticator = new SoftAuthenticator();
    await userWithPasskey(authenticator);
    const handoff = await startHandoff(api.url, 'signin');
    const ceremony = await runCeremony(api.url, handoff.created.body.id, authenticator, { origin });
    expect((await exchange(api.url, ceremony.code!, 'A'.repeat(43))).body.code).toBe('invalid_grant');
    // A wrong verifier burns the code: the right one no longer works either.
    expect((await exchange(api.url, ceremony.code!, handoff.verifier)).body.code).toBe('invalid_grant');
  });

  it('needs a reverified session to add a passkey, and a loopback redirect', async () => {
    const user = await registerUser(api.url);
    expect((await startHandoff(api.url, 'add-passkey')).created.status).toBe(401);
    expect((await startHandoff(api.url, 'add-passkey', user.token)).created.body.code).toBe('reverification_required');
    const bad = await call(api.url, 'POST', '/v1/desktop/handoffs', {
      body: { purpose: 'signin', redirectUri: 'https://evil.example.test/callback', state: 'x'.repeat(16), codeChallenge: 'A'.repeat(43), codeChallengeMethod: 'S256' },
    });
    expect(bad.status).toBe(400);
  });

  it('renames and removes passkeys with reverification, never the last way to sign in', async () => {
    const authenticator = new SoftAuthenticator();
    const user = await userWithPasskey(authenticator);
    const [passkey] = (await call<{ passkeys: PasskeyView[] }>(api.url, 'GET', '/v1/me/passkeys', { token: user.token })).body.passkeys;
    const renamed = await call<PasskeyView>(api.url, 'PATCH', `/v1/me/passkeys/${passkey!.id}`, { token: user.token, body: { name: 'Desk key' } });
    expect(renamed.body.name).toBe('Desk key');
    // With the password gone, the passkey is the last way in.
    expect((await call(api.url, 'DELETE', '/v1/me/password', { token: user.token })).status).toBe(200);
    const last = await call(api.url, 'DELETE', `/v1/me/passkeys/${passkey!.id}`, { token: user.token });
    expect(last.status).toBe(409);
    expect(last.body.code).toBe('last_sign_in_method');
  });
});
