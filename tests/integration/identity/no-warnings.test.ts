import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../../support/api.ts';
import { exchange, runCeremony, startHandoff } from '../../support/handoff.ts';
import { registerUser, reverify } from '../../support/identity.ts';
import { SoftAuthenticator } from '../../support/soft-authenticator.ts';

describe('the API says nothing its operator cannot act on', () => {
  let api: TestApi;
  const warnings: string[] = [];
  const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
  beforeAll(async () => {
    process.on('warning', onWarning);
    api = await startTestApi({ PLUTARC_CEREMONY_STARTS_PER_MINUTE: '1000' });
  });
  afterAll(async () => {
    process.off('warning', onWarning);
    await api.close();
  });

  it('adds a passkey and signs in with it without a Node warning', async () => {
    const origin = api.url.replace('127.0.0.1', 'localhost');
    const authenticator = new SoftAuthenticator();
    const user = await registerUser(api.url);
    const token = await reverify(api.url, user.token);
    const add = await startHandoff(api.url, 'add-passkey', token);
    const added = await runCeremony(api.url, add.created.body.id, authenticator, { origin });
    expect((await exchange(api.url, added.code!, add.verifier, token)).status).toBe(200);
    const signin = await startHandoff(api.url, 'signin');
    const signedIn = await runCeremony(api.url, signin.created.body.id, authenticator, { origin });
    expect((await exchange(api.url, signedIn.code!, signin.verifier)).status).toBe(200);
    // Warnings are emitted on the next tick.
    await new Promise((resolve) => setImmediate(resolve));
    expect(warnings).toEqual([]);
  });
});
