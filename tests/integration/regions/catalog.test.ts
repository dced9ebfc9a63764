import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { ExchangeLatencyMeasurer } from '../../../src-api/modules/regions/exchange-latency.ts';
import { buildRegionEdge, loadRegionEdgeConfig } from '../../../src-api/modules/regions/edge.ts';
import { loadConfig } from '../../../src-api/config.ts';
import type { DelayProxy } from '../../../src-main/stack/delay-proxy.ts';
import { PublishedLatencies, RegionCatalog } from '../../../src-shared/regions.ts';
import { startTestApi, type TestApi } from '../../support/api.ts';
import { waitFor } from '../../support/wait.ts';
import { closedPort, delayProxies, startProbeServer } from './harness.ts';

const quiet = new Writable({ write: (_c, _e, done) => done() });

describe('the region catalog (GET /v1/regions)', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('lists each region with its latency to every exchange, simulated and dated in local mode', async () => {
    const api = await startTestApi({ PLUTARC_LOG_LEVEL: 'warn' });
    cleanups.push(() => api.close());
    const response = await fetch(`${api.url}/v1/regions`);
    const catalog = RegionCatalog.parse(await response.json());
    const table = Object.fromEntries(catalog.regions.map((r) => [r.id, Object.fromEntries(r.exchangeLatencies.map((l) => [l.exchange, l.ms]))]));
    expect(table).toEqual({
      eu: { binanceusdm: 230, bybit: 160, krakenfutures: 15 },
      us: { binanceusdm: 150, bybit: 215, krakenfutures: 75 },
      sg: { binanceusdm: 70, bybit: 2, krakenfutures: 170 },
    });
    for (const region of catalog.regions) {
      expect(region).toMatchObject({ simulated: true, probeUrl: `${api.url}/v1/probe/${region.id}` });
      for (const latency of region.exchangeLatencies) {
        expect(latency.simulated).toBe(true);
        expect(Date.parse(latency.measuredAt!)).toBeLessThanOrEqual(Date.now());
      }
    }
    expect(JSON.stringify(catalog).toLowerCase()).not.toContain('bitmex');
  });

  it('takes simulated figures and probe URLs from configuration', async () => {
    const api = await startTestApi({
      PLUTARC_LOG_LEVEL: 'warn',
      PLUTARC_SIM_EXCHANGE_LATENCIES: 'sg.bybit=1.5, eu.krakenfutures=9',
      PLUTARC_REGION_PROBE_URLS: 'sg=http://127.0.0.1:1234/v1/probe/sg',
    });
    cleanups.push(() => api.close());
    const catalog = RegionCatalog.parse(await (await fetch(`${api.url}/v1/regions`)).json());
    const sg = catalog.regions.find((r) => r.id === 'sg')!;
    expect(sg).toMatchObject({ simulated: true, probeUrl: 'http://127.0.0.1:1234/v1/probe/sg' });
    expect(sg.exchangeLatencies.find((l) => l.exchange === 'bybit')?.ms).toBe(1.5);
    expect(catalog.regions.find((r) => r.id === 'eu')!.exchangeLatencies.find((l) => l.exchange === 'krakenfutures')?.ms).toBe(9);
  });

  it('refuses simulated figures it cannot read, naming the variable, and any exchange but the three', () => {
    for (const bad of ['sg.bitmex=3', 'mars.bybit=3', 'sg.bybit=fast', 'sg.bybit']) {
      expect(() => loadConfig({ PLUTARC_SIM_EXCHANGE_LATENCIES: bad }), bad).toThrow(/PLUTARC_SIM_EXCHANGE_LATENCIES: expected region\.exchange=ms/);
    }
  });

  it('in deployed mode, shows what each region’s edge measured, not simulated, and nulls until it has', async () => {
    // One real region edge, measuring two "exchanges" (local servers behind delay proxies).
    const exchange = await startProbeServer();
    cleanups.push(() => exchange.close());
    // Far apart, so that a busy machine's few slow round trips cannot reorder them.
    const proxies = await delayProxies(exchange.port, [30, 300], 0);
    cleanups.push(() => Promise.all(proxies.map((p: DelayProxy) => p.close())).then(() => {}));
    const edge = await buildRegionEdge(
      loadRegionEdgeConfig({
        PLUTARC_REGION_ID: 'sg',
        PLUTARC_EXCHANGE_PROBE_URLS: `bybit=${proxies[0]!.origin}/v5/market/time,binanceusdm=${proxies[1]!.origin}/fapi/v1/ping`,
        PLUTARC_EXCHANGE_PROBE_INTERVAL_MS: '3600000',
      }),
      { logDestination: quiet },
    );
    cleanups.push(() => edge.close());
    const edgeUrl = await edge.listen({ host: '127.0.0.1', port: 0 });
    await edge.measurer.measureOnce();

    const published = PublishedLatencies.parse(await (await fetch(`${edgeUrl}/v1/probe/sg/exchanges`)).json());
    expect(published.region).toBe('sg');
    const bybit = published.exchangeLatencies.find((l) => l.exchange === 'bybit')!;
    expect(bybit).toMatchObject({ simulated: false });
    expect(bybit.samples).toBeGreaterThanOrEqual(3);
    // Never less than the injected round trip; the nearer exchange measures nearer.
    expect(bybit.ms!).toBeGreaterThanOrEqual(30);
    expect(published.exchangeLatencies.find((l) => l.exchange === 'binanceusdm')!.ms!).toBeGreaterThan(bybit.ms!);
    // The edge answers only its own region's probe.
    expect((await fetch(`${edgeUrl}/v1/probe/sg`)).status).toBe(200);
    expect((await fetch(`${edgeUrl}/v1/probe/eu`)).status).toBe(404);

    const api: TestApi = await startTestApi({
      PLUTARC_LOG_LEVEL: 'silent',
      PLUTARC_REGIONS: 'deployed',
      PLUTARC_REGION_PROBE_URLS: `eu=http://127.0.0.1:${await closedPort()}/v1/probe/eu,us=https://us.example.test/v1/probe/us,sg=${edgeUrl}/v1/probe/sg`,
      PLUTARC_REGION_LATENCY_URLS: `sg=${edgeUrl}/v1/probe/sg/exchanges,eu=http://127.0.0.1:${await closedPort()}/x`,
    });
    cleanups.push(() => api.close());
    // The API fetches the edges' figures in the background: ask until Singapore's have arrived.
    const catalog = await waitFor(
      async () => {
        const answer = RegionCatalog.parse(await (await fetch(`${api.url}/v1/regions`)).json());
        return answer.regions.find((r) => r.id === 'sg')!.exchangeLatencies[0]!.ms === null ? null : answer;
      },
      { what: 'the API to publish the Singapore edge’s figures' },
    );
    const sg = catalog.regions.find((r) => r.id === 'sg')!;
    expect(sg.simulated).toBe(false);
    expect(sg.exchangeLatencies.find((l) => l.exchange === 'bybit')).toEqual(bybit);
    // Kraken Futures was not measured by this edge; Europe's edge did not answer: nulls, not guesses.
    expect(sg.exchangeLatencies.find((l) => l.exchange === 'krakenfutures')).toMatchObject({ ms: null, measuredAt: null, simulated: false });
    expect(catalog.regions.find((r) => r.id === 'eu')!.exchangeLatencies.every((l) => l.ms === null && !l.simulated)).toBe(true);
  });
});

describe('a region’s exchange latency measurer', () => {
  const now = { t: Date.parse('2026-11-26T10:00:00Z') };
  const measurer = (window: number, maxAgeMs = 60 * 60_000) =>
    new ExchangeLatencyMeasurer({
      targets: { bybit: 'http://127.0.0.1:1/', krakenfutures: 'http://127.0.0.1:1/' },
      window,
      requestsPerRound: 1,
      maxAgeMs,
      requestTimeoutMs: 1000,
      now: () => new Date(now.t),
    });

  it('publishes the median over a rolling window of recent measurements, with the time of the latest', () => {
    const m = measurer(5);
    expect(m.published().map((l) => [l.exchange, l.ms, l.samples])).toEqual([
      ['bybit', null, 0],
      ['krakenfutures', null, 0],
    ]);
    for (const ms of [2, 3, 900, 2, 4]) {
      now.t += 1000;
      m.record('bybit', ms);
    }
    expect(m.published()[0]).toEqual({ exchange: 'bybit', ms: 3, measuredAt: new Date(now.t).toISOString(), samples: 5, simulated: false });
    // Two more: the oldest two (2, 3) leave the window.
    m.record('bybit', 800);
    m.record('bybit', 700);
    expect(m.published()[0]).toMatchObject({ ms: 700, samples: 5 });
  });

  it('lets measurements age out, so an exchange that stopped answering has no figure', () => {
    const m = measurer(10, 60_000);
    m.record('bybit', 5);
    now.t += 61_000;
    expect(m.published()[0]).toMatchObject({ ms: null, samples: 0, measuredAt: null });
  });

  // How close the figures come to the injected delays is for `npm run bench`; a busy machine adds to each.
  it('times small GET requests over a warm connection, not counting the one that opened it', async () => {
    const exchange = await startProbeServer();
    const [near, far] = await delayProxies(exchange.port, [20, 200], 0);
    const m = new ExchangeLatencyMeasurer({
      targets: { bybit: `${near!.origin}/v5/market/time`, krakenfutures: `${far!.origin}/derivatives/api/v3/tickers` },
      window: 20,
      requestsPerRound: 4,
      maxAgeMs: 60_000,
      requestTimeoutMs: 2000,
    });
    try {
      await m.measureOnce();
      const [bybit, kraken] = m.published();
      expect(bybit).toMatchObject({ exchange: 'bybit', samples: 4, simulated: false });
      expect(kraken).toMatchObject({ exchange: 'krakenfutures', samples: 4, simulated: false });
      // Never less than the injected round trip (set-up alone would be), and the farther one measures farther.
      expect(bybit!.ms!).toBeGreaterThanOrEqual(20);
      expect(kraken!.ms!).toBeGreaterThanOrEqual(200);
      expect(kraken!.ms!).toBeGreaterThan(bybit!.ms!);
      expect(exchange.requests()).toBe(10);
    } finally {
      await m.stop();
      await near!.close();
      await far!.close();
      await exchange.close();
    }
  });

  it('adds nothing for an exchange it cannot reach', async () => {
    const m = new ExchangeLatencyMeasurer({
      targets: { bybit: `http://127.0.0.1:${await closedPort()}/` },
      window: 5,
      requestsPerRound: 2,
      maxAgeMs: 60_000,
      requestTimeoutMs: 500,
    });
    await m.measureOnce();
    expect(m.published()).toEqual([{ exchange: 'bybit', ms: null, measuredAt: null, samples: 0, simulated: false }]);
    await m.stop();
  });
});

describe('region edge configuration', () => {
  it('needs a region id, and measures the real exchange hosts unless told otherwise', () => {
    expect(() => loadRegionEdgeConfig({})).toThrow(/PLUTARC_REGION_ID/);
    const config = loadRegionEdgeConfig({ PLUTARC_REGION_ID: 'sg' });
    expect(Object.values(config.exchangeUrls).map((u) => new URL(u).host)).toEqual(['fapi.binance.com', 'api.bybit.com', 'futures.kraken.com']);
    expect(() => loadRegionEdgeConfig({ PLUTARC_REGION_ID: 'sg', PLUTARC_EXCHANGE_PROBE_URLS: 'bitmex=https://www.bitmex.com/' })).toThrow(
      /exchange=url pairs/,
    );
  });
});

