import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../../src-main/services/api-client.ts';
import { EventHub } from '../../../src-main/services/events/event-hub.ts';
import { ProbeCache } from '../../../src-main/services/regions/probe-cache.ts';
import { DEFAULT_PROBE_OPTIONS, isProbeableUrl, probeRegion, probeRegions, type ProbeOptions } from '../../../src-main/services/regions/region-probe.ts';
import { RegionsService } from '../../../src-main/services/regions/regions-service.ts';
import type { DelayProxy } from '../../../src-main/stack/delay-proxy.ts';
import type { ProbeProgress } from '../../../src-shared/latency.ts';
import { recommendClosestRegion, recommendRegion } from '../../../src-shared/recommend.ts';
import { startTestApi, type TestApi } from '../../support/api.ts';
import { closedPort, delayProxies, startBlackHole, startProbeServer } from './harness.ts';

const options = (overrides: Partial<ProbeOptions> = {}): ProbeOptions => ({ ...DEFAULT_PROBE_OPTIONS, userAgent: 'plutarc-test', ...overrides });
// Far apart, so that a busy machine's slow moments cannot reorder the regions.
const INJECTED = { eu: 10, us: 100, sg: 250 } as const;
const JITTER_MS = 2;

describe('the latency probe against simulated regions behind delay proxies', () => {
  let api: TestApi;
  let proxies: DelayProxy[];

  beforeAll(async () => {
    // The real API's probe route, one delay proxy per region in front of it, as `npm start` runs them.
    const { DelayProxy } = await import('../../../src-main/stack/delay-proxy.ts');
    proxies = await Promise.all(Object.values(INJECTED).map((delayMs) => DelayProxy.start({ delayMs, jitterMs: JITTER_MS })));
    const [eu, us, sg] = proxies;
    api = await startTestApi({
      PLUTARC_LOG_LEVEL: 'warn',
      PLUTARC_REGION_PROBE_URLS: `eu=${eu!.origin}/v1/probe/eu,us=${us!.origin}/v1/probe/us,sg=${sg!.origin}/v1/probe/sg`,
    });
    const { port } = new URL(api.url);
    for (const proxy of proxies) proxy.setTarget({ host: '127.0.0.1', port: Number(port) });
  });
  afterAll(async () => {
    await Promise.all(proxies.map((p) => p.close()));
    await api.close();
  });

  const service = (probe: Partial<ProbeOptions> = {}) => {
    const events = new EventHub();
    const cache = new ProbeCache(':memory:');
    const regions = new RegionsService(new ApiClient({ baseUrl: api.url, userAgent: 'plutarc-test' }), events, cache, {
      probe: options(probe),
      maxProbeAgeMs: 60_000,
    });
    return { events, cache, regions };
  };

  // How close the median comes to the injected delay is a figure for `npm run bench`, not a test: a busy
  // machine adds to every round trip. What it cannot change: no round trip is shorter than its delay.
  it('measures each region’s round trips over a warm connection, their median never less than the injected delay', async () => {
    // A generous budget: the samples, not the budget, must end each region's probe, however busy the machine.
    const { regions, cache } = service({ samples: 20, budgetMs: 20_000 });
    const run = await regions.probe();
    expect(run.results.map((r) => r.region)).toEqual(['eu', 'us', 'sg']);
    for (const result of run.results) {
      expect(result.status, result.region).toBe('ok');
      expect(result.samplesMs).toHaveLength(20);
      expect(result.medianMs!, result.region).toBeGreaterThanOrEqual(INJECTED[result.region] - JITTER_MS);
      expect(result.p90Ms!).toBeGreaterThanOrEqual(result.medianMs!);
      expect(result.spreadMs!).toBeGreaterThanOrEqual(0);
      // Set-up was measured on its own, on the request that opened the connection (not among the samples).
      expect(result.connectMs).toEqual(expect.any(Number));
    }
    const ranked = [...run.results].sort((a, b) => a.medianMs! - b.medianMs!).map((r) => r.region);
    expect(ranked).toEqual(['eu', 'us', 'sg']);
    cache.close();
  });

  it('always recommends the truly fastest region', async () => {
    const { regions, cache } = service();
    for (let round = 0; round < 3; round++) {
      const run = await regions.probe();
      expect(recommendClosestRegion(run.regions, run.results).region).toBe('eu');
      // Every region equally far from the exchange: the user's own fastest region decides.
      const even = run.regions.map((r) => ({ ...r, exchangeLatencies: r.exchangeLatencies.map((l) => ({ ...l, ms: 50 })) }));
      expect(recommendRegion({ exchange: 'bybit', regions: even, probes: run.results })).toMatchObject({ region: 'eu', basis: 'tie-by-user' });
      // The published figures decide otherwise: Bybit's engine is in Singapore, farthest from this user.
      expect(recommendRegion({ exchange: 'bybit', regions: run.regions, probes: run.results }).region).toBe('sg');
    }
    cache.close();
  });

  it('probes all three regions with the default settings, reporting each region as it answers', async () => {
    const { regions, events, cache } = service();
    const seen: ProbeProgress[] = [];
    events.on('regions.onProbe', (progress) => seen.push(progress));
    const run = await regions.probe();
    expect(run.results.every((r) => r.status === 'ok')).toBe(true);
    expect(seen.map((p) => p.results.length)).toEqual([0, 1, 2, 3]);
    expect(seen.at(-1)?.run?.id).toBe(run.id);
    cache.close();
  });

  it('joins a probe already under way instead of starting a second one', async () => {
    const { regions, cache } = service();
    const [a, b] = await Promise.all([regions.probe(), regions.probe()]);
    expect(a.id).toBe(b.id);
    expect(cache.history(10)).toHaveLength(1);
    cache.close();
  });
});

describe('regions that do not answer well', () => {
  it('reports a region that never answers as unreachable after the timeout, and the others as usual', async () => {
    const hole = await startBlackHole();
    const server = await startProbeServer();
    const [near] = await delayProxies(server.port, [10], 0);
    const refused = await closedPort();
    try {
      const started = performance.now();
      const results = await probeRegions(
        [
          { id: 'eu', probeUrl: `${near!.origin}/v1/probe/eu` },
          { id: 'us', probeUrl: `http://127.0.0.1:${hole.port}/v1/probe/us` },
          { id: 'sg', probeUrl: `http://127.0.0.1:${refused}/v1/probe/sg` },
        ],
        options({ requestTimeoutMs: 500 }),
      );
      const elapsed = performance.now() - started;
      expect(results.map((r) => [r.region, r.status])).toEqual([
        ['eu', 'ok'],
        ['us', 'unreachable'],
        ['sg', 'unreachable'],
      ]);
      expect(results[1]!.error).toMatch(/did not answer within 500 ms/);
      expect(results[2]!.error).toBe('it refused the connection');
      // It waited the whole timeout before giving up (a busy machine only makes that longer); that it gave up
      // at all is the finishing: the black hole never answers.
      expect(elapsed).toBeGreaterThanOrEqual(490);
    } finally {
      await near!.close();
      await server.close();
      await hole.close();
    }
  });

  it('does not call a region the worst because it answered slowly once', async () => {
    // The 4th request (the 3rd counted round trip) to the nearest region takes 400 ms longer.
    const hiccup = await startProbeServer((_req, res, count) => {
      if (count === 4) setTimeout(() => res.end('{}'), 400);
      else res.end('{}');
    });
    const steady = await startProbeServer();
    const [eu] = await delayProxies(hiccup.port, [10], 1);
    const [us, sg] = await delayProxies(steady.port, [150, 400], 1);
    try {
      const results = await probeRegions(
        [
          { id: 'eu', probeUrl: `${eu!.origin}/p` },
          { id: 'us', probeUrl: `${us!.origin}/p` },
          { id: 'sg', probeUrl: `${sg!.origin}/p` },
        ],
        options({ samples: 6, budgetMs: 20_000 }),
      );
      const europe = results.find((r) => r.region === 'eu')!;
      expect(Math.max(...europe.samplesMs)).toBeGreaterThan(400);
      expect(europe.p90Ms!).toBeGreaterThan(europe.medianMs!);
      const ranked = [...results].sort((a, b) => a.medianMs! - b.medianMs!).map((r) => r.region);
      expect(ranked).toEqual(['eu', 'us', 'sg']);
    } finally {
      await Promise.all([eu!, us!, sg!].map((p) => p.close()));
      await hiccup.close();
      await steady.close();
    }
  });

  it('probes the regions at once: no region waits for another to finish', async () => {
    // Each server holds its answers until all three have been asked. One region at a time would leave the
    // first one waiting out its timeout (unreachable); at once, all three answer.
    const held: (() => void)[] = [];
    const asked = new Set<number>();
    const servers = await Promise.all(
      [0, 1, 2].map((index) =>
        startProbeServer((_req, res) => {
          asked.add(index);
          held.push(() => res.end('{}'));
          if (asked.size === 3) for (const answer of held.splice(0)) answer();
        }),
      ),
    );
    try {
      const results = await probeRegions(
        (['eu', 'us', 'sg'] as const).map((id, index) => ({ id, probeUrl: `http://127.0.0.1:${servers[index]!.port}/p` })),
        options({ samples: 2, requestTimeoutMs: 5000, budgetMs: 10_000 }),
      );
      expect(results.map((r) => [r.region, r.status])).toEqual([
        ['eu', 'ok'],
        ['us', 'ok'],
        ['sg', 'ok'],
      ]);
    } finally {
      await Promise.all(servers.map((server) => server.close()));
    }
  });

  it('counts a probe that answers with an error status as unreachable, and says what it answered', async () => {
    const broken = await startProbeServer((_req, res) => {
      res.statusCode = 503;
      res.end('{}');
    });
    try {
      const result = await probeRegion('eu', `http://127.0.0.1:${broken.port}/p`, options());
      expect(result).toMatchObject({ status: 'unreachable', error: 'it answered HTTP 503', medianMs: null });
    } finally {
      await broken.close();
    }
  });

  it('contacts only https probe URLs, or http on this machine', async () => {
    expect(isProbeableUrl('https://sg.plutarc.app/v1/probe/sg')).toBe(true);
    expect(isProbeableUrl('http://127.0.0.1:4000/v1/probe/eu')).toBe(true);
    expect(isProbeableUrl('http://localhost:4000/p')).toBe(true);
    for (const bad of ['http://192.168.1.1/p', 'http://example.test/p', 'file:///etc/passwd', 'https://user:pw@example.test/p', 'not a url']) {
      expect(isProbeableUrl(bad), bad).toBe(false);
    }
    const result = await probeRegion('us', 'http://10.0.0.1/v1/probe/us', options());
    expect(result).toMatchObject({ status: 'unreachable', samplesMs: [] });
    expect(result.error).toMatch(/not one plutarc contacts/);
  });
});
