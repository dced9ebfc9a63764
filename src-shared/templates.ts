import { z } from 'zod';

/**
 * Strategy templates: the document a user edits, the API stores and the engine runs.
 *
 * A template is a list of components. Each component has a kind from the library below, the role
 * that kind plays, parameters checked by the kind's own schema and, for signals, a weight. Signals
 * score -1 / 0 / +1 at each candle close; the combination turns the scores into long, short or
 * nothing; filters and entry guards must pass; risk gates may still block the entry (and say so);
 * exit rules watch an open position and the first that fires closes it. Sessions restrict entries.
 * Percentages are written as percent (1.5 means 1.5 %), periods as a number of candles.
 */

const period = (max = 1000) => z.number().int().min(2).max(max);
const percent = (max = 100) => z.number().positive().max(max);

export const ComponentRole = z.enum(['signal', 'filter', 'entryGuard', 'riskGate', 'exitRule']);
export type ComponentRole = z.infer<typeof ComponentRole>;

/** Each kind's parameters. Cross-field rules (fast below slow, …) are checked here, once. */
export const COMPONENT_PARAMS = {
  // Signals
  emaCross: z
    .object({ fast: period(), slow: period() })
    .strict()
    .refine((p) => p.fast < p.slow, { message: 'the fast EMA must be shorter than the slow one', path: ['fast'] }),
  rsi: z
    .object({ period: period(), oversold: z.number().min(1).max(99), overbought: z.number().min(1).max(99) })
    .strict()
    .refine((p) => p.oversold < p.overbought, { message: 'oversold must be below overbought', path: ['oversold'] }),
  macd: z
    .object({ fast: period(), slow: period(), signal: period() })
    .strict()
    .refine((p) => p.fast < p.slow, { message: 'the fast EMA must be shorter than the slow one', path: ['fast'] }),
  bollinger: z
    .object({
      period: period(),
      deviations: z.number().positive().max(10),
      /** revert: long below the lower band, short above the upper; breakout: the other way round. */
      mode: z.enum(['revert', 'breakout']),
    })
    .strict(),
  donchianBreakout: z.object({ period: period() }).strict(),
  fundingRateSignal: z
    .object({
      /** Funding rate (percent per 8 h) beyond which the crowd is leaning too far one way. */
      thresholdPercent: percent(1),
      /** fade: short when longs pay a lot, long when shorts do; follow: the other way round. */
      mode: z.enum(['fade', 'follow']),
    })
    .strict(),
  // Filters
  adxTrend: z
    .object({ period: period(200), min: z.number().min(0).max(100).optional(), max: z.number().min(0).max(100).optional() })
    .strict()
    .refine((p) => p.min !== undefined || p.max !== undefined, { message: 'give a minimum, a maximum or both', path: ['min'] })
    .refine((p) => p.min === undefined || p.max === undefined || p.min < p.max, { message: 'the minimum must be below the maximum', path: ['min'] }),
  volume: z
    .object({ period: period(), minRatio: z.number().positive().max(100) })
    .strict(),
  volatilityRegime: z
    .object({
      period: period(200),
      /** ATR as a percent of the close. */
      minPercent: z.number().min(0).max(100).optional(),
      maxPercent: z.number().positive().max(100).optional(),
    })
    .strict()
    .refine((p) => p.minPercent !== undefined || p.maxPercent !== undefined, { message: 'give a minimum, a maximum or both', path: ['minPercent'] })
    .refine((p) => p.minPercent === undefined || p.maxPercent === undefined || p.minPercent < p.maxPercent, {
      message: 'the minimum must be below the maximum',
      path: ['minPercent'],
    }),
  // Entry guard
  maxDistanceFromMa: z
    .object({ average: z.enum(['ema', 'sma']), period: period(), maxPercent: percent() })
    .strict(),
  // Risk gates
  fundingRateGate: z
    .object({
      /** Block an entry whose side would pay more than this funding rate (percent per 8 h). */
      maxPayPercent: z.number().min(0).max(1),
    })
    .strict(),
  atrGate: z
    .object({ period: period(200), maxPercent: percent() })
    .strict(),
  // Exit rules
  stopLoss: z.object({ percent: percent() }).strict(),
  takeProfit: z.object({ percent: percent(1000) }).strict(),
  trailingStop: z.object({ percent: percent() }).strict(),
  breakEven: z
    .object({
      /** Profit (percent of the entry price, at a close or better) that arms the rule. */
      triggerPercent: percent(),
      /** Where the stop sits once armed, in percent beyond the entry (covers the fees). */
      offsetPercent: z.number().min(0).max(100),
    })
    .strict()
    .refine((p) => p.offsetPercent < p.triggerPercent, { message: 'the offset must be below the trigger', path: ['offsetPercent'] }),
  timeStop: z.object({ candles: z.number().int().min(1).max(100_000) }).strict(),
  signalFlip: z.object({}).strict(),
} as const;

export type ComponentKind = keyof typeof COMPONENT_PARAMS;
export type ComponentParams<K extends ComponentKind> = z.infer<(typeof COMPONENT_PARAMS)[K]>;

export const COMPONENT_ROLE = {
  emaCross: 'signal',
  rsi: 'signal',
  macd: 'signal',
  bollinger: 'signal',
  donchianBreakout: 'signal',
  fundingRateSignal: 'signal',
  adxTrend: 'filter',
  volume: 'filter',
  volatilityRegime: 'filter',
  maxDistanceFromMa: 'entryGuard',
  fundingRateGate: 'riskGate',
  atrGate: 'riskGate',
  stopLoss: 'exitRule',
  takeProfit: 'exitRule',
  trailingStop: 'exitRule',
  breakEven: 'exitRule',
  timeStop: 'exitRule',
  signalFlip: 'exitRule',
} as const satisfies { readonly [K in ComponentKind]: ComponentRole };

/** What the editor shows for each kind: a name and one sentence a trader understands. */
export const COMPONENT_LABELS: { readonly [K in ComponentKind]: { name: string; description: string } } = {
  emaCross: { name: 'EMA cross', description: 'Long while the fast EMA is above the slow one, short while below.' },
  rsi: { name: 'RSI', description: 'Long when RSI is oversold, short when overbought.' },
  macd: { name: 'MACD', description: 'Long while the MACD line is above its signal line, short while below.' },
  bollinger: { name: 'Bollinger bands', description: 'Scores a close outside the bands: back towards the middle (revert) or onwards (breakout).' },
  donchianBreakout: { name: 'Donchian breakout', description: 'Long when the close breaks the highest high of the previous candles, short below the lowest low.' },
  fundingRateSignal: { name: 'Funding rate', description: 'Scores extreme funding: against the crowd (fade) or with it (follow).' },
  adxTrend: { name: 'ADX trend strength', description: 'Lets entries through only while ADX is inside the range: high for trends, low for ranges.' },
  volume: { name: 'Volume', description: 'Lets entries through only when the candle volume is at least a multiple of its average.' },
  volatilityRegime: { name: 'Volatility regime', description: 'Lets entries through only while ATR, as a percent of price, is inside the range.' },
  maxDistanceFromMa: { name: 'Max distance from average', description: 'Refuses to chase: no entry when the close is too far from its moving average.' },
  fundingRateGate: { name: 'Funding-rate gate', description: 'Blocks an entry whose side would pay more funding than the limit.' },
  atrGate: { name: 'ATR gate', description: 'Blocks entries while ATR, as a percent of price, is above the limit.' },
  stopLoss: { name: 'Stop-loss', description: 'Closes when a close is the given percent against the entry.' },
  takeProfit: { name: 'Take-profit', description: 'Closes when a close is the given percent in favour of the entry.' },
  trailingStop: { name: 'Trailing stop', description: 'Closes when a close falls the given percent back from the best close since entry.' },
  breakEven: { name: 'Break-even', description: 'Once a close has reached the trigger profit, closes if price comes back to the entry plus the offset.' },
  timeStop: { name: 'Time stop', description: 'Closes after the position has been open for the given number of candles.' },
  signalFlip: { name: 'Signal flip', description: 'Closes when the combined signal points the other way.' },
};

const ComponentId = z
  .string()
  .max(40)
  .regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'use 1 to 40 lower-case letters, digits and dashes');

const signalWeight = z.number().positive().max(100);

function signal<K extends ComponentKind>(kind: K) {
  return z.object({ id: ComponentId, kind: z.literal(kind), role: z.literal('signal'), params: COMPONENT_PARAMS[kind], weight: signalWeight }).strict();
}

function part<K extends ComponentKind>(kind: K) {
  return z.object({ id: ComponentId, kind: z.literal(kind), role: z.literal(COMPONENT_ROLE[kind]), params: COMPONENT_PARAMS[kind] }).strict();
}

/** One component of a template; its role must be the role its kind plays. */
export const Component = z.discriminatedUnion('kind', [
  signal('emaCross'),
  signal('rsi'),
  signal('macd'),
  signal('bollinger'),
  signal('donchianBreakout'),
  signal('fundingRateSignal'),
  part('adxTrend'),
  part('volume'),
  part('volatilityRegime'),
  part('maxDistanceFromMa'),
  part('fundingRateGate'),
  part('atrGate'),
  part('stopLoss'),
  part('takeProfit'),
  part('trailingStop'),
  part('breakEven'),
  part('timeStop'),
  part('signalFlip'),
]);
export type Component = z.infer<typeof Component>;
export type ComponentOf<K extends ComponentKind> = Extract<Component, { kind: K }>;

/**
 * How signal scores become a side. weightedSum: Σ weight·score / Σ weight, long at or above the
 * threshold, short at or below its negative. majority: more signals long than short, and the long
 * ones at least the threshold share of all signals (and the mirror for short). unanimous: every
 * signal agrees.
 */
export const Combination = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('weightedSum'), threshold: z.number().gt(0).max(1) }).strict(),
  z.object({ mode: z.literal('majority'), threshold: z.number().min(0.5).max(1) }).strict(),
  z.object({ mode: z.literal('unanimous') }).strict(),
]);
export type Combination = z.infer<typeof Combination>;

export const Weekday = z.enum(['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']);
export type Weekday = z.infer<typeof Weekday>;
export const WEEKDAYS: readonly Weekday[] = Weekday.options;

const clock = z.string().max(5).regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'use HH:MM in UTC, 00:00 to 24:00');

/**
 * A trading session: entries are allowed when a candle closes on one of the days, inside
 * [from, to) UTC. A window whose end is before its start runs past midnight and belongs to the day
 * it starts on.
 */
export const TradingSession = z
  .object({ days: z.array(Weekday).min(1).max(7), from: clock, to: clock })
  .strict()
  .refine((s) => s.from !== s.to, { message: 'a session must not be empty', path: ['to'] })
  .refine((s) => new Set(s.days).size === s.days.length, { message: 'a day is listed twice', path: ['days'] });
export type TradingSession = z.infer<typeof TradingSession>;

/** How big an entry is: a share of equity, times the leverage (the bot's limit may lower it). */
export const Sizing = z
  .object({ equityPercent: z.number().positive().max(100), leverage: z.number().min(1).max(125) })
  .strict();
export type Sizing = z.infer<typeof Sizing>;

export const TradeSides = z.enum(['both', 'longOnly', 'shortOnly']);
export type TradeSides = z.infer<typeof TradeSides>;

export const TemplateBody = z
  .object({
    name: z.string().trim().min(1).max(80),
    description: z.string().max(2000),
    sides: TradeSides,
    sizing: Sizing,
    combination: Combination,
    /** No sessions: entries at any time. */
    sessions: z.array(TradingSession).max(20),
    components: z.array(Component).min(1).max(40),
  })
  .strict()
  .superRefine((t, ctx) => {
    const ids = new Set<string>();
    t.components.forEach((c, i) => {
      if (ids.has(c.id)) ctx.addIssue({ code: 'custom', message: `component id "${c.id}" is used twice`, path: ['components', i, 'id'] });
      ids.add(c.id);
    });
    if (!t.components.some((c) => c.role === 'signal')) {
      ctx.addIssue({ code: 'custom', message: 'a template needs at least one signal', path: ['components'] });
    }
    if (!t.components.some((c) => c.role === 'exitRule')) {
      ctx.addIssue({ code: 'custom', message: 'a template needs at least one exit rule', path: ['components'] });
    }
  });
export type TemplateBody = z.infer<typeof TemplateBody>;

/**
 * Limits set on a bot, above any template: they can only make it trade less. Checked by the engine
 * before every entry; the daily loss also closes an open position.
 */
export const BotLimits = z
  .object({
    maxOpenPositionsPerSymbol: z.number().int().min(0).max(100),
    maxOpenPositionsTotal: z.number().int().min(0).max(1000),
    /** Loss since the UTC day began, in percent of the equity then; reaching it closes and stops entries until the next day. */
    maxDailyLossPercent: z.number().positive().max(100),
    maxLeverage: z.number().min(1).max(125),
  })
  .strict();
export type BotLimits = z.infer<typeof BotLimits>;

/** What a bot without explicit limits gets. */
export const DEFAULT_BOT_LIMITS: BotLimits = {
  maxOpenPositionsPerSymbol: 1,
  maxOpenPositionsTotal: 5,
  maxDailyLossPercent: 10,
  maxLeverage: 5,
};
