// The backtest loop: the fill model and bookkeeping against hand-computed figures, determinism,
// snapshot and restore mid-run against an unbroken run, progress and cancellation.
import { describe, expect, it } from 'vitest';
import { runBacktest, seriesFundingRates } from '../../../src-engine/backtest.ts';
import type { BacktestInput } from '../../../src-engine/backtest.ts';
import type { Decision, EngineConfig, Trade } from '../../../src-engine/engine.ts';
import { Engine } from '../../../src-engine/engine.ts';
import { tradeFee } from '../../../src-engine/ledger.ts';
import { systemTemplate } from '../../../src-engine/system-templates.ts';
import type { Candle } from '../../../src-engine/types.ts';
import { DEFAULT_SERIES_ORIGIN_MS, defaultSeries, TIMEFRAMES } from '../../../src-shared/market-series.ts';
import { bars, candlesOf, emaCross, HOUR, MONDAY, stopLoss, takeProfit, templateWith } from './support.ts';

const cents = (n: number) => Math.round(n * 100) / 100;
const sats = (n: number) => Math.round(n * 1e8) / 1e8;

describe('fill model and bookkeeping', () => {
  // Decided long at the close of bar 4 (100, so 10,000 / 100 = 100 units); filled at bar 5's open 100
  // plus 10 bps slippage = 100.10, fee 5 bps. Bar 5 closes 106: 5.89 % up, the 5 % target fires; filled
  // at bar 6's open 110 less 10 bps = 109.89. Funding 0.01 % settles at bar 5's close, marked at 106.
  const candles = candlesOf(bars([90, 90, 90, 100, { open: 100, close: 106 }, { open: 110, close: 110 }]));
  const input = (contract: 'linear' | 'inverse', initialEquity: number): BacktestInput => ({
    engine: { template: templateWith([emaCross(), stopLoss(10), takeProfit(5)]), timeframeMs: HOUR, contract, limits: null },
    candles,
    fundingRates: [{ time: MONDAY + 5 * HOUR, rate: 0.0001 }],
    initialEquity,
    feeBps: 5,
    slippageBps: 10,
  });

  it('linear: to the cent', () => {
    const result = runBacktest(input('linear', 10_000));
    expect(result.trades).toHaveLength(1);
    const trade = result.trades[0] as Trade;
    expect(trade).toMatchObject({ side: 'long', quantity: 100, entryTime: MONDAY + 4 * HOUR, exitTime: MONDAY + 5 * HOUR, exitBy: 'target' });
    expect(cents(trade.entryPrice)).toBe(100.1);
    expect(cents(trade.exitPrice)).toBe(109.89);
    // 100 × (109.89 − 100.10) = 979.00; fees 100 × 100.10 × 0.0005 = 5.005 and 100 × 109.89 × 0.0005 = 5.4945;
    // funding 100 × 106 × 0.0001 = 1.06 paid. Net 979 − 10.4995 − 1.06 = 967.44.
    expect(cents(trade.grossPnl)).toBe(979);
    expect(cents(trade.fees)).toBe(10.5);
    expect(cents(trade.funding)).toBe(-1.06);
    expect(cents(trade.netPnl)).toBe(967.44);
    expect(cents(result.summary.endEquity)).toBe(10_967.44);
    expect(result.summary).toMatchObject({ trades: 1, winRatePercent: 100, profitFactor: null, candles: 6 });
    // One of six closes had the position open.
    expect(result.summary.exposurePercent).toBeCloseTo(100 / 6, 10);
    // The signal is still long at bar 6's close, but the data ends before that order could fill.
    expect(result.decisions.map((d) => d.type)).toEqual(['enter', 'exit', 'enter']);
  });

  it('inverse: PnL, fees and funding in the coin', () => {
    // 1 coin × 100 = 100 one-dollar contracts. Gross 100 × (1/100.10 − 1/109.89) = 0.08900009;
    // fees 100/100.10 × 0.0005 = 0.0004995 and 100/109.89 × 0.0005 = 0.000455; funding 100/106 × 0.0001 = 0.00009434.
    const result = runBacktest(input('inverse', 1));
    const trade = result.trades[0] as Trade;
    expect(trade.quantity).toBe(100);
    expect(sats(trade.grossPnl)).toBe(0.08900009);
    expect(sats(trade.fees)).toBe(sats(0.0004995 + 0.000455));
    expect(sats(trade.funding)).toBe(-0.00009434);
    expect(sats(trade.netPnl)).toBe(0.08795125);
    expect(sats(result.summary.endEquity)).toBe(1.08795125);
  });

  it('a position open at the end is closed at the last close', () => {
    const result = runBacktest({ ...input('linear', 10_000), engine: { ...input('linear', 10_000).engine, template: templateWith([emaCross(), stopLoss(10)]) } });
    expect(result.trades).toHaveLength(1);
    // Bought at 100.10, sold at the last close 110 less 10 bps = 109.89.
    expect(result.trades[0]).toMatchObject({ exitBy: 'endOfData' });
    expect(cents((result.trades[0] as Trade).exitPrice)).toBe(109.89);
    expect(result.equityCurve.at(-1)?.equity).toBe(result.summary.endEquity);
  });

  it('max drawdown from the peak of the equity curve', () => {
    // Long 100 units at 100 (no costs): closes 106 → +600 (peak 10,600), then 95 → −500: a drawdown of 1,100 (10.38 %).
    const list = candlesOf(bars([90, 90, 90, 100, { open: 100, close: 106 }, { open: 106, close: 95 }]));
    const result = runBacktest({ ...input('linear', 10_000), candles: list, fundingRates: [], feeBps: 0, slippageBps: 0, engine: { ...input('linear', 10_000).engine, template: templateWith([emaCross(), stopLoss(20)]) } });
    expect(cents(result.summary.maxDrawdown)).toBe(1100);
    expect(cents(result.summary.maxDrawdownPercent)).toBe(10.38);
  });
});

const series = defaultSeries('BTC');
const from = DEFAULT_SERIES_ORIGIN_MS;
const consensus = systemTemplate('system-consensus')!.template;

describe('determinism', () => {
  it('the same input gives byte-identical JSON', () => {
    const to = from + 30 * 86_400_000;
    const make = (): BacktestInput => ({
      engine: { template: consensus, timeframeMs: TIMEFRAMES['1h'], contract: 'linear', limits: null },
      candles: series.candles(TIMEFRAMES['1h'], from, to),
      fundingRates: seriesFundingRates(series, from, to),
      initialEquity: 10_000,
      feeBps: 5,
      slippageBps: 2,
    });
    const first = JSON.stringify(runBacktest(make()));
    const second = JSON.stringify(runBacktest(structuredClone(make())));
    expect(second).toBe(first);
    expect(JSON.parse(first).trades.length).toBeGreaterThan(5);
  });
});

describe('snapshot and restore', () => {
  const config: EngineConfig = { template: consensus, timeframeMs: TIMEFRAMES['1m'], contract: 'linear', limits: null };
  // Five days of minutes: the consensus template rebuilds its indicators every 4 × 589 = 2,356 bars.
  const candles = series.candles(TIMEFRAMES['1m'], from, from + 5 * 86_400_000);

  /** A bot's loop: fill at the next open, step, and keep what was decided and traded. */
  function drive(engine: Engine, list: readonly Candle[], out: { decisions: Decision[]; trades: Trade[] }): void {
    for (const candle of list) {
      const order = engine.pendingOrder;
      if (order) {
        const trade = engine.fill({ time: candle.time, price: candle.open, quantity: order.quantity, fee: tradeFee('linear', order.quantity, candle.open, 5) });
        if (trade) out.trades.push(trade);
      }
      out.decisions.push(...engine.step({ candle, fundingRate: null }));
    }
  }

  it('continuing from a snapshot gives what an unbroken run gives', () => {
    const unbroken = { decisions: [] as Decision[], trades: [] as Trade[] };
    const reference = Engine.create(config, 10_000);
    drive(reference, candles, unbroken);
    expect(unbroken.trades.length).toBeGreaterThan(10);
    expect(reference.memory).toBe(589);

    // Cut before the first rebuild, right on it, right after it, and late in the run.
    for (const cut of [1_000, 2_356, 2_357, 6_000]) {
      const resumed = { decisions: [] as Decision[], trades: [] as Trade[] };
      const first = Engine.create(config, 10_000);
      drive(first, candles.slice(0, cut), resumed);
      const stored = JSON.stringify(first.snapshot());
      const second = Engine.restore(config, JSON.parse(stored));
      drive(second, candles.slice(cut), resumed);
      expect(JSON.stringify(resumed), `cut at ${cut}`).toBe(JSON.stringify(unbroken));
      expect(JSON.stringify(second.snapshot()), `cut at ${cut}`).toBe(JSON.stringify(reference.snapshot()));
    }
  });

  it('the snapshot keeps a bounded window of bars', () => {
    const engine = Engine.create(config, 10_000);
    drive(engine, candles, { decisions: [], trades: [] });
    const snapshot = engine.snapshot();
    expect(snapshot.barCount).toBe(candles.length);
    expect(snapshot.bars.length).toBeLessThanOrEqual(5 * engine.memory);
  });
});

describe('a worker drives it', () => {
  const input = (): BacktestInput => ({
    engine: { template: consensus, timeframeMs: TIMEFRAMES['1h'], contract: 'linear', limits: null },
    candles: series.candles(TIMEFRAMES['1h'], from, from + 20 * 86_400_000),
    fundingRates: [],
    initialEquity: 10_000,
    feeBps: 5,
    slippageBps: 2,
  });

  it('reports progress every N candles and at the end', () => {
    const seen: [number, number][] = [];
    const result = runBacktest(input(), { checkEvery: 100, onProgress: (done, total) => seen.push([done, total]) });
    expect(seen).toEqual([[100, 480], [200, 480], [300, 480], [400, 480], [480, 480]]);
    expect(result.cancelled).toBe(false);
  });

  it('stops at the next check once cancelled, and says so', () => {
    const flag = { aborted: false };
    const result = runBacktest(input(), { checkEvery: 100, cancel: flag, onProgress: () => (flag.aborted = true) });
    expect(result.cancelled).toBe(true);
    expect(result.summary.candles).toBe(100);
    // An AbortSignal works as the flag too.
    const controller = new AbortController();
    controller.abort();
    expect(runBacktest(input(), { checkEvery: 50, cancel: controller.signal }).summary.candles).toBe(50);
  });
});

describe('funding on long candles', () => {
  it('every settlement inside a candle is paid, each marked at its close', () => {
    // Daily candles: 100 units long from day 5's open at 100. Day 5 holds settlements at 08:00, 16:00
    // and 24:00, each 0.01 % of 100 × 105 (day 5's close) = 1.05, so 3.15 paid that day.
    const DAY = 86_400_000;
    const list = candlesOf(bars([90, 90, 90, 100, { open: 100, close: 105 }], MONDAY).map((b, i) => ({ ...b, candle: { ...b.candle, time: MONDAY + i * DAY } })));
    const fundingRates = [1, 2, 3].map((k) => ({ time: MONDAY + 4 * DAY + k * 8 * HOUR, rate: 0.0001 }));
    const result = runBacktest({
      engine: { template: templateWith([emaCross(), stopLoss(50)]), timeframeMs: DAY, contract: 'linear', limits: null },
      candles: list,
      fundingRates,
      initialEquity: 10_000,
      feeBps: 0,
      slippageBps: 0,
    });
    expect(cents(result.summary.funding)).toBe(-3.15);
    expect(cents(result.trades[0]!.funding)).toBe(-3.15);
  });

  it('refuses funding out of order', () => {
    const input = { engine: { template: templateWith([emaCross(), stopLoss(5)]), timeframeMs: HOUR, contract: 'linear' as const, limits: null }, candles: [], initialEquity: 1, feeBps: 0, slippageBps: 0 };
    expect(() => runBacktest({ ...input, fundingRates: [{ time: 2, rate: 0 }, { time: 1, rate: 0 }] })).toThrow(/time order/);
  });
});
