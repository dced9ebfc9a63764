import { z } from 'zod';
import { ContractType, ExchangeId } from './exchanges.ts';
import { DEFAULT_SERIES_ORIGIN_MS, TIMEFRAMES, type Timeframe } from './market-series.ts';
import {
  DeletedTemplate,
  DuplicateTemplateRequest,
  TemplateId,
  TemplateSummary,
  TemplateVersion,
  TemplateVersionInfo,
  TemplateView,
} from './templates-api.ts';
import { TemplateBody } from './templates.ts';

/**
 * The templates and backtests part of the IPC contract. Templates live in the API (main relays them);
 * previews and backtests run in a worker thread in main, on the simulator's deterministic series, and
 * finished backtests are kept in the app's local cache.
 */

/** The assets the simulator's series exists for (src-shared/market-series.ts). */
export const BacktestSymbol = z.enum(['BTC', 'ETH', 'SOL', 'XRP']);
export type BacktestSymbol = z.infer<typeof BacktestSymbol>;

export const TimeframeName = z.enum(Object.keys(TIMEFRAMES) as [Timeframe, ...Timeframe[]]);

/** A backtest replays at most this many candles: two years of 1-minute candles. */
export const MAX_BACKTEST_CANDLES = 2 * 525_600;
/** At most this many equity points reach the chart; longer curves are bucketed (the drawdown keeps each bucket's worst). */
export const MAX_CURVE_POINTS = 1_500;
/** At most this many trades are kept with a result (the summary counts them all). */
export const MAX_TRADES_KEPT = 5_000;

export const RunId = z.uuid().max(36);

/** The largest candle file a backtest accepts: room for a year of 1-minute Binance futures klines (about 54 MiB, bench/candle-file.bench.ts). */
export const MAX_CSV_BYTES = 64 * 1024 * 1024;
const MAX_CSV_MIB = MAX_CSV_BYTES / (1024 * 1024);

/**
 * Where a backtest's candles come from: the simulated market or an exchange's public candles (both for
 * the period and timeframe in the request), or a kline file the user picked (Binance or Bybit export),
 * replayed whole at the timeframe of its rows.
 */
export const CandleSource = z.discriminatedUnion('source', [
  z.strictObject({ source: z.literal('simulated') }),
  /** A file the user picked with the OS dialog (`backtests.pickCandleFile`): main reads it; the page never sees its path. */
  z.strictObject({ source: z.literal('pickedFile'), fileId: z.uuid().max(36) }),
  /** The exchange's USD-margined perpetual of the request's asset, fetched by main with ccxt. */
  z.strictObject({ source: z.literal('exchange'), exchange: ExchangeId }),
  z.strictObject({
    source: z.literal('csv'),
    /** The file's name as the user picked it, shown with the result; never a path. */
    fileName: z.string().trim().min(1).max(255),
    /** Counted in UTF-16 units, which is at most the file's bytes for the ASCII a kline file holds. */
    text: z.string().max(MAX_CSV_BYTES, `the candle file is over ${MAX_CSV_MIB} MiB: export a shorter period`),
  }),
]);
export type CandleSource = z.infer<typeof CandleSource>;

export const BacktestRequest = z
  .strictObject({
    /** Chosen by the caller, so it can cancel the run and match its progress events. */
    runId: RunId,
    templateId: TemplateId,
    version: TemplateVersion,
    candles: CandleSource.default({ source: 'simulated' }),
    /** The simulated market's asset; with a file, the asset the file's prices are of (inverse PnL is in it). */
    symbol: BacktestSymbol,
    /** The simulated market's timeframe; a file's rows set their own. */
    timeframe: TimeframeName,
    /** Period of the simulated market, ms since the epoch: candles opening in [from, to). A file is replayed whole. */
    from: z.number().int(),
    to: z.number().int(),
    initialEquity: z.number().positive().max(1_000_000_000),
    contract: ContractType.default('linear'),
    /** Whose taker fee the fills pay. */
    exchange: ExchangeId.default('binanceusdm'),
    slippageBps: z.number().min(0).max(1000).default(2),
  })
  .refine((r) => r.from < r.to, { message: 'the period must end after it starts', path: ['to'] })
  .refine((r) => r.candles.source !== 'simulated' || r.from >= DEFAULT_SERIES_ORIGIN_MS, {
    message: 'the simulated market begins on 1 January 2026',
    path: ['from'],
  })
  .refine((r) => r.candles.source === 'csv' || r.candles.source === 'pickedFile' || (r.to - r.from) / TIMEFRAMES[r.timeframe] <= MAX_BACKTEST_CANDLES, {
    message: `at most ${MAX_BACKTEST_CANDLES.toLocaleString('en')} candles: pick a shorter period or a longer timeframe`,
    path: ['from'],
  });
export type BacktestRequest = z.input<typeof BacktestRequest>;

export const BacktestSummary = z.object({
  candles: z.number().int(),
  startEquity: z.number(),
  endEquity: z.number(),
  netProfit: z.number(),
  returnPercent: z.number(),
  maxDrawdown: z.number(),
  maxDrawdownPercent: z.number(),
  trades: z.number().int(),
  winRatePercent: z.number().nullable(),
  profitFactor: z.number().nullable(),
  sharpe: z.number().nullable(),
  exposurePercent: z.number(),
  fees: z.number(),
  funding: z.number(),
  blockedEntries: z.number().int(),
});
export type BacktestSummary = z.infer<typeof BacktestSummary>;

const Side = z.enum(['long', 'short']);

export const TradeRecord = z.object({
  side: Side,
  quantity: z.number(),
  entryTime: z.number(),
  entryPrice: z.number(),
  exitTime: z.number(),
  exitPrice: z.number(),
  grossPnl: z.number(),
  fees: z.number(),
  funding: z.number(),
  netPnl: z.number(),
  entryReason: z.string(),
  exitBy: z.string(),
  exitReason: z.string(),
});
export type TradeRecord = z.infer<typeof TradeRecord>;

/** One point of the chart: equity at a close, and the deepest drawdown from the running peak since the previous point. */
export const CurvePoint = z.object({ time: z.number(), equity: z.number(), drawdownPercent: z.number() });
export type CurvePoint = z.infer<typeof CurvePoint>;

/** What a finished (or cancelled) backtest shows, as computed in the worker and kept in the local cache. */
export const BacktestReport = z.object({
  cancelled: z.boolean(),
  summary: BacktestSummary,
  trades: z.array(TradeRecord),
  curve: z.array(CurvePoint),
});
export type BacktestReport = z.infer<typeof BacktestReport>;

/** Where a file's candles lay, as the worker found them: what the result is labelled with. */
export const CandleSpan = z.object({ timeframe: TimeframeName, from: z.number().int(), to: z.number().int() });
export type CandleSpan = z.infer<typeof CandleSpan>;

/** The worker's answer to a backtest: the report, and for a file the span of its candles. */
export const BacktestOutcome = BacktestReport.extend({ span: CandleSpan.nullable() });
export type BacktestOutcome = z.infer<typeof BacktestOutcome>;

export const BacktestRecord = BacktestReport.extend({
  id: RunId,
  templateId: TemplateId,
  templateName: z.string(),
  version: TemplateVersion,
  symbol: BacktestSymbol,
  timeframe: TimeframeName,
  from: z.number(),
  to: z.number(),
  contract: ContractType,
  exchange: ExchangeId,
  feeBps: z.number(),
  slippageBps: z.number(),
  /** The file the candles came from; absent for the simulated market and an exchange. */
  csvFileName: z.string().optional(),
  /** The exchange whose public candles were replayed; absent for the simulated market and a file. */
  candlesFrom: ExchangeId.optional(),
  ranAt: z.iso.datetime(),
});
export type BacktestRecord = z.infer<typeof BacktestRecord>;

/** A line of the results list: everything but the trades and the curve. */
export const BacktestListItem = BacktestRecord.omit({ trades: true, curve: true });
export type BacktestListItem = z.infer<typeof BacktestListItem>;

/** A candle file picked in the OS dialog: main keeps its path under `fileId` for the backtest that names it. */
export const PickedCandleFile = z.discriminatedUnion('picked', [
  z.object({ picked: z.literal(false) }),
  z.object({ picked: z.literal(true), fileId: z.uuid(), fileName: z.string() }),
]);
export type PickedCandleFile = z.infer<typeof PickedCandleFile>;

export const BacktestProgress = z.object({ runId: RunId, done: z.number().int().min(0), total: z.number().int().min(0) });
export type BacktestProgress = z.infer<typeof BacktestProgress>;

export const PREVIEW_CANDLES = { min: 20, max: 1000, default: 200 } as const;

export const PreviewRequest = z.strictObject({
  template: TemplateBody,
  symbol: BacktestSymbol,
  timeframe: TimeframeName,
  candles: z.number().int().min(PREVIEW_CANDLES.min).max(PREVIEW_CANDLES.max).default(PREVIEW_CANDLES.default),
});
export type PreviewRequest = z.input<typeof PreviewRequest>;

export const PreviewCandle = z.object({ time: z.number(), open: z.number(), high: z.number(), low: z.number(), close: z.number() });

/** What the engine decided at a close: an entry or exit it would order, or an entry something blocked. */
export const PreviewDecision = z.object({
  type: z.enum(['enter', 'exit', 'blocked']),
  time: z.number(),
  side: Side,
  /** The component (or limit) that closed or blocked; empty for entries. */
  by: z.string(),
  reason: z.string(),
});
export type PreviewDecision = z.infer<typeof PreviewDecision>;

export const PreviewResult = z.object({
  candles: z.array(PreviewCandle),
  decisions: z.array(PreviewDecision),
  summary: BacktestSummary,
});
export type PreviewResult = z.infer<typeof PreviewResult>;

const NoInput = z.undefined();
const ById = z.strictObject({ id: TemplateId });

export const templatesInvokeContract = {
  'templates.list': { input: NoInput, output: z.array(TemplateSummary) },
  'templates.get': { input: z.strictObject({ id: TemplateId, version: TemplateVersion.optional() }), output: TemplateView },
  'templates.versions': { input: ById, output: z.array(TemplateVersionInfo) },
  'templates.create': { input: z.strictObject({ template: TemplateBody }), output: TemplateView },
  'templates.duplicate': { input: DuplicateTemplateRequest.extend({ id: TemplateId }), output: TemplateView },
  'templates.save': { input: z.strictObject({ id: TemplateId, baseVersion: TemplateVersion, template: TemplateBody }), output: TemplateView },
  'templates.remove': { input: ById, output: DeletedTemplate },
  'templates.preview': { input: PreviewRequest, output: PreviewResult },
  'backtests.run': { input: BacktestRequest, output: BacktestRecord },
  'backtests.pickCandleFile': { input: NoInput, output: PickedCandleFile },
  'backtests.cancel': { input: z.strictObject({ runId: RunId }), output: z.object({ cancelling: z.boolean() }) },
  'backtests.list': { input: NoInput, output: z.array(BacktestListItem) },
  'backtests.get': { input: z.strictObject({ id: RunId }), output: BacktestRecord },
} as const satisfies Record<string, { input: z.ZodType; output: z.ZodType }>;

export const templatesEventContract = {
  'backtests.onProgress': BacktestProgress,
} as const satisfies Record<string, z.ZodType>;
