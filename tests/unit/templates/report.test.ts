// The equity curve the chart gets: bucketed to a bounded number of points without hiding a drawdown.
import { describe, expect, it } from 'vitest';
import { bucketCurve } from '../../../src-main/services/templates/backtest-job.ts';

describe('bucketCurve', () => {
  it('keeps a short curve point for point, with the drawdown from the running peak', () => {
    const curve = [
      { time: 1, equity: 100 },
      { time: 2, equity: 120 },
      { time: 3, equity: 90 },
      { time: 4, equity: 130 },
    ];
    expect(bucketCurve(curve, 100)).toEqual([
      { time: 1, equity: 100, drawdownPercent: 0 },
      { time: 2, equity: 120, drawdownPercent: 0 },
      { time: 3, equity: 90, drawdownPercent: 25 },
      { time: 4, equity: 130, drawdownPercent: 0 },
    ]);
  });

  it('buckets a long curve, each point its bucket’s last equity and deepest drawdown', () => {
    // Peak 200 at t=1, trough 150 at t=2 (25 %), recovers inside the same bucket of three.
    const curve = [200, 150, 190, 180, 200, 210, 105].map((equity, i) => ({ time: i, equity }));
    expect(bucketCurve(curve, 100, 3)).toEqual([
      { time: 2, equity: 190, drawdownPercent: 25 },
      { time: 5, equity: 210, drawdownPercent: 10 },
      { time: 6, equity: 105, drawdownPercent: 50 },
    ]);
  });

  it('never gives more points than asked', () => {
    const curve = Array.from({ length: 10_001 }, (_, i) => ({ time: i, equity: 100 + (i % 7) }));
    expect(bucketCurve(curve, 100, 1000).length).toBeLessThanOrEqual(1000);
  });
});
