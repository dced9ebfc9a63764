/**
 * One deterministic market: the price process the exchange simulator serves and the backtests
 * replay, so a bot on the simulator and a backtest on the same candles see the same prices.
 *
 * Pure: no clock, no I/O, no Math.random. A seed string fixes everything. The process switches
 * regime every 12 hours (trend up, trend down, range, volatility burst, quiet drift), so trend,
 * mean-reversion and breakout strategies all find something to trade in any few days.
 */

export const MINUTE_MS = 60_000;
/** Funding is settled every 8 hours on all three exchanges' perpetuals. */
export const FUNDING_INTERVAL_MS = 8 * 60 * MINUTE_MS;
const BLOCK_MINUTES = 720;

export const TIMEFRAMES = {
  '1m': MINUTE_MS,
  '5m': 5 * MINUTE_MS,
  '15m': 15 * MINUTE_MS,
  '1h': 60 * MINUTE_MS,
  '4h': 240 * MINUTE_MS,
  '1d': 1440 * MINUTE_MS,
} as const;
export type Timeframe = keyof typeof TIMEFRAMES;

export interface Candle {
  /** Open time, ms since the epoch, aligned to the timeframe. */
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
  /** Traded base-asset quantity in the candle. */
  volume: number;
}

export interface SeriesSpec {
  seed: string;
  /** The price at `originMs`. */
  startPrice: number;
  /** The first minute of the series (ms, a whole minute). Nothing exists before it. */
  originMs: number;
}

type RegimeKind = 'trend-up' | 'trend-down' | 'range' | 'burst' | 'quiet';
interface Regime {
  kind: RegimeKind;
  /** Drift of the log price per minute. */
  drift: number;
  /** Standard deviation of the log return per minute. */
  vol: number;
  /** Pull back to the block's starting level per minute (range regimes). */
  reversion: number;
  volumeFactor: number;
}

/** FNV-1a, to turn the seed into 32 bits. */
function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A counter-based generator: uniform in [0, 1) for (seed, index, lane), reachable in any order. */
function uniform(seed: number, index: number, lane: number): number {
  let x = (seed ^ Math.imul(index + 1, 0x9e3779b1) ^ Math.imul(lane + 1, 0x85ebca6b)) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  x ^= x >>> 16;
  return (x >>> 0) / 4294967296;
}

/** A standard normal variate from two uniforms (Box-Muller). */
function normal(seed: number, index: number, lane: number): number {
  const u1 = Math.max(uniform(seed, index, lane), 1e-12);
  const u2 = uniform(seed, index, lane + 1);
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

const REGIMES: readonly RegimeKind[] = ['trend-up', 'trend-down', 'range', 'burst', 'quiet', 'range', 'trend-up', 'trend-down'];

function regimeOf(seed: number, block: number): Regime {
  const kind = REGIMES[Math.floor(uniform(seed, block, 100) * REGIMES.length)] ?? 'quiet';
  const strength = 0.5 + uniform(seed, block, 101);
  switch (kind) {
    case 'trend-up':
      return { kind, drift: 0.00004 * strength, vol: 0.0009, reversion: 0, volumeFactor: 1.2 };
    case 'trend-down':
      return { kind, drift: -0.00004 * strength, vol: 0.001, reversion: 0, volumeFactor: 1.3 };
    case 'range':
      return { kind, drift: 0, vol: 0.0008, reversion: 0.004 * strength, volumeFactor: 0.8 };
    case 'burst':
      return { kind, drift: (uniform(seed, block, 102) - 0.5) * 0.00008, vol: 0.0026 * strength, reversion: 0, volumeFactor: 2.5 };
    case 'quiet':
      return { kind, drift: 0.000005, vol: 0.0004, reversion: 0.001, volumeFactor: 0.6 };
  }
}

/**
 * A seeded market for one symbol. Minutes are generated block by block and the block starts are
 * kept, so any minute can be read after generating at most one block past the furthest read.
 */
export class MarketSeries {
  readonly spec: SeriesSpec;
  readonly #seed: number;
  /** Log price at the start of each generated block. */
  readonly #blockStarts: number[];

  constructor(spec: SeriesSpec) {
    if (!(spec.startPrice > 0)) throw new RangeError('startPrice must be positive');
    if (spec.originMs % MINUTE_MS !== 0) throw new RangeError('originMs must be a whole minute');
    this.spec = spec;
    this.#seed = hashString(spec.seed);
    this.#blockStarts = [Math.log(spec.startPrice)];
  }

  #blockStart(block: number): number {
    while (this.#blockStarts.length <= block) {
      const b = this.#blockStarts.length - 1;
      const path = this.#blockPath(b);
      this.#blockStarts.push(path[path.length - 1] ?? 0);
    }
    return this.#blockStarts[block] ?? 0;
  }

  /** Log closes of every minute in a block, and the log open before the first as element 0. */
  #blockPath(block: number): Float64Array {
    const start = this.#blockStarts[block];
    if (start === undefined) throw new Error('block start not generated');
    const regime = regimeOf(this.#seed, block);
    const path = new Float64Array(BLOCK_MINUTES + 1);
    path[0] = start;
    let logPrice = start;
    for (let m = 0; m < BLOCK_MINUTES; m++) {
      const index = block * BLOCK_MINUTES + m;
      const pull = regime.reversion * (start - logPrice);
      logPrice += regime.drift + pull + regime.vol * normal(this.#seed, index, 0);
      path[m + 1] = logPrice;
    }
    return path;
  }

  /** The 1-minute candle at minute `index` (0 is `originMs`). */
  minute(index: number): Candle {
    return this.minutes(index, 1)[0] as Candle;
  }

  /** `count` consecutive 1-minute candles from minute `from`. */
  minutes(from: number, count: number): Candle[] {
    if (!Number.isInteger(from) || from < 0) throw new RangeError('minute index must be a whole number ≥ 0');
    const out: Candle[] = [];
    let block = Math.floor(from / BLOCK_MINUTES);
    this.#blockStart(block);
    let path = this.#blockPath(block);
    const regimeVolume = () => regimeOf(this.#seed, block).volumeFactor;
    let volumeFactor = regimeVolume();
    for (let index = from; index < from + count; index++) {
      const b = Math.floor(index / BLOCK_MINUTES);
      if (b !== block) {
        block = b;
        this.#blockStart(block);
        path = this.#blockPath(block);
        volumeFactor = regimeVolume();
      }
      const m = index - block * BLOCK_MINUTES;
      const open = Math.exp(path[m] ?? 0);
      const close = Math.exp(path[m + 1] ?? 0);
      const wick = Math.abs(close - open) * 0.5 + open * 0.0003;
      const high = Math.max(open, close) + wick * uniform(this.#seed, index, 10);
      const low = Math.min(open, close) - wick * uniform(this.#seed, index, 11);
      const move = Math.abs(Math.log(close / open)) * 400;
      const volume = (1 + move + uniform(this.#seed, index, 12)) * 10 * volumeFactor;
      out.push({ time: this.spec.originMs + index * MINUTE_MS, open, high, low, close, volume });
    }
    return out;
  }

  /**
   * Candles of `timeframeMs` whose open time lies in [fromMs, toMs), aligned to the timeframe
   * (from the epoch, as exchanges align them). Only whole candles inside the series are returned.
   */
  candles(timeframeMs: number, fromMs: number, toMs: number): Candle[] {
    if (timeframeMs % MINUTE_MS !== 0 || timeframeMs <= 0) throw new RangeError('timeframe must be whole minutes');
    const first = Math.ceil(Math.max(fromMs, this.spec.originMs) / timeframeMs) * timeframeMs;
    const out: Candle[] = [];
    if (first >= toMs) return out;
    const perCandle = timeframeMs / MINUTE_MS;
    const count = Math.ceil((toMs - first) / timeframeMs);
    const minutes = this.minutes((first - this.spec.originMs) / MINUTE_MS, count * perCandle);
    for (let c = 0; c < count; c++) {
      const slice = minutes.slice(c * perCandle, (c + 1) * perCandle);
      const head = slice[0];
      const tail = slice[slice.length - 1];
      if (!head || !tail) break;
      let high = -Infinity;
      let low = Infinity;
      let volume = 0;
      for (const m of slice) {
        high = Math.max(high, m.high);
        low = Math.min(low, m.low);
        volume += m.volume;
      }
      out.push({ time: head.time, open: head.open, high, low, close: tail.close, volume });
    }
    return out;
  }

  /** The last traded price at `ms`: the close of the last whole minute before it (the start price before that). */
  priceAt(ms: number): number {
    const index = Math.floor((ms - this.spec.originMs) / MINUTE_MS) - 1;
    if (index < 0) return this.spec.startPrice;
    return this.minute(index).close;
  }

  /**
   * The funding rate settled at the end of the 8-hour interval holding `ms`: positive when the
   * market has been rising (longs pay shorts), between -0.375% and +0.375%.
   */
  fundingRate(ms: number): number {
    const intervalStart = Math.floor(ms / FUNDING_INTERVAL_MS) * FUNDING_INTERVAL_MS;
    const from = Math.max(intervalStart - FUNDING_INTERVAL_MS, this.spec.originMs);
    if (intervalStart <= this.spec.originMs) return 0.0001;
    const before = this.priceAt(from);
    const after = this.priceAt(intervalStart);
    const premium = Math.log(after / before) * 0.05;
    const noise = (uniform(this.#seed, Math.floor(intervalStart / FUNDING_INTERVAL_MS), 20) - 0.5) * 0.0001;
    const rate = 0.0001 + premium + noise;
    return Math.min(0.00375, Math.max(-0.00375, Math.round(rate * 1e8) / 1e8));
  }
}

/** Where every default series begins: 2026-01-01T00:00:00Z. */
export const DEFAULT_SERIES_ORIGIN_MS = Date.UTC(2026, 0, 1);

const START_PRICES: Readonly<Record<string, number>> = { BTC: 60_000, ETH: 3_000, SOL: 150, XRP: 0.6 };

/**
 * The default series for a base asset (BTC, ETH, …). The seed is the asset, not the exchange, so
 * one coin has one price across the simulated exchanges, as arbitrage keeps it in real markets.
 */
export function defaultSeries(base: string, originMs: number = DEFAULT_SERIES_ORIGIN_MS): MarketSeries {
  const asset = base.toUpperCase();
  return new MarketSeries({ seed: `plutarc:${asset}`, startPrice: START_PRICES[asset] ?? 100, originMs });
}
