import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Health } from '../../../src-shared/http.ts';
import { Problem } from '../../../src-shared/problem.ts';
import { RegionCatalog } from '../../../src-shared/regions.ts';
import { startTestApi, type TestApi } from '../../support/api.ts';

describe('API over real HTTP', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi({ PLUTARC_BODY_LIMIT_BYTES: '2048' }, (app) => {
      // A route that fails unexpectedly, to prove a crash never reaches a client as a stack trace.
      app.get('/test/boom', async () => {
        throw new Error('database password is hunter2 at /srv/secret/path.ts:12');
      });
    });
  });
  afterAll(() => api.close());

  const problemOf = async (response: Response) => {
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    return Problem.parse(await response.json());
  };

  it('reports health with the database it uses', async () => {
    const response = await fetch(`${api.url}/v1/health`);
    expect(response.status).toBe(200);
    const body = Health.parse(await response.json());
    expect(body).toMatchObject({ status: 'ok', database: 'sqlite', version: '0.0.0' });
  });

  it('lists the three regions, simulated in local mode, each with a probe that answers', async () => {
    const catalog = RegionCatalog.parse(await (await fetch(`${api.url}/v1/regions`)).json());
    expect(catalog.regions.map((r) => r.id)).toEqual(['eu', 'us', 'sg']);
    for (const region of catalog.regions) {
      expect(region.simulated).toBe(true);
      const probe = await fetch(region.probeUrl);
      expect(probe.status).toBe(200);
      expect(await probe.json()).toMatchObject({ region: region.id });
    }
  });

  it('links out to an exchange key page by redirect, and to nothing else', async () => {
    const live = await fetch(`${api.url}/v1/exchanges/bybit/key-page`, { redirect: 'manual' });
    expect([live.status, live.headers.get('location')]).toEqual([302, 'https://www.bybit.com/app/user/api-management']);
    const testnet = await fetch(`${api.url}/v1/exchanges/bybit/key-page?testnet=1`, { redirect: 'manual' });
    expect(testnet.headers.get('location')).toBe('https://testnet.bybit.com/app/user/api-management');
    for (const path of ['/v1/exchanges/bitmex/key-page', '/v1/exchanges/evil.example/key-page', '/v1/exchanges/bybit/key-page?testnet=yes']) {
      expect((await fetch(`${api.url}${path}`, { redirect: 'manual' })).status).toBe(400);
    }
  });

  it('answers an unknown route with a 404 problem', async () => {
    const problem = await problemOf(await fetch(`${api.url}/v1/nothing-here?token=abc`));
    expect(problem).toMatchObject({ status: 404, code: 'not_found', instance: '/v1/nothing-here' });
    expect(JSON.stringify(problem)).not.toContain('abc');
  });

  it('answers malformed JSON with a 400 problem', async () => {
    const response = await fetch(`${api.url}/v1/health`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"unterminated": ',
    });
    expect(response.status).toBe(400);
    expect((await problemOf(response)).code).toBe('malformed_json');
  });

  it('answers an oversized body with a 413 problem', async () => {
    const response = await fetch(`${api.url}/v1/health`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ filler: 'x'.repeat(4096) }),
    });
    expect(response.status).toBe(413);
    expect((await problemOf(response)).code).toBe('body_too_large');
  });

  it('answers a schema failure with a 400 problem naming the field', async () => {
    const response = await fetch(`${api.url}/v1/probe/mars`);
    expect(response.status).toBe(400);
    const problem = await problemOf(response);
    expect(problem.code).toBe('invalid_request');
    expect(problem.errors?.[0]?.path).toBe('params.region');
  });

  it('answers an unexpected failure with a 500 problem and no stack trace or internals', async () => {
    const response = await fetch(`${api.url}/test/boom`);
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(text).not.toMatch(/hunter2|\.ts:|at \w+ \(/);
    expect(JSON.parse(text)).toMatchObject({ code: 'internal', status: 500 });
  });
});

describe('regions in deployed mode', () => {
  it('publishes the configured probe URLs and marks nothing simulated', async () => {
    const api = await startTestApi({
      PLUTARC_REGIONS: 'deployed',
      PLUTARC_REGION_PROBE_URLS: 'eu=https://eu.example.test/probe,us=https://us.example.test/probe,sg=https://sg.example.test/probe',
    });
    try {
      const catalog = RegionCatalog.parse(await (await fetch(`${api.url}/v1/regions`)).json());
      expect(catalog.regions.map((r) => [r.id, r.probeUrl, r.simulated])).toEqual([
        ['eu', 'https://eu.example.test/probe', false],
        ['us', 'https://us.example.test/probe', false],
        ['sg', 'https://sg.example.test/probe', false],
      ]);
    } finally {
      await api.close();
    }
  });
});
