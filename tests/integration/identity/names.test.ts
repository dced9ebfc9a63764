import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../../support/api.ts';
import { call } from '../../support/http.ts';
import { registerUser, reverify } from '../../support/identity.ts';

describe('API: passkey names', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api.close());

  it('refuses a right-to-left override in a passkey name with a clear message', async () => {
    const user = await registerUser(api.url);
    const token = await reverify(api.url, user.token);
    const answer = await call(api.url, 'PATCH', '/v1/me/passkeys/some-passkey', { token, body: { name: 'laptop\u202Eexe.gnp' } });
    expect(answer.status).toBe(400);
    expect(answer.body.errors?.[0]?.message).toMatch(/reverse the text direction/);
  });
});
