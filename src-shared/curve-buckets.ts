/**
 * A long curve in at most `maxPoints` buckets of consecutive points: each bucket is its last point with the
 * deepest drawdown seen inside it, so bucketing never hides the worst moment. The backtest chart and the Trades
 * page's PnL curve both draw from it.
 */
export function bucketKeepingDeepest<P>(points: readonly P[], drawdownOf: (point: P) => number, maxPoints: number): { last: P; deepest: number }[] {
  const size = Math.max(1, Math.ceil(points.length / Math.max(1, maxPoints)));
  const buckets: { last: P; deepest: number }[] = [];
  let deepest = 0;
  points.forEach((point, i) => {
    deepest = Math.max(deepest, drawdownOf(point));
    if ((i + 1) % size === 0 || i === points.length - 1) {
      buckets.push({ last: point, deepest });
      deepest = 0;
    }
  });
  return buckets;
}
