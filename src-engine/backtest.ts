import { z } from 'zod';
import { FUNDING_INTERVAL_MS } from '../src-shared/market-series.ts';
import type { MarketSeries } from '../src-shared/market-series.ts';
import type { Decision, EngineConfig, Trade } from './engine.ts';
import { Engine } from './engine.ts';
import { slippedPrice, tradeFee } from './ledger.ts';
import type { Candle } from './types.ts';

/**
 * The backtest: replays candles through the same Engine a live bot runs, with a fill model that
 * matches how the exchange simulator fills market orders.
 *
 * - A decision taken at a candle's close is filled at the next candle's open, moved against us by
 *   the slippage, and charged the taker fee.
 * - Funding is settled at every funding time (every 8 h) that falls on a candle close, at that close,
 *   on the position held then; the signals see the latest settled rate.
 * - A position still open after the last candle is closed at the last close (same slippage and fee).
 */

export const FundingRatePoint = z.object({ time: z.number().int(), rate: z.number().min(-1).max(1) });
export type FundingRatePoint = z.infer<typeof FundingRatePoint>;

export interface BacktestInput {
  engine: EngineConfig;
  /** Closed candles in time order, one timeframe. */
  candles: readonly Candle[];
  /**
   * Closed candles just before the first, taken in as a live bot starting at the first candle takes in its
   * warm-up history (Engine#warmUp): indicators only, no decisions. None: the run starts cold.
   */
  history?: readonly Candle[];
  /** Settlements in time order; none: no funding is charged and funding signals stay silent. */
  fundingRates: readonly FundingRatePoint[];
  /** Starting balance in the settlement currency. */
  initialEquity: number;
  /** Taker fee per side, basis points of the traded value. */
  feeBps: number;
  slippageBps: number;
}

/** Anything with an `aborted` flag: an AbortSignal, or a flag a worker flips on a message. */
export interface CancelFlag {
  readonly aborted: boolean;
}

export interface BacktestOptions {
  /** Called every `checkEvery` candles and at the end with candles done and the total. */
  onProgress?: (done: number, total: number) => void;
  /** Checked every `checkEvery` candles; once set, the run stops and returns what it has, marked cancelled. */
  cancel?: CancelFlag;
  checkEvery?: number;
}

export interface EquityPoint {
  time: number;
  equity: number;
}

export interface BacktestSummary {
  candles: number;
  startEquity: number;
  endEquity: number;
  netProfit: number;
  returnPercent: number;
  maxDrawdown: number;
  maxDrawdownPercent: number;
  trades: number;
  winRatePercent: number | null;
  /** Gross profit of winning trades over gross loss of losing ones; null with no losing trade. */
  profitFactor: number | null;
  /** Annualised from per-candle equity returns, risk-free rate 0; null when equity never moved. */
  sharpe: number | null;
  /** Share of candles that closed with a position open. */
  exposurePercent: number;
  fees: number;
  funding: number;
  blockedEntries: number;
}

export interface BacktestResult {
  cancelled: boolean;
  summary: BacktestSummary;
  trades: Trade[];
  equityCurve: EquityPoint[];
  decisions: Decision[];
}

const YEAR_MS = 365 * 86_400_000;

export function runBacktest(input: BacktestInput, options: BacktestOptions = {}): BacktestResult {
  const { candles, fundingRates, feeBps, slippageBps } = input;
  if (!(feeBps >= 0 && slippageBps >= 0)) throw new RangeError('fees and slippage must be ≥ 0 basis points');
  for (let i = 1; i < fundingRates.length; i++) {
    if ((fundingRates[i] as FundingRatePoint).time <= (fundingRates[i - 1] as FundingRatePoint).time) throw new RangeError('funding rates must be in time order');
  }
  const engine = Engine.create(input.engine, input.initialEquity);
  if (input.history) engine.warmUp(input.history.map((candle) => ({ candle, fundingRate: null })));
  const { contract, timeframeMs } = engine.config;
  const checkEvery = Math.max(1, options.checkEvery ?? 1024);
  const trades: Trade[] = [];
  const decisions: Decision[] = [];
  const equityCurve: EquityPoint[] = [];
  let fundingIndex = 0;
  let fundingRate: number | null = null;
  let fundingTotal = 0;
  let exposed = 0;
  let cancelled = false;

  const fillAt = (price: number, time: number) => {
    const order = engine.pendingOrder;
    if (!order) return;
    const buying = (order.action === 'enter') === (order.side === 'long');
    const fillPrice = slippedPrice(price, buying, slippageBps);
    const trade = engine.fill({ time, price: fillPrice, quantity: order.quantity, fee: tradeFee(contract, order.quantity, fillPrice, feeBps) });
    if (trade) trades.push(trade);
  };

  let done = 0;
  for (const candle of candles) {
    if (done % checkEvery === 0 && done > 0) {
      options.onProgress?.(done, candles.length);
      if (options.cancel?.aborted) {
        cancelled = true;
        break;
      }
    }
    fillAt(candle.open, candle.time);
    const close = candle.time + timeframeMs;
    // Settlements inside this candle are paid by the position held through it (several, on candles
    // longer than the funding interval), marked at the close: the last price the backtest knows.
    const settling = fundingIndex;
    while (fundingIndex < fundingRates.length && (fundingRates[fundingIndex] as FundingRatePoint).time <= close) {
      fundingRate = (fundingRates[fundingIndex++] as FundingRatePoint).rate;
    }
    for (const decision of engine.step({ candle, fundingRate })) decisions.push(decision);
    for (let i = settling; i < fundingIndex; i++) {
      const point = fundingRates[i] as FundingRatePoint;
      if (point.time > candle.time) fundingTotal += engine.settleFunding({ rate: point.rate, markPrice: candle.close });
    }
    if (engine.position) exposed++;
    equityCurve.push({ time: close, equity: engine.equity(candle.close) });
    done++;
  }

  const last = candles[done - 1];
  if (!cancelled && last) {
    if (engine.pendingOrder?.action === 'enter') engine.rejectOrder();
    if (engine.position) {
      if (!engine.pendingOrder) engine.requestExit(last.time + timeframeMs, 'endOfData', 'the backtest ran out of candles');
      fillAt(last.close, last.time + timeframeMs);
      const point = equityCurve[equityCurve.length - 1];
      if (point) point.equity = engine.equity();
    }
  }
  options.onProgress?.(done, candles.length);
  return {
    cancelled,
    summary: summarise(input.initialEquity, engine.balance, trades, equityCurve, decisions, exposed, fundingTotal, timeframeMs),
    trades,
    equityCurve,
    decisions,
  };
}

function summarise(
  startEquity: number,
  endEquity: number,
  trades: readonly Trade[],
  curve: readonly EquityPoint[],
  decisions: readonly Decision[],
  exposed: number,
  funding: number,
  timeframeMs: number,
): BacktestSummary {
  let peak = startEquity;
  let maxDrawdown = 0;
  let maxDrawdownPercent = 0;
  let previous = startEquity;
  let sum = 0;
  let sumSquares = 0;
  for (const point of curve) {
    peak = Math.max(peak, point.equity);
    maxDrawdown = Math.max(maxDrawdown, peak - point.equity);
    maxDrawdownPercent = Math.max(maxDrawdownPercent, ((peak - point.equity) / peak) * 100);
    const r = point.equity / previous - 1;
    sum += r;
    sumSquares += r * r;
    previous = point.equity;
  }
  const n = curve.length;
  const mean = n > 0 ? sum / n : 0;
  const variance = n > 1 ? (sumSquares - n * mean * mean) / (n - 1) : 0;
  const deviation = Math.sqrt(Math.max(0, variance));
  let grossWins = 0;
  let grossLosses = 0;
  let wins = 0;
  let fees = 0;
  for (const t of trades) {
    fees += t.fees;
    if (t.netPnl > 0) {
      wins++;
      grossWins += t.netPnl;
    } else {
      grossLosses -= t.netPnl;
    }
  }
  return {
    candles: n,
    startEquity,
    endEquity,
    netProfit: endEquity - startEquity,
    returnPercent: ((endEquity - startEquity) / startEquity) * 100,
    maxDrawdown,
    maxDrawdownPercent,
    trades: trades.length,
    winRatePercent: trades.length > 0 ? (wins / trades.length) * 100 : null,
    profitFactor: grossLosses > 0 ? grossWins / grossLosses : null,
    sharpe: deviation > 0 ? (mean / deviation) * Math.sqrt(YEAR_MS / timeframeMs) : null,
    exposurePercent: n > 0 ? (exposed / n) * 100 : 0,
    fees,
    funding,
    blockedEntries: decisions.filter((d) => d.type === 'blocked').length,
  };
}

/** The funding settlements of a simulated series between two times: every 8 h, the rate settled then. */
export function seriesFundingRates(series: MarketSeries, fromMs: number, toMs: number): FundingRatePoint[] {
  const out: FundingRatePoint[] = [];
  for (let time = Math.ceil(fromMs / FUNDING_INTERVAL_MS) * FUNDING_INTERVAL_MS; time <= toMs; time += FUNDING_INTERVAL_MS) {
    // fundingRate(ms) is the rate settled at the end of the interval holding ms.
    out.push({ time, rate: series.fundingRate(time - 1) });
  }
  return out;
}
