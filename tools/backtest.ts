// `npm run backtest -- --template <system id | template.json> (--csv <klines.csv> | --series BTC --from <date> --to <date>)
//   [--timeframe 1h] [--equity 10000] [--contract linear|inverse] [--exchange binanceusdm|bybit|krakenfutures]
//   [--fee-bps <taker>] [--slippage-bps 2] [--out trades.csv]`
// Runs the same engine and backtest loop as the desktop app, prints the summary and writes the trades as CSV.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { runBacktest, seriesFundingRates } from '../src-engine/backtest.ts';
import type { BacktestResult, FundingRatePoint } from '../src-engine/backtest.ts';
import { parseKlineCsv } from '../src-engine/csv.ts';
import { EXCHANGE_FEES } from '../src-engine/fees.ts';
import { SYSTEM_TEMPLATES, systemTemplate } from '../src-engine/system-templates.ts';
import type { Candle } from '../src-engine/types.ts';
import { ContractType, ExchangeId } from '../src-shared/exchanges.ts';
import { defaultSeries, TIMEFRAMES } from '../src-shared/market-series.ts';
import type { Timeframe } from '../src-shared/market-series.ts';
import { TemplateBody } from '../src-shared/templates.ts';

class UsageError extends Error {}

const isoDate = z
  .string()
  .refine((s) => Number.isFinite(Date.parse(s)), 'use a date such as 2026-01-01 or 2026-01-01T12:00Z')
  .transform((s) => Date.parse(s));

const Options = z
  .object({
    template: z.string({ error: '--template is required: a system template id or a template JSON file' }),
    csv: z.string().optional(),
    series: z.string().regex(/^[A-Za-z]{2,10}$/, 'a base asset such as BTC').optional(),
    from: isoDate.optional(),
    to: isoDate.optional(),
    timeframe: z.enum(Object.keys(TIMEFRAMES) as [Timeframe, ...Timeframe[]]).default('1h'),
    equity: z.coerce.number().positive().default(10_000),
    contract: ContractType.default('linear'),
    exchange: ExchangeId.default('binanceusdm'),
    'fee-bps': z.coerce.number().min(0).max(100).optional(),
    'slippage-bps': z.coerce.number().min(0).max(1000).default(2),
    out: z.string().optional(),
  })
  .strict()
  .refine((o) => (o.csv === undefined) !== (o.series === undefined), 'give either --csv or --series')
  .refine((o) => o.series === undefined || (o.from !== undefined && o.to !== undefined && o.from < o.to), '--series needs --from before --to');

function loadTemplate(ref: string): TemplateBody {
  const system = systemTemplate(ref);
  if (system) return system.template;
  let text: string;
  try {
    text = readFileSync(ref, 'utf8');
  } catch {
    throw new UsageError(`--template ${ref}: neither a system template (${SYSTEM_TEMPLATES.map((t) => t.id).join(', ')}) nor a readable file`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--template ${ref}: not JSON (${(error as Error).message})`);
  }
  const parsed = TemplateBody.safeParse(json);
  if (!parsed.success) {
    throw new UsageError(`--template ${ref} is not a valid template:\n${parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`).join('\n')}`);
  }
  return parsed.data;
}

function loadCandles(options: z.infer<typeof Options>): { candles: Candle[]; timeframeMs: number; fundingRates: FundingRatePoint[]; source: string } {
  if (options.csv !== undefined) {
    const parsed = parseKlineCsv(readFileSync(options.csv, 'utf8'));
    if (!parsed.ok) {
      throw new UsageError(`--csv ${options.csv} refused:\n${parsed.problems.map((p) => `  line ${p.line}: ${p.reason}`).join('\n')}`);
    }
    return { candles: parsed.candles, timeframeMs: parsed.timeframeMs, fundingRates: [], source: `${options.csv} (${parsed.format} format, no funding data)` };
  }
  const series = defaultSeries(options.series as string);
  const timeframeMs = TIMEFRAMES[options.timeframe];
  const from = options.from as number;
  const to = options.to as number;
  const candles = series.candles(timeframeMs, from, to);
  return { candles, timeframeMs, fundingRates: seriesFundingRates(series, from, to), source: `simulated ${series.spec.seed} series` };
}

const csvField = (value: string | number) => {
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

function tradesCsv(result: BacktestResult): string {
  const header = 'side,quantity,entry_time,entry_price,exit_time,exit_price,gross_pnl,fees,funding,net_pnl,exit_by,exit_reason';
  const rows = result.trades.map((t) =>
    [t.side, t.quantity, new Date(t.entryTime).toISOString(), t.entryPrice, new Date(t.exitTime).toISOString(), t.exitPrice, t.grossPnl, t.fees, t.funding, t.netPnl, t.exitBy, t.exitReason]
      .map(csvField)
      .join(','),
  );
  return [header, ...rows].join('\n') + '\n';
}

function printSummary(result: BacktestResult, currency: string, source: string): void {
  const s = result.summary;
  const money = (n: number) => `${n.toFixed(currency === 'USDT' ? 2 : 8)} ${currency}`;
  const maybe = (n: number | null, digits = 2) => (n === null ? 'n/a' : n.toFixed(digits));
  const lines: [string, string][] = [
    ['candles', `${s.candles} from ${source}`],
    ['start equity', money(s.startEquity)],
    ['end equity', money(s.endEquity)],
    ['net profit', `${money(s.netProfit)} (${s.returnPercent.toFixed(2)}%)`],
    ['max drawdown', `${money(s.maxDrawdown)} (${s.maxDrawdownPercent.toFixed(2)}%)`],
    ['trades', String(s.trades)],
    ['win rate', s.winRatePercent === null ? 'n/a' : `${s.winRatePercent.toFixed(1)}%`],
    ['profit factor', maybe(s.profitFactor)],
    ['Sharpe (annualised)', maybe(s.sharpe)],
    ['exposure', `${s.exposurePercent.toFixed(1)}%`],
    ['fees', money(s.fees)],
    ['funding', money(s.funding)],
    ['blocked entries', String(s.blockedEntries)],
  ];
  for (const [label, value] of lines) console.log(`${label.padEnd(20)} ${value}`);
}

function main(argv: string[]): number {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      template: { type: 'string' },
      csv: { type: 'string' },
      series: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      timeframe: { type: 'string' },
      equity: { type: 'string' },
      contract: { type: 'string' },
      exchange: { type: 'string' },
      'fee-bps': { type: 'string' },
      'slippage-bps': { type: 'string' },
      out: { type: 'string' },
    },
  });
  const parsed = Options.safeParse(values);
  if (!parsed.success) throw new UsageError(parsed.error.issues.map((i) => `${i.path.length ? `--${i.path.join('.')}: ` : ''}${i.message}`).join('\n'));
  const options = parsed.data;
  const template = loadTemplate(options.template);
  const { candles, timeframeMs, fundingRates, source } = loadCandles(options);
  if (candles.length === 0) throw new UsageError('no candles in that period');
  const result = runBacktest({
    engine: { template, timeframeMs, contract: options.contract, limits: null },
    candles,
    fundingRates,
    initialEquity: options.equity,
    feeBps: options['fee-bps'] ?? EXCHANGE_FEES[options.exchange].takerBps,
    slippageBps: options['slippage-bps'],
  });
  console.log(`${template.name}: ${options.contract} contract, fees ${options['fee-bps'] ?? EXCHANGE_FEES[options.exchange].takerBps} bps, slippage ${options['slippage-bps']} bps per side`);
  printSummary(result, options.contract === 'linear' ? 'USDT' : 'coin', source);
  if (options.out !== undefined) {
    writeFileSync(options.out, tradesCsv(result));
    console.log(`trades written to ${options.out}`);
  }
  return 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError || (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
    console.error(`backtest: ${error.message}`);
    process.exitCode = 2;
  } else {
    throw error;
  }
}
