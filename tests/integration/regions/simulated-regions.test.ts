import { describe, expect, it } from 'vitest';
import { DelayProxy } from '../../../src-main/stack/delay-proxy.ts';
import { DEFAULT_REGION_DELAYS, parseJitter, parseRegionDelays, SimulatedRegions } from '../../../src-main/stack/simulated-regions.ts';
import { startProbeServer } from './harness.ts';

describe('the local stack’s simulated regions', () => {
  it('default to what a user in Europe would see, and take overrides per region', () => {
    expect(DEFAULT_REGION_DELAYS).toEqual({ eu: 15, us: 90, sg: 170 });
    expect(parseRegionDelays(undefined)).toEqual(DEFAULT_REGION_DELAYS);
    expect(parseRegionDelays('sg=40, us=120')).toEqual({ eu: 15, us: 120, sg: 40 });
    for (const bad of ['mars=3', 'eu=fast', 'eu', 'eu=-1', 'eu=99999']) {
      expect(() => parseRegionDelays(bad), bad).toThrow(/PLUTARC_SIM_REGION_DELAYS: expected region=ms pairs/);
    }
    expect(parseJitter(undefined)).toBe(2);
    expect(parseJitter('0')).toBe(0);
    expect(() => parseJitter('lots')).toThrow(/PLUTARC_SIM_REGION_JITTER_MS/);
  });

  it('put one delay proxy per region in front of the API, each as far away as configured', async () => {
    const api = await startProbeServer();
    const configured = { eu: 5, us: 150, sg: 450 } as const;
    const regions = await SimulatedRegions.start(configured, 0);
    try {
      const urls = Object.fromEntries(regions.probeUrls().split(',').map((pair) => pair.split('=') as [string, string]));
      expect(Object.keys(urls)).toEqual(['eu', 'us', 'sg']);
      for (const [id, url] of Object.entries(urls)) expect(url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/v1/probe/${id}$`));
      regions.forwardTo(`http://127.0.0.1:${api.port}`);
      const timed = async (url: string) => {
        const started = performance.now();
        const response = await fetch(url);
        await response.text();
        return performance.now() - started;
      };
      // Each round trip takes at least its region's delay (a busy machine only adds), and the regions rank
      // as configured: taken in turns, the median of three is beyond what a busy moment can reorder.
      const times: Record<keyof typeof configured, number[]> = { eu: [], us: [], sg: [] };
      for (let round = 0; round < 3; round++) {
        for (const id of ['eu', 'us', 'sg'] as const) times[id].push(await timed(urls[id]!));
      }
      const medians = Object.fromEntries(
        Object.entries(times).map(([id, samples]) => {
          for (const time of samples) expect(time, id).toBeGreaterThanOrEqual(configured[id as keyof typeof configured]);
          return [id, samples.sort((a, b) => a - b)[1]!];
        }),
      );
      expect(Object.keys(medians).sort((a, b) => medians[a]! - medians[b]!)).toEqual(['eu', 'us', 'sg']);
      expect(regions.describe()).toBe('eu +5 ms, us +150 ms, sg +450 ms');
    } finally {
      await regions.close();
      await api.close();
    }
  });

  it('keep the order of what passes through, even with jitter', async () => {
    const echo = await startProbeServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => res.end(body));
    });
    const proxy = await DelayProxy.start({ delayMs: 10, jitterMs: 8, target: { host: '127.0.0.1', port: echo.port } });
    try {
      const payload = Array.from({ length: 2000 }, (_, i) => `${i},`).join('');
      const response = await fetch(`${proxy.origin}/echo`, { method: 'POST', body: payload });
      expect(await response.text()).toBe(payload);
    } finally {
      await proxy.close();
      await echo.close();
    }
  });
});
