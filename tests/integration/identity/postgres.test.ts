import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionView, TokenResult } from '../../../src-shared/identity.ts';
import { startTestApi, type TestApi } from '../../support/api.ts';
import { PG_URL, postgresSchema } from '../../support/databases.ts';
import { exchange, runCeremony, startHandoff } from '../../support/handoff.ts';
import { call } from '../../support/http.ts';
import { registerUser, reverify, signIn } from '../../support/identity.ts';
import { SoftAuthenticator } from '../../support/soft-authenticator.ts';

// The identity queries, migrations and rate-limit store, on PostgreSQL through the same Kysely code.
describe.runIf(Boolean(PG_URL))('identity on PostgreSQL', () => {
  let api: TestApi;
  let schema: Awaited<ReturnType<typeof postgresSchema>>;
  beforeAll(async () => {
    schema = await postgresSchema(PG_URL!);
    api = await startTestApi({
      PLUTARC_DATABASE_URL: schema.url,
      PLUTARC_SIGNIN_FREE_FAILURES: '2',
      PLUTARC_CEREMONY_STARTS_PER_MINUTE: '1000',
    });
  });
  afterAll(async () => {
    await api.close();
    await schema.drop();
  });

  it('registers, signs in, lists and revokes sessions, and throttles', async () => {
    expect(api.app.database.dialect).toBe('postgres');
    const alice = await registerUser(api.url);
    const laptop = await signIn(api.url, alice.email);
    const token = await reverify(api.url, alice.token);
    const list = await call<{ sessions: SessionView[] }>(api.url, 'GET', '/v1/me/sessions', { token });
    expect(list.body.sessions).toHaveLength(2);
    expect((await call(api.url, 'POST', '/v1/me/sessions/revoke-others', { token })).body).toEqual({ revoked: 1 });
    expect((await call(api.url, 'GET', '/v1/me', { token: laptop.body.token })).body.code).toBe('session_revoked');
    for (let i = 0; i < 3; i++) await signIn(api.url, alice.email, `wrong password number ${i}`);
    expect((await signIn(api.url, alice.email)).status).toBe(429);
  });

  it('adds a passkey and signs in with it', async () => {
    const origin = api.url.replace('127.0.0.1', 'localhost');
    const authenticator = new SoftAuthenticator();
    const user = await registerUser(api.url);
    const token = await reverify(api.url, user.token);
    const add = await startHandoff(api.url, 'add-passkey', token);
    const added = await runCeremony(api.url, add.created.body.id, authenticator, { origin });
    expect((await exchange(api.url, added.code!, add.verifier, token)).body.kind).toBe('passkey-added');
    const login = await startHandoff(api.url, 'signin');
    const ceremony = await runCeremony(api.url, login.created.body.id, authenticator, { origin });
    const result = await exchange(api.url, ceremony.code!, login.verifier);
    expect((result.body as Extract<TokenResult, { kind: 'signed-in' }>).grant.user.email).toBe(user.email);
  });
});
