// Each component on a short hand-made series, with the expected values worked out by hand from the
// indicator's definition (trading-signals: EMA seeded with the first price; RSI and ATR use Wilder's
// smoothing seeded with a simple average; Bollinger uses the population deviation).
import { describe, expect, it } from 'vitest';
import type { CheckComponent, ExitComponent } from '../../../src-engine/components.ts';
import { checkRuntime, exitReason, signalRuntime } from '../../../src-engine/components.ts';
import type { PositionView, Side } from '../../../src-engine/types.ts';
import type { Component } from '../../../src-shared/templates.ts';
import type { BarSpec } from './support.ts';
import { bars } from './support.ts';

type SignalComponent = Extract<Component, { role: 'signal' }>;

/** The score after each bar. */
function scores(component: SignalComponent, specs: (number | BarSpec)[]): number[] {
  const runtime = signalRuntime(component);
  return bars(specs).map((bar) => {
    runtime.update(bar);
    return runtime.score();
  });
}

/** The check after each bar, for an entry on `side`: true, or the reason it failed. */
function checks(component: CheckComponent, specs: (number | BarSpec)[], side: Side = 'long'): (true | string)[] {
  const runtime = checkRuntime(component);
  return bars(specs).map((bar) => {
    runtime.update(bar);
    const check = runtime.check(bar, side);
    return check.pass ? true : check.reason;
  });
}

const signal = <C extends SignalComponent>(c: Omit<C, 'id' | 'role' | 'weight'>) => ({ id: 's', role: 'signal', weight: 1, ...c }) as SignalComponent;
const WARMING = 'indicator still warming up';

describe('signals', () => {
  it('EMA cross: +1 while the fast EMA is above the slow, -1 below, 0 when equal or warming up', () => {
    // EMA2 (k = 2/3), EMA3 (k = 1/2). 10,10,10: both 10 → 0. 13: fast 13·2/3 + 10/3 = 12, slow 6.5 + 5 = 11.5 → +1.
    // 7: fast 7·2/3 + 12/3 = 8.67, slow 3.5 + 5.75 = 9.25 → -1. Before bar 3 the slow EMA is not ready → 0.
    // 10, 11, 10: fast 10 → 10.67 → 10.22, slow 10 → 10.5 → 10.25: below → -1 at bar 3.
    expect(scores(signal({ kind: 'emaCross', params: { fast: 2, slow: 3 } }), [10, 11, 10, 13, 7])).toEqual([0, 0, -1, 1, -1]);
    expect(scores(signal({ kind: 'emaCross', params: { fast: 2, slow: 3 } }), [10, 10, 10, 13, 7])).toEqual([0, 0, 0, 1, -1]);
  });

  it('RSI: +1 at or below oversold, -1 at or above overbought', () => {
    // RSI2: 10 → 11 → 12: gains 1, 1, losses 0 → RSI 100 → -1. 9: avg gain 1 + (0 − 1)/2 = 0.5,
    // avg loss 0 + (3 − 0)/2 = 1.5, RS 1/3, RSI 25 → +1. 10: gain 0.5 + (1 − 0.5)/2 = 0.75, loss 0.75 → RSI 50 → 0.
    expect(scores(signal({ kind: 'rsi', params: { period: 2, oversold: 30, overbought: 70 } }), [10, 11, 12, 9, 10])).toEqual([0, 0, -1, 1, 0]);
    // The bounds count: RSI exactly 50 is oversold at 50 (and 100 is above 99).
    expect(scores(signal({ kind: 'rsi', params: { period: 2, oversold: 50, overbought: 99 } }), [10, 11, 12, 9, 10])).toEqual([0, 0, -1, 1, 1]);
  });

  it('MACD: the sign of the histogram, once the signal line has its inputs', () => {
    // MACD(2,3,2) on 10,10,10,10: histogram 0 → 0. 16: fast 14, slow 13, MACD 1, signal 2/3 → histogram 1/3 → +1.
    // 4: fast 7.33, slow 8.5, MACD −1.17, signal −0.56 → histogram −0.61 → -1.
    expect(scores(signal({ kind: 'macd', params: { fast: 2, slow: 3, signal: 2 } }), [10, 10, 10, 10, 16, 4])).toEqual([0, 0, 0, 0, 1, -1]);
    // A jump on bar 3 still scores 0: the signal line needs slow + signal − 1 = 4 bars.
    expect(scores(signal({ kind: 'macd', params: { fast: 2, slow: 3, signal: 2 } }), [10, 10, 16])).toEqual([0, 0, 0]);
  });

  it('Bollinger bands: a close outside the bands scores towards the middle (revert) or onwards (breakout)', () => {
    // Window 10,10,13: mean 11, deviation √2 = 1.41, bands 9.59–12.41 at 1 deviation; 13 is above → revert -1, breakout +1.
    // Then 10,10,7 → window 13,10,7... use 10,10,13 then 10,10,7: window 10,10,7 mean 9, bands 7.59–10.41, 7 below → revert +1.
    const series = [10, 10, 13, 10, 10, 7];
    expect(scores(signal({ kind: 'bollinger', params: { period: 3, deviations: 1, mode: 'revert' } }), series)).toEqual([0, 0, -1, 0, 0, 1]);
    expect(scores(signal({ kind: 'bollinger', params: { period: 3, deviations: 1, mode: 'breakout' } }), series)).toEqual([0, 0, 1, 0, 0, -1]);
  });

  it('Donchian breakout: a close beyond the previous candles’ channel', () => {
    const c = (close: number, high: number, low: number) => ({ close, high, low, open: close });
    // Bars 1–3: channel 9–11. Bar 4 closes 12 > 11 → +1. Bar 5 closes 10.5 inside 9–12.5 → 0.
    // Bar 6 closes 8.5, below the channel of bars 3–5 (low 9) → -1.
    const series = [c(10, 11, 9), c(10, 11, 9), c(10, 11, 9), c(12, 12.5, 11), c(10.5, 12, 10), c(8.5, 10.5, 8)];
    expect(scores(signal({ kind: 'donchianBreakout', params: { period: 3 } }), series)).toEqual([0, 0, 0, 1, 0, -1]);
  });

  it('funding rate: fades (or follows) a rate beyond the threshold; silent without a rate', () => {
    const series = [{ close: 1, funding: null }, { close: 1, funding: 0.0002 }, { close: 1, funding: -0.0002 }, { close: 1, funding: 0.00005 }];
    // 0.02 % ≥ 0.01 %: longs crowded → fade -1, follow +1; −0.02 %: the mirror; 0.005 %: inside → 0.
    expect(scores(signal({ kind: 'fundingRateSignal', params: { thresholdPercent: 0.01, mode: 'fade' } }), series)).toEqual([0, -1, 1, 0]);
    expect(scores(signal({ kind: 'fundingRateSignal', params: { thresholdPercent: 0.01, mode: 'follow' } }), series)).toEqual([0, 1, -1, 0]);
  });
});

const part = (c: Omit<CheckComponent, 'id'>) => ({ id: 'c', ...c }) as CheckComponent;

describe('filters, entry guards and risk gates', () => {
  it('ADX trend strength: 100 in a steady climb, 0 in a flat market', () => {
    // Every candle one higher: +DM 1, −DM 0 → DX 100 → ADX 100. Flat candles: no directional movement → ADX 0.
    const climb = Array.from({ length: 8 }, (_, i) => ({ close: 10 + i, open: 10 + i, high: 10.5 + i, low: 9.5 + i }));
    const flat = Array.from({ length: 8 }, () => ({ close: 10, high: 11, low: 9 }));
    const trending = part({ role: 'filter', kind: 'adxTrend', params: { period: 2, min: 25 } });
    const ranging = part({ role: 'filter', kind: 'adxTrend', params: { period: 2, max: 25 } });
    expect(checks(trending, climb).at(-1)).toBe(true);
    expect(checks(ranging, climb).at(-1)).toBe('ADX2 100.00 is above 25.00');
    expect(checks(trending, flat).at(-1)).toBe('ADX2 0.00 is below 25.00');
    expect(checks(ranging, flat).at(-1)).toBe(true);
    expect(checks(trending, climb)[0]).toBe(WARMING);
  });

  it('volume: the candle against the average of the candles before it', () => {
    // Average of 10, 20, 30 is 20: 30 is 1.5× → passes 1.5×; 29 is 1.45× → fails.
    const filter = part({ role: 'filter', kind: 'volume', params: { period: 3, minRatio: 1.5 } });
    const v = (volume: number) => ({ close: 10, volume });
    expect(checks(filter, [v(10), v(20), v(30), v(30)])).toEqual([WARMING, WARMING, WARMING, true]);
    expect(checks(filter, [v(10), v(20), v(30), v(29)]).at(-1)).toBe('volume 1.45× its average, below 1.50×');
  });

  it('volatility regime: ATR as a percent of the close inside the range', () => {
    // High 10.1, low 9.9, close 10: true range 0.2 every candle → ATR 0.2 → 2 % of the close.
    const series = Array.from({ length: 4 }, () => ({ close: 10, high: 10.1, low: 9.9 }));
    expect(checks(part({ role: 'filter', kind: 'volatilityRegime', params: { period: 2, maxPercent: 1.5 } }), series).at(-1)).toBe('ATR2 % 2.00 is above 1.50');
    expect(checks(part({ role: 'filter', kind: 'volatilityRegime', params: { period: 2, minPercent: 2.5 } }), series).at(-1)).toBe('ATR2 % 2.00 is below 2.50');
    expect(checks(part({ role: 'filter', kind: 'volatilityRegime', params: { period: 2, minPercent: 1, maxPercent: 3 } }), series).at(-1)).toBe(true);
  });

  it('max distance from a moving average: refuses to chase', () => {
    // SMA3 of 100, 100, 112 is 104: 112 is 7.69 % away → refused at 5 %. EMA3 (k = 1/2): 106 → 5.66 % → refused;
    // with 110 instead: EMA 105, 4.76 % → allowed.
    expect(checks(part({ role: 'entryGuard', kind: 'maxDistanceFromMa', params: { average: 'sma', period: 3, maxPercent: 5 } }), [100, 100, 112])).toEqual([
      WARMING,
      WARMING,
      'close is 7.69% from its SMA3, more than 5.00%',
    ]);
    const ema = part({ role: 'entryGuard', kind: 'maxDistanceFromMa', params: { average: 'ema', period: 3, maxPercent: 5 } });
    expect(checks(ema, [100, 100, 100, 112]).at(-1)).toBe('close is 5.66% from its EMA3, more than 5.00%');
    expect(checks(ema, [100, 100, 100, 110]).at(-1)).toBe(true);
  });

  it('funding-rate gate: blocks the side that would pay too much', () => {
    const gate = part({ role: 'riskGate', kind: 'fundingRateGate', params: { maxPayPercent: 0.01 } });
    const series = [{ close: 1, funding: 0.0002 }];
    expect(checks(gate, series, 'long')).toEqual(['a long would pay 0.0200% funding, more than 0.0100%']);
    expect(checks(gate, series, 'short')).toEqual([true]);
    expect(checks(gate, [{ close: 1, funding: -0.0002 }], 'short')).toEqual(['a short would pay 0.0200% funding, more than 0.0100%']);
    expect(checks(gate, [{ close: 1 }], 'long')).toEqual([true]);
  });

  it('ATR gate: blocks entries while ATR is too large a share of the price', () => {
    const series = Array.from({ length: 3 }, () => ({ close: 10, high: 10.1, low: 9.9 }));
    expect(checks(part({ role: 'riskGate', kind: 'atrGate', params: { period: 2, maxPercent: 1.5 } }), series)).toEqual([WARMING, 'ATR2 % 2.00 is above 1.50', 'ATR2 % 2.00 is above 1.50']);
    expect(checks(part({ role: 'riskGate', kind: 'atrGate', params: { period: 2, maxPercent: 2.5 } }), series).at(-1)).toBe(true);
  });
});

describe('exit rules', () => {
  const exit = (c: Omit<ExitComponent, 'id' | 'role'>) => ({ id: 'x', role: 'exitRule', ...c }) as ExitComponent;
  const long = (over: Partial<PositionView> = {}): PositionView => ({ side: 'long', entryPrice: 100, bestClose: 100, candlesHeld: 1, ...over });
  const short = (over: Partial<PositionView> = {}): PositionView => ({ side: 'short', entryPrice: 100, bestClose: 100, candlesHeld: 1, ...over });

  it('stop-loss and take-profit at the given percent from the entry, either side', () => {
    const stop = exit({ kind: 'stopLoss', params: { percent: 2 } });
    expect(exitReason(stop, long(), 97.9, null)).toBe('loss 2.10% reached the 2.00% stop');
    expect(exitReason(stop, long(), 98.5, null)).toBeNull();
    expect(exitReason(stop, short(), 102.1, null)).toBe('loss 2.10% reached the 2.00% stop');
    const target = exit({ kind: 'takeProfit', params: { percent: 3 } });
    expect(exitReason(target, long(), 103.5, null)).toBe('profit 3.50% reached the 3.00% target');
    expect(exitReason(target, short(), 96.5, null)).toBe('profit 3.50% reached the 3.00% target');
    expect(exitReason(target, short(), 97.5, null)).toBeNull();
  });

  it('trailing stop: from the best close, not from the entry', () => {
    const trail = exit({ kind: 'trailingStop', params: { percent: 5 } });
    // Best 120, close 113.9 is 5.08 % back → fires, though still 13.9 % in profit; 114.5 is 4.58 % back → holds.
    expect(exitReason(trail, long({ bestClose: 120 }), 113.9, null)).toBe('close 5.08% back from the best close 120.00');
    expect(exitReason(trail, long({ bestClose: 120 }), 114.5, null)).toBeNull();
    expect(exitReason(trail, short({ bestClose: 80 }), 84.2, null)).toBe('close 5.25% back from the best close 80.00');
    expect(exitReason(trail, short({ bestClose: 80 }), 76, null)).toBeNull();
  });

  it('break-even: armed only after the trigger profit, then fires back at the offset', () => {
    const be = exit({ kind: 'breakEven', params: { triggerPercent: 2, offsetPercent: 0.5 } });
    expect(exitReason(be, long({ bestClose: 101.9 }), 100, null)).toBeNull();
    expect(exitReason(be, long({ bestClose: 102.5 }), 100.4, null)).toBe('profit fell back to 0.40% after reaching 2.00%');
    expect(exitReason(be, long({ bestClose: 102.5 }), 100.6, null)).toBeNull();
    expect(exitReason(be, short({ bestClose: 97 }), 99.6, null)).toBe('profit fell back to 0.40% after reaching 2.00%');
  });

  it('time stop after the given number of candle closes', () => {
    const time = exit({ kind: 'timeStop', params: { candles: 3 } });
    expect(exitReason(time, long({ candlesHeld: 2 }), 100, null)).toBeNull();
    expect(exitReason(time, long({ candlesHeld: 3 }), 100, null)).toBe('held 3 candles');
  });

  it('signal flip when the combined signal points the other way', () => {
    const flip = exit({ kind: 'signalFlip', params: {} });
    expect(exitReason(flip, long(), 100, 'short')).toBe('signals turned short');
    expect(exitReason(flip, long(), 100, 'long')).toBeNull();
    expect(exitReason(flip, long(), 100, null)).toBeNull();
    expect(exitReason(flip, short(), 100, 'long')).toBe('signals turned long');
  });
});
