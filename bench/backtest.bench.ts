// A year of 1-minute candles (525,600) through the heaviest system template, against a bare loop that
// only updates the same trading-signals indicators on the same candles: the ratio is what evaluation,
// bookkeeping, the rebuild cadence and the decision record cost on top of the indicators themselves.
import { ADX, ATR, DonchianChannels, EMA, MACD } from 'trading-signals';
import { runBacktest, seriesFundingRates } from '../src-engine/backtest.ts';
import { Engine } from '../src-engine/engine.ts';
import { systemTemplate } from '../src-engine/system-templates.ts';
import { DEFAULT_SERIES_ORIGIN_MS, defaultSeries, TIMEFRAMES } from '../src-shared/market-series.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const HEAVIEST = 'system-consensus';
const from = DEFAULT_SERIES_ORIGIN_MS;
const to = from + 365 * 86_400_000;

const series = defaultSeries('BTC');
const started = performance.now();
const candles = series.candles(TIMEFRAMES['1m'], from, to);
const fundingRates = seriesFundingRates(series, from, to);
console.log(`series: ${candles.length} one-minute candles generated in ${((performance.now() - started) / 1000).toFixed(2)} s (not timed below)`);

const system = systemTemplate(HEAVIEST);
if (!system) throw new Error(`no system template ${HEAVIEST}`);

/** The indicators system-consensus runs, updated once per candle and nothing else. */
function bareLoop(): number {
  const fast = new EMA(12);
  const slow = new EMA(26);
  const macd = new MACD(new EMA(12), new EMA(26), new EMA(9));
  const channel = new DonchianChannels(20);
  const adx = new ADX(14);
  const distance = new EMA(50);
  const atr = new ATR(14);
  let sink = 0;
  for (const candle of candles) {
    fast.add(candle.close);
    slow.add(candle.close);
    macd.add(candle.close);
    channel.add(candle);
    adx.add(candle);
    distance.add(candle.close);
    sink += atr.add(candle) ?? 0;
  }
  return sink;
}

function backtest() {
  return runBacktest({
    engine: { template: system!.template, timeframeMs: TIMEFRAMES['1m'], contract: 'linear', limits: null },
    candles,
    fundingRates,
    initialEquity: 10_000,
    feeBps: 5,
    slippageBps: 2,
  });
}

const time = (run: () => unknown) => {
  const t0 = performance.now();
  run();
  return performance.now() - t0;
};

bareLoop();
backtest();
const bare: number[] = [];
const full: number[] = [];
let result = backtest();
for (let round = 0; round < ROUNDS; round++) {
  bare.push(time(bareLoop));
  full.push(time(() => (result = backtest())));
}
const best = (xs: number[]) => Math.min(...xs);
console.log(`${HEAVIEST} on ${candles.length} candles, best of ${ROUNDS}:`);
console.log(`  bare indicator loop: ${(best(bare) / 1000).toFixed(3)} s`);
console.log(`  full backtest:       ${(best(full) / 1000).toFixed(3)} s (target under 2 s)`);
console.log(`  ratio full / bare:   ${(best(full) / best(bare)).toFixed(2)}×`);
console.log(`  ${Math.round(candles.length / (best(full) / 1000)).toLocaleString('en')} candles/s; ${result.summary.trades} trades, ${result.decisions.length} decisions`);

// What a live bot stores and reloads: the snapshot after a week of minutes, and the time to restore it
// (the restore replays the indicator window).
const config = { template: system.template, timeframeMs: TIMEFRAMES['1m'], contract: 'linear' as const, limits: null };
const live = Engine.create(config, 10_000);
for (const candle of candles.slice(0, 7 * 1440)) {
  const order = live.pendingOrder;
  if (order) live.fill({ time: candle.time, price: candle.open, quantity: order.quantity, fee: 0 });
  live.step({ candle, fundingRate: null });
}
const stored = JSON.stringify(live.snapshot());
const restoreStarted = performance.now();
Engine.restore(config, JSON.parse(stored));
console.log(
  `  snapshot: ${(stored.length / 1024).toFixed(0)} KiB, ${live.snapshot().bars.length} bars (memory ${live.memory}); restore ${(performance.now() - restoreStarted).toFixed(1)} ms`,
);
