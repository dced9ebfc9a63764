import { describe, expect, it } from 'vitest';
import { defaultSeries, MarketSeries, MINUTE_MS, TIMEFRAMES } from '../../../src-shared/market-series.ts';

const ORIGIN = Date.UTC(2026, 0, 1);

describe('the shared market series', () => {
  it('is the same for the same seed, however it is read', () => {
    const a = new MarketSeries({ seed: 's', startPrice: 100, originMs: ORIGIN });
    const b = new MarketSeries({ seed: 's', startPrice: 100, originMs: ORIGIN });
    // b reads far ahead first, then the start: block starts must not depend on read order.
    const late = b.minute(5_000);
    expect(a.minutes(0, 5_001)[5_000]).toEqual(late);
    expect(b.minutes(0, 100)).toEqual(a.minutes(0, 100));
    expect(new MarketSeries({ seed: 't', startPrice: 100, originMs: ORIGIN }).minute(10)).not.toEqual(a.minute(10));
  });

  it('makes candles that hold together: each opens at the last close, with high and low around both', () => {
    const minutes = defaultSeries('BTC').minutes(0, 3_000);
    for (let i = 1; i < minutes.length; i++) {
      const c = minutes[i]!;
      expect(c.open).toBe(minutes[i - 1]!.close);
      expect(c.high).toBeGreaterThanOrEqual(Math.max(c.open, c.close));
      expect(c.low).toBeLessThanOrEqual(Math.min(c.open, c.close));
      expect(c.volume).toBeGreaterThan(0);
      expect(c.time - minutes[i - 1]!.time).toBe(MINUTE_MS);
    }
  });

  it('aggregates higher timeframes from the minutes, aligned to the timeframe', () => {
    const s = defaultSeries('ETH');
    const hours = s.candles(TIMEFRAMES['1h'], ORIGIN + 10 * MINUTE_MS, ORIGIN + 5 * 3_600_000);
    expect(hours.map((c) => c.time)).toEqual([1, 2, 3, 4].map((h) => ORIGIN + h * 3_600_000));
    const minutes = s.minutes(60, 60);
    expect(hours[0]).toEqual({
      time: ORIGIN + 3_600_000,
      open: minutes[0]!.open,
      close: minutes[59]!.close,
      high: Math.max(...minutes.map((m) => m.high)),
      low: Math.min(...minutes.map((m) => m.low)),
      volume: minutes.reduce((sum, m) => sum + m.volume, 0),
    });
  });

  it('moves: over a month the price trends, ranges and bursts rather than sitting still', () => {
    const days = defaultSeries('BTC').candles(TIMEFRAMES['1d'], ORIGIN, ORIGIN + 30 * 86_400_000);
    const ranges = days.map((d) => (d.high - d.low) / d.open);
    expect(Math.max(...ranges)).toBeGreaterThan(2 * Math.min(...ranges));
    const closes = days.map((d) => d.close);
    expect(Math.max(...closes) / Math.min(...closes)).toBeGreaterThan(1.05);
  });

  it('prices and funding come from the same path, funding bounded like the exchanges bound it', () => {
    const s = defaultSeries('BTC');
    expect(s.priceAt(ORIGIN)).toBe(60_000);
    expect(s.priceAt(ORIGIN + 90 * MINUTE_MS + 5)).toBe(s.minute(89).close);
    for (let i = 1; i < 30; i++) {
      const rate = s.fundingRate(ORIGIN + i * 8 * 3_600_000);
      expect(Math.abs(rate)).toBeLessThanOrEqual(0.00375);
    }
  });
});
