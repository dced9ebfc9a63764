import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../../support/api.ts';

/** A raw HTTP/1.1 request with a chosen Host header (fetch will not send one of our choosing). */
function get(url: string, path: string, host: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port, path, headers: { host } }, (incoming) => {
      let body = '';
      incoming.setEncoding('utf8');
      incoming.on('data', (chunk: string) => (body += chunk));
      incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, body }));
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

describe('API in local mode: Host guard and nosniff', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi({ PLUTARC_API_HOST: '127.0.0.1' });
  });
  afterAll(() => api.close());

  it('refuses a request addressed to another name (DNS rebinding) with a problem', async () => {
    for (const host of ['evil.example', 'evil.example:8787', 'localhost.evil.example', '127.0.0.1.nip.io']) {
      const answer = await get(api.url, '/v1/health', host);
      expect(answer.status, host).toBe(421);
      expect(JSON.parse(answer.body)).toMatchObject({ code: 'unknown_host' });
      expect(answer.headers['x-content-type-options']).toBe('nosniff');
    }
  });

  it('answers requests addressed to this machine by any of its loopback names, on any port', async () => {
    const { port } = new URL(api.url);
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, 'localhost:1']) {
      const answer = await get(api.url, '/v1/health', host);
      expect(answer.status, host).toBe(200);
    }
  });

  it('marks every answer nosniff: JSON, problems and unknown routes', async () => {
    for (const path of ['/v1/health', '/v1/me', '/v1/nothing-here']) {
      const response = await fetch(`${api.url}${path}`);
      expect(response.headers.get('x-content-type-options'), path).toBe('nosniff');
    }
  });
});

describe('API behind a public name', () => {
  it('accepts its public and hosted names when those are configured', async () => {
    const api = await startTestApi({ PLUTARC_PUBLIC_URL: 'https://api.plutarc.test', PLUTARC_HOSTED_ORIGIN: 'https://app.plutarc.test' });
    try {
      expect((await get(api.url, '/v1/health', 'api.plutarc.test')).status).toBe(200);
      expect((await get(api.url, '/v1/health', 'app.plutarc.test')).status).toBe(200);
      expect((await get(api.url, '/v1/health', 'other.plutarc.test')).status).toBe(421);
    } finally {
      await api.close();
    }
  });
});
