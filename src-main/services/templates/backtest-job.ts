// What the backtest worker is asked to do and how it answers, checked on both sides of the thread
// border, and the work itself: the engine's backtest loop on the simulator's series, reduced to what
// the app shows. Only src-engine and src-shared: it runs inside the worker.
import { z } from 'zod';
import { Engine } from '../../../src-engine/engine.ts';
import { runBacktest, seriesFundingRates, type BacktestResult, type CancelFlag } from '../../../src-engine/backtest.ts';
import { bucketKeepingDeepest } from '../../../src-shared/curve-buckets.ts';
import { TemplateErrorCode } from '../../../src-shared/errors.ts';
import { ContractType } from '../../../src-shared/exchanges.ts';
import type { BacktestOutcome, BacktestReport, CandleSpan, PreviewResult } from '../../../src-shared/ipc-templates.ts';
import { parseKlineCsv } from '../../../src-engine/csv.ts';
import type { Candle } from '../../../src-engine/types.ts';
import {
  BacktestSymbol,
  MAX_BACKTEST_CANDLES,
  MAX_CSV_BYTES,
  MAX_CURVE_POINTS,
  MAX_TRADES_KEPT,
  PREVIEW_CANDLES,
  TimeframeName,
  type CurvePoint,
  type PreviewDecision,
} from '../../../src-shared/ipc-templates.ts';
import { defaultSeries, TIMEFRAMES } from '../../../src-shared/market-series.ts';
import { TemplateBody } from '../../../src-shared/templates.ts';

const Market = { template: TemplateBody, symbol: BacktestSymbol, timeframe: TimeframeName };

export const BacktestJob = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('backtest'),
    ...Market,
    from: z.number().int(),
    to: z.number().int(),
    initialEquity: z.number().positive(),
    contract: ContractType,
    feeBps: z.number().min(0),
    slippageBps: z.number().min(0),
    /** A kline file's text, replayed whole instead of the simulated market's period. */
    csv: z.string().max(MAX_CSV_BYTES).optional(),
    /** An exchange's candles main fetched for the period, replayed instead of the simulated market's. */
    candles: z
      .array(z.object({ time: z.number(), open: z.number(), high: z.number(), low: z.number(), close: z.number(), volume: z.number() }))
      .max(MAX_BACKTEST_CANDLES)
      .optional(),
  }),
  z.strictObject({
    kind: z.literal('preview'),
    ...Market,
    /** The last `candles` candles closed at or before `to`. */
    to: z.number().int(),
    candles: z.number().int().min(PREVIEW_CANDLES.min).max(PREVIEW_CANDLES.max),
  }),
]);
export type BacktestJob = z.infer<typeof BacktestJob>;

export const WorkerMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('progress'), done: z.number().int(), total: z.number().int() }),
  z.object({ type: z.literal('done'), result: z.unknown() }),
  /** `kind`: the error's class name for main's log (never its message, which could hold anything). */
  z.object({ type: z.literal('failed'), code: TemplateErrorCode, message: z.string(), kind: z.string().max(100).optional() }),
]);
export type WorkerMessage = z.infer<typeof WorkerMessage>;

/** A problem with the job the user can act on (no candles in the period, …), as opposed to a crash. */
export class JobRefused extends Error {
  readonly code: TemplateErrorCode;
  constructor(code: TemplateErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

const PREVIEW_EQUITY = 10_000;

/** The equity curve in at most `maxPoints` buckets: each bucket's last equity and the deepest drawdown inside it. */
export function bucketCurve(curve: readonly { time: number; equity: number }[], startEquity: number, maxPoints = MAX_CURVE_POINTS): CurvePoint[] {
  let peak = startEquity;
  const withDrawdown = curve.map((point) => {
    peak = Math.max(peak, point.equity);
    return { ...point, drawdownPercent: ((peak - point.equity) / peak) * 100 };
  });
  return bucketKeepingDeepest(withDrawdown, (point) => point.drawdownPercent, maxPoints).map(({ last, deepest }) => ({
    time: last.time,
    equity: last.equity,
    drawdownPercent: deepest,
  }));
}

export function reportOf(result: BacktestResult): BacktestReport {
  return {
    cancelled: result.cancelled,
    summary: result.summary,
    trades: result.trades.slice(0, MAX_TRADES_KEPT),
    curve: bucketCurve(result.equityCurve, result.summary.startEquity),
  };
}

/** Reports progress every hundredth of the run, but not more often than every 256 candles nor less than every 8192. */
const checkEveryFor = (total: number) => Math.min(8192, Math.max(256, Math.ceil(total / 100)));

export interface JobHooks {
  onProgress?: (done: number, total: number) => void;
  cancel?: CancelFlag;
}

const PROBLEMS_SHOWN = 3;

/** A kline file's candles, or a refusal naming the first bad lines and why. */
export function candlesFromCsv(text: string): { candles: Candle[]; span: CandleSpan } {
  const parsed = parseKlineCsv(text);
  if (!parsed.ok) {
    const lines = parsed.problems.slice(0, PROBLEMS_SHOWN).map((p) => `line ${p.line}: ${p.reason}`);
    const more = parsed.problems.length > PROBLEMS_SHOWN ? ` (and ${parsed.problems.length - PROBLEMS_SHOWN} more)` : '';
    throw new JobRefused('candle_file_refused', `The candle file was refused: ${lines.join('; ')}${more}.`);
  }
  const timeframe = (Object.keys(TIMEFRAMES) as (keyof typeof TIMEFRAMES)[]).find((t) => TIMEFRAMES[t] === parsed.timeframeMs);
  if (!timeframe) {
    const names = Object.keys(TIMEFRAMES).join(', ');
    throw new JobRefused('candle_file_refused', `The candle file's candles are ${parsed.timeframeMs / 60_000} minutes apart; plutarc backtests ${names}.`);
  }
  if (parsed.candles.length > MAX_BACKTEST_CANDLES) {
    throw new JobRefused('candle_file_refused', `The candle file holds ${parsed.candles.length.toLocaleString('en')} candles; a backtest replays at most ${MAX_BACKTEST_CANDLES.toLocaleString('en')}.`);
  }
  const first = parsed.candles[0] as Candle;
  const last = parsed.candles.at(-1) as Candle;
  return { candles: parsed.candles, span: { timeframe, from: first.time, to: last.time + parsed.timeframeMs } };
}

function fetchedCandles(candles: Candle[], timeframe: keyof typeof TIMEFRAMES): { candles: Candle[]; span: CandleSpan } {
  const first = candles[0];
  const last = candles.at(-1);
  if (!first || !last) throw new JobRefused('no_candles', 'The exchange has no candles for that market in that period.');
  return { candles, span: { timeframe, from: first.time, to: last.time + TIMEFRAMES[timeframe] } };
}

export function runJob(job: BacktestJob, hooks: JobHooks = {}): BacktestOutcome | PreviewResult {
  const series = defaultSeries(job.symbol);
  if (job.kind === 'backtest' && (job.csv !== undefined || job.candles !== undefined)) {
    const { candles, span } = job.csv !== undefined ? candlesFromCsv(job.csv) : fetchedCandles(job.candles ?? [], job.timeframe);
    // A file or fetched candles carry no funding history: the backtest pays none, as the summary's funding line shows.
    const result = runBacktest(
      {
        engine: { template: job.template, timeframeMs: TIMEFRAMES[span.timeframe], contract: job.contract, limits: null },
        candles,
        fundingRates: [],
        initialEquity: job.initialEquity,
        feeBps: job.feeBps,
        slippageBps: job.slippageBps,
      },
      { ...hooks, checkEvery: checkEveryFor(candles.length) },
    );
    return { ...reportOf(result), span };
  }
  const timeframeMs = TIMEFRAMES[job.timeframe];
  const engine = { template: job.template, timeframeMs, contract: 'linear' as const, limits: null };
  if (job.kind === 'backtest') {
    const candles = series.candles(timeframeMs, job.from, job.to);
    if (candles.length === 0) throw new JobRefused('no_candles', 'There are no candles in that period: the simulated market begins on 1 January 2026.');
    const result = runBacktest(
      {
        engine: { ...engine, contract: job.contract },
        candles,
        fundingRates: seriesFundingRates(series, job.from, job.to),
        initialEquity: job.initialEquity,
        feeBps: job.feeBps,
        slippageBps: job.slippageBps,
      },
      { ...hooks, checkEvery: checkEveryFor(candles.length) },
    );
    return { ...reportOf(result), span: null };
  }
  // The engine decides nothing until its indicators are warm: run the warm-up candles first, show only the last ones.
  const warmUp = Engine.create(engine, PREVIEW_EQUITY).memory;
  const end = Math.floor(job.to / timeframeMs) * timeframeMs;
  const start = end - job.candles * timeframeMs;
  const from = start - warmUp * timeframeMs;
  const candles = series.candles(timeframeMs, from, end);
  const result = runBacktest(
    { engine, candles, fundingRates: seriesFundingRates(series, from, end), initialEquity: PREVIEW_EQUITY, feeBps: 5, slippageBps: 2 },
    { ...hooks, checkEvery: checkEveryFor(candles.length) },
  );
  const decisions: PreviewDecision[] = result.decisions
    .filter((d) => d.time > start)
    .map((d) => ({ type: d.type, time: d.time, side: d.side, by: d.type === 'enter' ? '' : d.by, reason: d.reason }));
  return {
    candles: candles.filter((c) => c.time >= start).map(({ time, open, high, low, close }) => ({ time, open, high, low, close })),
    decisions,
    summary: result.summary,
  };
}
