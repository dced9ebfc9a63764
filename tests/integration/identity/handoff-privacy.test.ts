import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TokenResult } from '../../../src-shared/identity.ts';
import { startTestApi, type TestApi } from '../../support/api.ts';
import { exchange, runCeremony, startHandoff } from '../../support/handoff.ts';
import { call } from '../../support/http.ts';
import { registerUser, reverify } from '../../support/identity.ts';
import { SoftAuthenticator } from '../../support/soft-authenticator.ts';

describe('a hand-off id tells its holder nothing about the account, and stays out of the log', () => {
  let api: TestApi;
  let origin = '';
  beforeAll(async () => {
    api = await startTestApi({ PLUTARC_CEREMONY_STARTS_PER_MINUTE: '1000' });
    origin = api.url.replace('127.0.0.1', 'localhost');
  });
  afterAll(() => api.close());

  it('answers info and options without the email or any credential id, and still completes every ceremony', async () => {
    const authenticator = new SoftAuthenticator();
    const user = await registerUser(api.url);
    const token = await reverify(api.url, user.token);
    const ids: string[] = [];
    const seen: string[] = [];

    const add = await startHandoff(api.url, 'add-passkey', token);
    ids.push(add.created.body.id);
    seen.push(JSON.stringify((await call(api.url, 'GET', `/v1/desktop/handoffs/${add.created.body.id}`)).body));
    const registration = await call(api.url, 'POST', `/v1/desktop/handoffs/${add.created.body.id}/options`);
    seen.push(JSON.stringify(registration.body));
    expect(registration.body).not.toHaveProperty('excludeCredentials.0');
    const added = await runCeremony(api.url, add.created.body.id, authenticator, { origin }, 'Laptop');
    const addedResult = await exchange(api.url, added.code!, add.verifier, token);
    const passkeyId = (addedResult.body as Extract<TokenResult, { kind: 'passkey-added' }>).passkey.id;
    expect(passkeyId).toBeTruthy();

    const again = await startHandoff(api.url, 'reverify', token);
    ids.push(again.created.body.id);
    seen.push(JSON.stringify((await call(api.url, 'GET', `/v1/desktop/handoffs/${again.created.body.id}`)).body));
    seen.push(JSON.stringify((await call(api.url, 'POST', `/v1/desktop/handoffs/${again.created.body.id}/options`)).body));
    const reverified = await runCeremony(api.url, again.created.body.id, authenticator, { origin });
    expect((await exchange(api.url, reverified.code!, again.verifier, token)).body).toMatchObject({ kind: 'reverified' });

    for (const answer of seen) {
      expect(answer).not.toContain(user.email);
      expect(answer).not.toContain(passkeyId);
    }
    const logs = api.logs();
    expect(logs).toContain('/v1/desktop/handoffs/…/options');
    for (const id of ids) expect(logs).not.toContain(id);
    expect(logs).not.toContain(reverified.code!);
  });

  it('refuses a second registration of the same authenticator without having told the page its ids', async () => {
    const authenticator = new SoftAuthenticator();
    const user = await registerUser(api.url);
    const token = await reverify(api.url, user.token);
    const first = await startHandoff(api.url, 'add-passkey', token);
    const done = await runCeremony(api.url, first.created.body.id, authenticator, { origin });
    expect((await exchange(api.url, done.code!, first.verifier, token)).status).toBe(200);
    const second = await startHandoff(api.url, 'add-passkey', token);
    const duplicate = await runCeremony(api.url, second.created.body.id, authenticator, { origin });
    expect(duplicate.completion.status).toBe(409);
    expect(duplicate.completion.body.code).toBe('passkey_exists');
  });

  it('does not let a passkey of another account reverify this session', async () => {
    const theirs = new SoftAuthenticator();
    const other = await registerUser(api.url);
    const otherToken = await reverify(api.url, other.token);
    const setup = await startHandoff(api.url, 'add-passkey', otherToken);
    const added = await runCeremony(api.url, setup.created.body.id, theirs, { origin });
    expect((await exchange(api.url, added.code!, setup.verifier, otherToken)).status).toBe(200);

    const victim = await registerUser(api.url);
    const handoff = await startHandoff(api.url, 'reverify', victim.token);
    const attempt = await runCeremony(api.url, handoff.created.body.id, theirs, { origin });
    expect(attempt.completion.status).toBe(400);
    expect(attempt.completion.body.code).toBe('passkey_rejected');
  });
});
