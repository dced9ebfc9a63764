import type { TemplateBody } from '../src-shared/templates.ts';
import { TemplateBody as TemplateBodySchema } from '../src-shared/templates.ts';

/**
 * The eight read-only templates every user starts from. Users duplicate one to edit it; these never
 * change under a running bot, so a change here is a new id, never an edit of an existing one.
 * Periods are in candles: they were tuned on 1-hour candles.
 */
export interface SystemTemplate {
  id: string;
  template: TemplateBody;
}

const define = (id: string, template: TemplateBody): SystemTemplate => ({ id, template: TemplateBodySchema.parse(template) });

export const SYSTEM_TEMPLATES: readonly SystemTemplate[] = [
  define('system-trend-following', {
    name: 'Trend following',
    description:
      'Rides established trends. Goes long when the 20-candle EMA is above the 50 and MACD agrees, short in the mirror case, but only while ADX says the market is trending. Cuts a loser at 3%, trails a winner by 4%, and gets out as soon as both signals turn.',
    sides: 'both',
    sizing: { equityPercent: 50, leverage: 2 },
    combination: { mode: 'weightedSum', threshold: 1 },
    sessions: [],
    components: [
      { id: 'ema-20-50', role: 'signal', kind: 'emaCross', params: { fast: 20, slow: 50 }, weight: 1 },
      { id: 'macd', role: 'signal', kind: 'macd', params: { fast: 12, slow: 26, signal: 9 }, weight: 1 },
      { id: 'trending', role: 'filter', kind: 'adxTrend', params: { period: 14, min: 20 } },
      { id: 'stop', role: 'exitRule', kind: 'stopLoss', params: { percent: 3 } },
      { id: 'trail', role: 'exitRule', kind: 'trailingStop', params: { percent: 4 } },
      { id: 'flip', role: 'exitRule', kind: 'signalFlip', params: {} },
    ],
  }),
  define('system-mean-reversion', {
    name: 'Mean reversion',
    description:
      'Bets that stretched prices snap back in quiet, range-bound markets. Buys when RSI is oversold or price closes below the lower Bollinger band, sells short in the mirror case, and stays out while ADX shows a strong trend. Takes 2% profit, stops out at 2.5%, and gives up after a day.',
    sides: 'both',
    sizing: { equityPercent: 40, leverage: 2 },
    combination: { mode: 'majority', threshold: 0.5 },
    sessions: [],
    components: [
      { id: 'rsi-14', role: 'signal', kind: 'rsi', params: { period: 14, oversold: 30, overbought: 70 }, weight: 1 },
      { id: 'bands', role: 'signal', kind: 'bollinger', params: { period: 20, deviations: 2, mode: 'revert' }, weight: 1 },
      { id: 'ranging', role: 'filter', kind: 'adxTrend', params: { period: 14, max: 30 } },
      { id: 'target', role: 'exitRule', kind: 'takeProfit', params: { percent: 2 } },
      { id: 'stop', role: 'exitRule', kind: 'stopLoss', params: { percent: 2.5 } },
      { id: 'one-day', role: 'exitRule', kind: 'timeStop', params: { candles: 24 } },
    ],
  }),
  define('system-volatility-breakout', {
    name: 'Volatility breakout',
    description:
      'Joins a move when price escapes its range on heavy volume. Enters when the close breaks the 20-candle high or low (Donchian) with volume at least 1.3 times its average, and skips markets already too wild (ATR above 3% of price). Trails by 3% and stops out at 2.5%.',
    sides: 'both',
    sizing: { equityPercent: 40, leverage: 2 },
    combination: { mode: 'weightedSum', threshold: 0.5 },
    sessions: [],
    components: [
      { id: 'donchian-20', role: 'signal', kind: 'donchianBreakout', params: { period: 20 }, weight: 1 },
      { id: 'heavy-volume', role: 'filter', kind: 'volume', params: { period: 20, minRatio: 1.3 } },
      { id: 'not-too-wild', role: 'riskGate', kind: 'atrGate', params: { period: 14, maxPercent: 3 } },
      { id: 'trail', role: 'exitRule', kind: 'trailingStop', params: { percent: 3 } },
      { id: 'stop', role: 'exitRule', kind: 'stopLoss', params: { percent: 2.5 } },
    ],
  }),
  define('system-funding-rate-fade', {
    name: 'Funding-rate fade',
    description:
      'Trades against a crowded side. When funding is high (longs paying more than 0.03% per 8 hours) it goes short, when strongly negative it goes long, and collects the funding while it waits, unless RSI says the move still has strength. Takes 1.5%, stops at 2%, and closes after 16 hours (two funding periods).',
    sides: 'both',
    sizing: { equityPercent: 30, leverage: 2 },
    combination: { mode: 'weightedSum', threshold: 0.6 },
    sessions: [],
    components: [
      { id: 'funding', role: 'signal', kind: 'fundingRateSignal', params: { thresholdPercent: 0.03, mode: 'fade' }, weight: 2 },
      { id: 'rsi-14', role: 'signal', kind: 'rsi', params: { period: 14, oversold: 30, overbought: 70 }, weight: 1 },
      { id: 'target', role: 'exitRule', kind: 'takeProfit', params: { percent: 1.5 } },
      { id: 'stop', role: 'exitRule', kind: 'stopLoss', params: { percent: 2 } },
      { id: 'two-fundings', role: 'exitRule', kind: 'timeStop', params: { candles: 16 } },
    ],
  }),
  define('system-trend-pullback', {
    name: 'Trend pullback',
    description:
      'Buys dips in an uptrend and sells rallies in a downtrend. The trend is the 20-candle EMA against the 100; the entry waits for a 7-candle RSI dip (below 35 in an uptrend, above 65 in a downtrend) and refuses to chase more than 3% from the 50-candle EMA. Moves the stop to break-even once 1.5% up; targets 4%, stops at 2%.',
    sides: 'both',
    sizing: { equityPercent: 50, leverage: 2 },
    combination: { mode: 'weightedSum', threshold: 1 },
    sessions: [],
    components: [
      { id: 'trend', role: 'signal', kind: 'emaCross', params: { fast: 20, slow: 100 }, weight: 2 },
      { id: 'dip', role: 'signal', kind: 'rsi', params: { period: 7, oversold: 35, overbought: 65 }, weight: 1 },
      { id: 'no-chasing', role: 'entryGuard', kind: 'maxDistanceFromMa', params: { average: 'ema', period: 50, maxPercent: 3 } },
      { id: 'stop', role: 'exitRule', kind: 'stopLoss', params: { percent: 2 } },
      { id: 'break-even', role: 'exitRule', kind: 'breakEven', params: { triggerPercent: 1.5, offsetPercent: 0.2 } },
      { id: 'target', role: 'exitRule', kind: 'takeProfit', params: { percent: 4 } },
    ],
  }),
  define('system-quiet-range', {
    name: 'Quiet-hours range',
    description:
      'Fades moves to the edge of the range in calm markets, and only on weekdays outside the busy European and American hours (22:00 to 07:00 UTC). Enters on a close outside 1.5-deviation Bollinger bands while ATR stays under 1% of price. Takes 1%, stops at 1.5%, gives up after 8 candles.',
    sides: 'both',
    sizing: { equityPercent: 40, leverage: 2 },
    combination: { mode: 'weightedSum', threshold: 1 },
    sessions: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '22:00', to: '07:00' }],
    components: [
      { id: 'bands', role: 'signal', kind: 'bollinger', params: { period: 20, deviations: 1.5, mode: 'revert' }, weight: 1 },
      { id: 'calm', role: 'filter', kind: 'volatilityRegime', params: { period: 14, maxPercent: 1 } },
      { id: 'target', role: 'exitRule', kind: 'takeProfit', params: { percent: 1 } },
      { id: 'stop', role: 'exitRule', kind: 'stopLoss', params: { percent: 1.5 } },
      { id: 'eight-candles', role: 'exitRule', kind: 'timeStop', params: { candles: 8 } },
    ],
  }),
  define('system-consensus', {
    name: 'Three-signal consensus',
    description:
      'Trades only when two of three independent trend signals agree (EMA cross, MACD, Donchian breakout), the trend is strong (ADX above 20), the entry is no more than 4% from the 50-candle EMA, volatility is not extreme, and the side would not pay heavy funding. Exits on a 3% stop, a 6% target, a 3% trail, break-even after 2%, two days, or when the signals turn.',
    sides: 'both',
    sizing: { equityPercent: 40, leverage: 3 },
    combination: { mode: 'majority', threshold: 0.6 },
    sessions: [],
    components: [
      { id: 'ema-12-26', role: 'signal', kind: 'emaCross', params: { fast: 12, slow: 26 }, weight: 1 },
      { id: 'macd', role: 'signal', kind: 'macd', params: { fast: 12, slow: 26, signal: 9 }, weight: 1 },
      { id: 'donchian-20', role: 'signal', kind: 'donchianBreakout', params: { period: 20 }, weight: 1 },
      { id: 'trending', role: 'filter', kind: 'adxTrend', params: { period: 14, min: 20 } },
      { id: 'no-chasing', role: 'entryGuard', kind: 'maxDistanceFromMa', params: { average: 'ema', period: 50, maxPercent: 4 } },
      { id: 'not-too-wild', role: 'riskGate', kind: 'atrGate', params: { period: 14, maxPercent: 4 } },
      { id: 'funding-cost', role: 'riskGate', kind: 'fundingRateGate', params: { maxPayPercent: 0.05 } },
      { id: 'stop', role: 'exitRule', kind: 'stopLoss', params: { percent: 3 } },
      { id: 'target', role: 'exitRule', kind: 'takeProfit', params: { percent: 6 } },
      { id: 'trail', role: 'exitRule', kind: 'trailingStop', params: { percent: 3 } },
      { id: 'break-even', role: 'exitRule', kind: 'breakEven', params: { triggerPercent: 2, offsetPercent: 0.2 } },
      { id: 'two-days', role: 'exitRule', kind: 'timeStop', params: { candles: 48 } },
      { id: 'flip', role: 'exitRule', kind: 'signalFlip', params: {} },
    ],
  }),
  define('system-long-dip-buyer', {
    name: 'Long-only dip buyer',
    description:
      'Never shorts. Buys sharp sell-offs: RSI under 30 or a close below 2.5-deviation Bollinger bands, as long as ATR is under 2.5% of price so it is not catching a crash. Takes 3%, stops at 3%, and sells after two days whatever happens.',
    sides: 'longOnly',
    sizing: { equityPercent: 50, leverage: 1 },
    combination: { mode: 'weightedSum', threshold: 0.5 },
    sessions: [],
    components: [
      { id: 'rsi-14', role: 'signal', kind: 'rsi', params: { period: 14, oversold: 30, overbought: 70 }, weight: 1 },
      { id: 'bands', role: 'signal', kind: 'bollinger', params: { period: 20, deviations: 2.5, mode: 'revert' }, weight: 1 },
      { id: 'no-crash', role: 'filter', kind: 'volatilityRegime', params: { period: 14, maxPercent: 2.5 } },
      { id: 'target', role: 'exitRule', kind: 'takeProfit', params: { percent: 3 } },
      { id: 'stop', role: 'exitRule', kind: 'stopLoss', params: { percent: 3 } },
      { id: 'two-days', role: 'exitRule', kind: 'timeStop', params: { candles: 48 } },
    ],
  }),
];

export function systemTemplate(id: string): SystemTemplate | undefined {
  return SYSTEM_TEMPLATES.find((t) => t.id === id);
}
