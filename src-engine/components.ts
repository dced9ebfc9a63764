import { ADX, ATR, BollingerBands, DonchianChannels, EMA, MACD, RSI, SMA } from 'trading-signals';
import type { Component, ComponentOf } from '../src-shared/templates.ts';
import type { Bar, Check, PositionView, Score, Side } from './types.ts';

/**
 * The component library: each kind turns into a small runtime fed one bar per candle close.
 * Indicators come from trading-signals (streaming, one update per candle). Their state lives in
 * private fields and cannot be serialised, so a runtime is always rebuilt by replaying bars; each
 * runtime states how many bars of history it needs for that replay to reproduce its values
 * (its memory), and the engine keeps that many bars in its snapshot.
 */

/** Weight below which older bars no longer show in an exponential average (far under any price tick). */
const NEGLIGIBLE_WEIGHT = 1e-9;

/** Bars after which an exponential average with smoothing `alpha`, seeded over `seed` bars, has forgotten its start. */
function exponentialMemory(alpha: number, seed: number): number {
  return seed + Math.ceil(Math.log(NEGLIGIBLE_WEIGHT) / Math.log(1 - alpha));
}
const emaMemory = (period: number) => exponentialMemory(2 / (period + 1), period);
/** Wilder's smoothing (RSI, ATR, ADX): alpha 1/period, seeded with a simple average. */
const wilderMemory = (period: number) => exponentialMemory(1 / period, period);

export interface SignalRuntime {
  readonly memory: number;
  update(bar: Bar): void;
  /** The score at the last bar's close; 0 until warmed up. */
  score(): Score;
  /** What the score rests on, for the decision record. */
  explain(): string;
}

export interface CheckRuntime {
  readonly memory: number;
  update(bar: Bar): void;
  /** Whether an entry on `side` may go ahead at the last bar's close. */
  check(bar: Bar, side: Side): Check;
}

const fmt = (value: number) => (Number.isFinite(value) ? value.toFixed(2) : String(value));
const pass: Check = { pass: true };
const fail = (reason: string): Check => ({ pass: false, reason });
const warming: Check = fail('indicator still warming up');
/** The other way round, keeping 0 a plain 0 (not -0) so scores compare and serialise alike. */
const opposite = (score: Score): Score => (score === 0 ? 0 : score === 1 ? -1 : 1);

/**
 * trading-signals answers getResult() on an indicator that is not ready by throwing and catching an
 * error; after every rebuild that happens for a whole warm-up, so ask whether it is ready first.
 */
function resultOf<R>(indicator: { readonly isStable: boolean; getResult(): R | null }): R | null {
  return indicator.isStable ? indicator.getResult() : null;
}

/** The EMA's own isStable throws and catches too, so its inputs are counted here. */
function streamingEma(period: number) {
  const ema = new EMA(period);
  let seen = 0;
  return {
    add: (price: number) => {
      ema.add(price);
      seen++;
    },
    value: (): number | null => (seen >= period ? ema.getResult() : null),
  };
}

function emaCross(p: ComponentOf<'emaCross'>['params']): SignalRuntime {
  const fast = streamingEma(p.fast);
  const slow = streamingEma(p.slow);
  return {
    memory: emaMemory(p.slow),
    update: (bar) => {
      fast.add(bar.candle.close);
      slow.add(bar.candle.close);
    },
    score: () => {
      const f = fast.value();
      const s = slow.value();
      if (f === null || s === null) return 0;
      return f > s ? 1 : f < s ? -1 : 0;
    },
    explain: () => `EMA${p.fast} ${fmt(fast.value() ?? NaN)} vs EMA${p.slow} ${fmt(slow.value() ?? NaN)}`,
  };
}

function rsi(p: ComponentOf<'rsi'>['params']): SignalRuntime {
  const indicator = new RSI(p.period);
  return {
    memory: wilderMemory(p.period) + 1,
    update: (bar) => {
      indicator.add(bar.candle.close);
    },
    score: () => {
      const value = resultOf(indicator);
      if (value === null) return 0;
      return value <= p.oversold ? 1 : value >= p.overbought ? -1 : 0;
    },
    explain: () => `RSI${p.period} ${fmt(resultOf(indicator) ?? NaN)}`,
  };
}

function macd(p: ComponentOf<'macd'>['params']): SignalRuntime {
  const indicator = new MACD(new EMA(p.fast), new EMA(p.slow), new EMA(p.signal));
  // The signal line is an average of MACD values: it is meaningful once it has `signal` of them.
  const warmup = p.slow + p.signal - 1;
  let seen = 0;
  return {
    memory: emaMemory(p.slow) + emaMemory(p.signal),
    update: (bar) => {
      indicator.add(bar.candle.close);
      seen++;
    },
    score: () => {
      const value = resultOf(indicator);
      if (value === null || seen < warmup) return 0;
      return value.histogram > 0 ? 1 : value.histogram < 0 ? -1 : 0;
    },
    explain: () => `MACD histogram ${fmt(resultOf(indicator)?.histogram ?? NaN)}`,
  };
}

function bollinger(p: ComponentOf<'bollinger'>['params']): SignalRuntime {
  const bands = new BollingerBands(p.period, p.deviations);
  let close = NaN;
  return {
    memory: p.period,
    update: (bar) => {
      bands.add(bar.candle.close);
      close = bar.candle.close;
    },
    score: () => {
      const b = resultOf(bands);
      if (b === null) return 0;
      const outside: Score = close < b.lower ? -1 : close > b.upper ? 1 : 0;
      return p.mode === 'breakout' ? outside : opposite(outside);
    },
    explain: () => {
      const b = resultOf(bands);
      return b ? `close ${fmt(close)} vs bands ${fmt(b.lower)}–${fmt(b.upper)}` : 'bands warming up';
    },
  };
}

function donchianBreakout(p: ComponentOf<'donchianBreakout'>['params']): SignalRuntime {
  const channel = new DonchianChannels(p.period);
  let last: Score = 0;
  let close = NaN;
  let before: { lower: number; upper: number } | null = null;
  return {
    // The channel of the previous `period` bars, plus the bar that breaks it.
    memory: p.period + 1,
    update: (bar) => {
      // The breakout is against the channel before this bar, so read it first.
      before = resultOf(channel);
      close = bar.candle.close;
      last = before === null ? 0 : close > before.upper ? 1 : close < before.lower ? -1 : 0;
      channel.add(bar.candle);
    },
    score: () => last,
    explain: () => (before ? `close ${fmt(close)} vs channel ${fmt(before.lower)}–${fmt(before.upper)}` : 'channel warming up'),
  };
}

function fundingRateSignal(p: ComponentOf<'fundingRateSignal'>['params']): SignalRuntime {
  let rate: number | null = null;
  return {
    memory: 1,
    update: (bar) => {
      rate = bar.fundingRate;
    },
    score: () => {
      if (rate === null) return 0;
      const percentRate = rate * 100;
      const crowd: Score = percentRate >= p.thresholdPercent ? 1 : percentRate <= -p.thresholdPercent ? -1 : 0;
      return p.mode === 'follow' ? crowd : opposite(crowd);
    },
    explain: () => (rate === null ? 'no funding rate yet' : `funding ${(rate * 100).toFixed(4)}%`),
  };
}

function within(value: number, min: number | undefined, max: number | undefined, what: string): Check {
  if (min !== undefined && value < min) return fail(`${what} ${fmt(value)} is below ${fmt(min)}`);
  if (max !== undefined && value > max) return fail(`${what} ${fmt(value)} is above ${fmt(max)}`);
  return pass;
}

function adxTrend(p: ComponentOf<'adxTrend'>['params']): CheckRuntime {
  const indicator = new ADX(p.period);
  return {
    memory: 2 * wilderMemory(p.period) + 1,
    update: (bar) => {
      indicator.add(bar.candle);
    },
    check: () => {
      const value = resultOf(indicator);
      return value === null ? warming : within(value, p.min, p.max, `ADX${p.period}`);
    },
  };
}

function volume(p: ComponentOf<'volume'>['params']): CheckRuntime {
  // The candle's volume is compared with the average of the bars before it.
  const average = new SMA(p.period);
  let before: number | null = null;
  let current = NaN;
  return {
    memory: p.period + 1,
    update: (bar) => {
      before = resultOf(average);
      current = bar.candle.volume;
      average.add(current);
    },
    check: () => {
      if (before === null) return warming;
      if (before === 0) return current > 0 ? pass : fail('no volume traded');
      const ratio = current / before;
      return ratio >= p.minRatio ? pass : fail(`volume ${fmt(ratio)}× its average, below ${fmt(p.minRatio)}×`);
    },
  };
}

function atrPercent(period: number) {
  const atr = new ATR(period);
  let close = NaN;
  return {
    memory: wilderMemory(period) + 1,
    update: (bar: Bar) => {
      atr.add(bar.candle);
      close = bar.candle.close;
    },
    value: (): number | null => {
      const value = resultOf(atr);
      return value === null ? null : (value / close) * 100;
    },
  };
}

function volatilityRegime(p: ComponentOf<'volatilityRegime'>['params']): CheckRuntime {
  const atr = atrPercent(p.period);
  return {
    memory: atr.memory,
    update: atr.update,
    check: () => {
      const value = atr.value();
      return value === null ? warming : within(value, p.minPercent, p.maxPercent, `ATR${p.period} %`);
    },
  };
}

function maxDistanceFromMa(p: ComponentOf<'maxDistanceFromMa'>['params']): CheckRuntime {
  const sma = new SMA(p.period);
  const ema = streamingEma(p.period);
  const average = p.average === 'ema' ? { add: ema.add, value: ema.value } : { add: (price: number) => sma.add(price), value: () => resultOf(sma) };
  let close = NaN;
  return {
    memory: p.average === 'ema' ? emaMemory(p.period) : p.period,
    update: (bar) => {
      average.add(bar.candle.close);
      close = bar.candle.close;
    },
    check: () => {
      const ma = average.value();
      if (ma === null) return warming;
      const distance = (Math.abs(close - ma) / ma) * 100;
      return distance <= p.maxPercent
        ? pass
        : fail(`close is ${fmt(distance)}% from its ${p.average.toUpperCase()}${p.period}, more than ${fmt(p.maxPercent)}%`);
    },
  };
}

function fundingRateGate(p: ComponentOf<'fundingRateGate'>['params']): CheckRuntime {
  let rate: number | null = null;
  return {
    memory: 1,
    update: (bar) => {
      rate = bar.fundingRate;
    },
    check: (_bar, side) => {
      if (rate === null) return pass;
      // Longs pay a positive rate, shorts a negative one.
      const paid = (side === 'long' ? rate : -rate) * 100;
      return paid > p.maxPayPercent
        ? fail(`a ${side} would pay ${paid.toFixed(4)}% funding, more than ${p.maxPayPercent.toFixed(4)}%`)
        : pass;
    },
  };
}

function atrGate(p: ComponentOf<'atrGate'>['params']): CheckRuntime {
  const atr = atrPercent(p.period);
  return {
    memory: atr.memory,
    update: atr.update,
    check: () => {
      const value = atr.value();
      return value === null ? warming : within(value, undefined, p.maxPercent, `ATR${p.period} %`);
    },
  };
}

export function signalRuntime(component: Extract<Component, { role: 'signal' }>): SignalRuntime {
  switch (component.kind) {
    case 'emaCross':
      return emaCross(component.params);
    case 'rsi':
      return rsi(component.params);
    case 'macd':
      return macd(component.params);
    case 'bollinger':
      return bollinger(component.params);
    case 'donchianBreakout':
      return donchianBreakout(component.params);
    case 'fundingRateSignal':
      return fundingRateSignal(component.params);
  }
}

export type CheckComponent = Extract<Component, { role: 'filter' | 'entryGuard' | 'riskGate' }>;

export function checkRuntime(component: CheckComponent): CheckRuntime {
  switch (component.kind) {
    case 'adxTrend':
      return adxTrend(component.params);
    case 'volume':
      return volume(component.params);
    case 'volatilityRegime':
      return volatilityRegime(component.params);
    case 'maxDistanceFromMa':
      return maxDistanceFromMa(component.params);
    case 'fundingRateGate':
      return fundingRateGate(component.params);
    case 'atrGate':
      return atrGate(component.params);
  }
}

export type ExitComponent = Extract<Component, { role: 'exitRule' }>;

/** Profit of the position at `price`, in percent of the entry price (positive in favour). */
export function profitPercent(position: PositionView, price: number): number {
  const move = (price - position.entryPrice) / position.entryPrice;
  return (position.side === 'long' ? move : -move) * 100;
}

/**
 * Whether an exit rule fires at this close. Exit rules need no indicators: they read the position
 * (entry, best close since entry, candles held) and the combined signal, all plain state.
 */
export function exitReason(component: ExitComponent, position: PositionView, close: number, combined: Side | null): string | null {
  const profit = profitPercent(position, close);
  switch (component.kind) {
    case 'stopLoss':
      return profit <= -component.params.percent ? `loss ${fmt(-profit)}% reached the ${fmt(component.params.percent)}% stop` : null;
    case 'takeProfit':
      return profit >= component.params.percent ? `profit ${fmt(profit)}% reached the ${fmt(component.params.percent)}% target` : null;
    case 'trailingStop': {
      const back = (Math.abs(position.bestClose - close) / position.bestClose) * 100;
      const against = position.side === 'long' ? close < position.bestClose : close > position.bestClose;
      return against && back >= component.params.percent
        ? `close ${fmt(back)}% back from the best close ${fmt(position.bestClose)}`
        : null;
    }
    case 'breakEven': {
      const armed = profitPercent(position, position.bestClose) >= component.params.triggerPercent;
      return armed && profit <= component.params.offsetPercent
        ? `profit fell back to ${fmt(profit)}% after reaching ${fmt(component.params.triggerPercent)}%`
        : null;
    }
    case 'timeStop':
      return position.candlesHeld >= component.params.candles ? `held ${position.candlesHeld} candles` : null;
    case 'signalFlip':
      return combined !== null && combined !== position.side ? `signals turned ${combined}` : null;
  }
}
