import { describe, expect, it } from 'vitest';
import { startTestApi } from '../../support/api.ts';

describe('API logs', () => {
  it('never contain a secret sent in a request, in any of the places one can travel', async () => {
    const api = await startTestApi();
    const secrets = {
      bearer: 'bearer-7f3a9c1e5b',
      cookie: 'cookie-52d1e8aa90',
      password: 'password-correct-horse-battery',
      apiSecret: 'apisecret-0c4b7e2d19',
      token: 'querytoken-9e8d7c6b5a',
    };
    try {
      await fetch(`${api.url}/v1/health?token=${secrets.token}&next=1`, {
        headers: { authorization: `Bearer ${secrets.bearer}`, cookie: `session=${secrets.cookie}` },
      });
      await fetch(`${api.url}/v1/sessions?token=${secrets.token}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${secrets.bearer}` },
        body: JSON.stringify({ password: secrets.password, apiSecret: secrets.apiSecret }),
      });
      // What a route might log about a request it handles: redaction applies by name, at any depth we use.
      api.app.log.info({ password: secrets.password, key: { apiSecret: secrets.apiSecret }, req: { headers: { authorization: secrets.bearer } } }, 'audit');
      api.app.log.info({ body: { credentials: { token: secrets.token } } }, 'nested');
    } finally {
      await api.close();
    }
    const logs = api.logs();
    expect(logs).toContain('incoming request');
    expect(logs).toContain('/v1/health?token=…&next=…');
    for (const secret of Object.values(secrets)) expect(logs).not.toContain(secret);
    expect(logs).toContain('[redacted]');
  });
});
