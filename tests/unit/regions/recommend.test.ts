import { describe, expect, it } from 'vitest';
import { EXCHANGE_FACTS, ExchangeId } from '../../../src-shared/exchanges.ts';
import { RegionsRecommendInput } from '../../../src-shared/ipc.ts';
import { median, percentile, summarize, type RegionProbe } from '../../../src-shared/latency.ts';
import { recommendClosestRegion, recommendRegion } from '../../../src-shared/recommend.ts';
import type { RegionId } from '../../../src-shared/regions.ts';
import { region } from '../../integration/regions/harness.ts';

const probe = (id: RegionId, medianMs: number | null): RegionProbe =>
  medianMs === null
    ? { region: id, status: 'unreachable', connectMs: null, samplesMs: [], medianMs: null, p90Ms: null, spreadMs: null, lost: 1, error: 'it did not answer' }
    : { region: id, status: 'ok', connectMs: 1, samplesMs: [medianMs], medianMs, p90Ms: medianMs, spreadMs: 0, lost: 0 };

/** The local stack's default figures: Frankfurt, Ashburn, Singapore to Tokyo, Singapore, London. */
const catalog = [
  region('eu', { binanceusdm: 230, bybit: 160, krakenfutures: 15 }),
  region('us', { binanceusdm: 150, bybit: 215, krakenfutures: 75 }),
  region('sg', { binanceusdm: 70, bybit: 2, krakenfutures: 170 }),
];
const fromEurope = [probe('eu', 15), probe('us', 90), probe('sg', 170)];

const deepFreeze = <T>(value: T): T => {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
};

describe('recommendRegion', () => {
  it('picks the region closest to the exchange, not to the user, and says why with both numbers', () => {
    const result = recommendRegion({ exchange: 'bybit', regions: catalog, probes: fromEurope });
    expect(result).toMatchObject({ region: 'sg', basis: 'exchange', simulated: true });
    expect(result.reason).toBe("Singapore: 2 ms to Bybit's API (matching engine in Singapore), vs 160 ms from Europe.");
    expect(recommendRegion({ exchange: 'binanceusdm', regions: catalog, probes: fromEurope }).region).toBe('sg');
    expect(recommendRegion({ exchange: 'krakenfutures', regions: catalog, probes: fromEurope }).region).toBe('eu');
  });

  it('breaks a tie within the margin by the user’s own latency, either way round', () => {
    const tied = [region('eu', { krakenfutures: 15 }), region('us', { krakenfutures: 18 }), region('sg', { krakenfutures: 170 })];
    const nearEurope = recommendRegion({ exchange: 'krakenfutures', regions: tied, probes: fromEurope });
    expect(nearEurope).toMatchObject({ region: 'eu', basis: 'tie-by-user' });
    expect(nearEurope.reason).toContain('Europe and United States are within 5 ms of each other');
    expect(nearEurope.reason).toContain('Europe is closer to you (15 ms vs 90 ms)');

    const nearUs = recommendRegion({ exchange: 'krakenfutures', regions: tied, probes: [probe('eu', 95), probe('us', 12), probe('sg', 200)] });
    expect(nearUs).toMatchObject({ region: 'us', basis: 'tie-by-user' });
    expect(nearUs.reason).toContain('United States is closer to you (12 ms vs 95 ms)');
  });

  it('does not call a gap wider than the margin a tie', () => {
    const apart = [region('eu', { krakenfutures: 15 }), region('us', { krakenfutures: 21 })];
    expect(recommendRegion({ exchange: 'krakenfutures', regions: apart, probes: [probe('eu', 90), probe('us', 10)] })).toMatchObject({
      region: 'eu',
      basis: 'exchange',
    });
    expect(
      recommendRegion({ exchange: 'krakenfutures', regions: apart, probes: [probe('eu', 90), probe('us', 10)], tieMarginMs: 10 }).region,
    ).toBe('us');
  });

  it('with a tie and no probe yet, goes by the exchange figure alone', () => {
    const tied = [region('eu', { krakenfutures: 15 }), region('us', { krakenfutures: 17 })];
    expect(recommendRegion({ exchange: 'krakenfutures', regions: tied, probes: null })).toMatchObject({ region: 'eu', basis: 'exchange' });
  });

  it('leaves out a region that did not answer the user’s probe, and says so', () => {
    const result = recommendRegion({ exchange: 'bybit', regions: catalog, probes: [probe('eu', 15), probe('us', 90), probe('sg', null)] });
    expect(result).toMatchObject({ region: 'eu', basis: 'exchange' });
    expect(result.reason).toBe(
      "Europe: 160 ms to Bybit's API (matching engine in Singapore), vs 215 ms from United States. Singapore did not answer your probe, so it is left out.",
    );
    expect(result.candidates.find((c) => c.region === 'sg')).toMatchObject({ reachable: false, userMs: null, exchangeMs: 2 });
  });

  it('recommends nothing when no region answered', () => {
    const none = recommendRegion({ exchange: 'bybit', regions: catalog, probes: [probe('eu', null), probe('us', null), probe('sg', null)] });
    expect(none).toMatchObject({ region: null, basis: 'none' });
    expect(none.reason).toMatch(/No region answered your probe/);
  });

  it('skips regions with no published figure, and falls back to the user’s latency when none has one', () => {
    const partial = [region('eu', { bybit: 160 }), region('us', {}), region('sg', { bybit: null })];
    expect(recommendRegion({ exchange: 'bybit', regions: partial, probes: fromEurope })).toMatchObject({ region: 'eu', basis: 'exchange' });
    expect(recommendRegion({ exchange: 'bybit', regions: partial, probes: fromEurope }).reason).toContain('no other region has a figure');

    const unpublished = [region('eu'), region('us'), region('sg')];
    const byUser = recommendRegion({ exchange: 'bybit', regions: unpublished, probes: fromEurope });
    expect(byUser).toMatchObject({ region: 'eu', basis: 'user' });
    expect(byUser.reason).toBe('No region has published its latency to Bybit yet; Europe is closest to you (15 ms).');

    expect(recommendRegion({ exchange: 'bybit', regions: unpublished, probes: null })).toMatchObject({ region: null, basis: 'none' });
    expect(recommendRegion({ exchange: 'bybit', regions: [], probes: null })).toMatchObject({ region: null, basis: 'none' });
  });

  it('is pure: it changes nothing it is given and answers the same every time', () => {
    const input = deepFreeze({ exchange: 'binanceusdm' as const, regions: structuredClone(catalog), probes: structuredClone(fromEurope) });
    const first = recommendRegion(input);
    expect(recommendRegion(input)).toEqual(first);
    expect(input.regions).toEqual(catalog);
  });

  it('marks a recommendation made from simulated figures', () => {
    const measured = catalog.map((r) => ({ ...r, exchangeLatencies: r.exchangeLatencies.map((l) => ({ ...l, simulated: false })) }));
    expect(recommendRegion({ exchange: 'bybit', regions: measured, probes: fromEurope }).simulated).toBe(false);
  });
});

describe('recommendClosestRegion (the dashboard’s own region)', () => {
  it('is the region that answers the user fastest', () => {
    const result = recommendClosestRegion(catalog, [probe('eu', 40), probe('us', 12), probe('sg', null)]);
    expect(result).toMatchObject({ region: 'us', basis: 'user' });
    expect(result.reason).toBe('United States answers you fastest: 12 ms median, vs 40 ms from Europe.');
  });

  it('asks for a probe when there is none, and says when nothing answered', () => {
    expect(recommendClosestRegion(catalog, null)).toMatchObject({ region: null, reason: 'Probe the regions to see which one is closest to you.' });
    expect(recommendClosestRegion(catalog, [probe('eu', null)]).reason).toMatch(/No region answered/);
  });
});

describe('exchanges', () => {
  it('offers Binance USD-M, Bybit and Kraken Futures, and never BitMEX (closed on 2026-09-23)', () => {
    expect(ExchangeId.options).toEqual(['binanceusdm', 'bybit', 'krakenfutures']);
    expect(EXCHANGE_FACTS.map((e) => e.id)).toEqual(ExchangeId.options);
    expect(ExchangeId.safeParse('bitmex').success).toBe(false);
    expect(RegionsRecommendInput.safeParse({ exchange: 'bitmex' }).success).toBe(false);
    expect(JSON.stringify(EXCHANGE_FACTS).toLowerCase()).not.toContain('bitmex');
  });

  it('says where each matching engine is', () => {
    expect(EXCHANGE_FACTS.map((e) => [e.id, e.matchingEngine.city, e.matchingEngine.provider])).toEqual([
      ['binanceusdm', 'Tokyo', 'AWS ap-northeast-1'],
      ['bybit', 'Singapore', 'AWS ap-southeast-1'],
      ['krakenfutures', 'London', 'Europe (London/Frankfurt area)'],
    ]);
  });
});

describe('latency statistics', () => {
  it('takes the median, percentiles and spread of round trips', () => {
    expect(median([])).toBeNull();
    expect(median([5])).toBe(5);
    expect(median([9, 1, 5])).toBe(5);
    expect(median([1, 2, 3, 10])).toBe(2.5);
    expect(percentile([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 90)).toBeCloseTo(91);
    expect(summarize([10, 11, 12, 500])).toMatchObject({ medianMs: 11.5 });
    expect(summarize([])).toEqual({ medianMs: null, p90Ms: null, spreadMs: null });
    expect(summarize([10, 10, 10]).spreadMs).toBe(0);
  });
});
