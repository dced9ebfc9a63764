// The eight system templates on the simulator's BTC series (1-hour candles, January 2026, the
// simulator's funding): each trades, and its first entry, first exit and first blocked entry match
// what was recorded when the template was designed, for the reasons stated beside each.
// A change to the engine, a component or the shared series that moves these must be deliberate.
import { describe, expect, it } from 'vitest';
import { runBacktest, seriesFundingRates } from '../../../src-engine/backtest.ts';
import type { Decision } from '../../../src-engine/engine.ts';
import { SYSTEM_TEMPLATES, systemTemplate } from '../../../src-engine/system-templates.ts';
import { DEFAULT_SERIES_ORIGIN_MS, defaultSeries, TIMEFRAMES } from '../../../src-shared/market-series.ts';
import { TemplateBody } from '../../../src-shared/templates.ts';

const series = defaultSeries('BTC');
const from = DEFAULT_SERIES_ORIGIN_MS;
const to = from + 30 * 86_400_000;
const candles = series.candles(TIMEFRAMES['1h'], from, to);
const fundingRates = seriesFundingRates(series, from, to);

function backtest(id: string) {
  const system = systemTemplate(id);
  if (!system) throw new Error(`no system template ${id}`);
  return runBacktest({
    engine: { template: system.template, timeframeMs: TIMEFRAMES['1h'], contract: 'linear', limits: null },
    candles,
    fundingRates,
    initialEquity: 10_000,
    feeBps: 5,
    slippageBps: 2,
  });
}

interface Expected {
  trades: number;
  enter: { at: string; side: 'long' | 'short'; reason: RegExp };
  exit: { at: string; by: string; reason: RegExp };
  blocked?: { at: string; side: 'long' | 'short'; by: string; reason: RegExp };
}

const first = (decisions: Decision[], type: Decision['type']) => decisions.find((d) => d.type === type);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString().slice(0, 16));

const EXPECTED: Record<string, Expected> = {
  // Both signals long on Jan 3 (EMA20 over EMA50, MACD histogram positive) while ADX is above 20;
  // the long is stopped out the next day, and the following short signal is held back by a weak ADX.
  'system-trend-following': {
    trades: 9,
    enter: { at: '2026-01-03T02:00', side: 'long', reason: /ema-20-50 \+1 .*; macd \+1/ },
    exit: { at: '2026-01-04T00:00', by: 'stop', reason: /reached the 3\.00% stop/ },
    blocked: { at: '2026-01-04T01:00', side: 'short', by: 'trending', reason: /ADX14 15\.66 is below 20\.00/ },
  },
  // A close under the lower band is enough (majority: one long, none short); nothing snaps back in a day.
  // Its first wish, a short on Jan 1, came before the ADX filter had warmed up.
  'system-mean-reversion': {
    trades: 21,
    enter: { at: '2026-01-03T15:00', side: 'long', reason: /bands \+1 \(close 61057\.04 vs bands 61140\.34/ },
    exit: { at: '2026-01-04T15:00', by: 'one-day', reason: /held 24 candles/ },
    blocked: { at: '2026-01-01T17:00', side: 'short', by: 'ranging', reason: /warming up/ },
  },
  // The first breakout with heavy volume is a break below the 20-candle low on Jan 6; earlier breaks
  // came on ordinary volume. The 3 % trail closes it.
  'system-volatility-breakout': {
    trades: 12,
    enter: { at: '2026-01-06T15:00', side: 'short', reason: /donchian-20 -1 \(close 59490\.62 vs channel 59838\.94/ },
    exit: { at: '2026-01-07T01:00', by: 'trail', reason: /back from the best close/ },
    blocked: { at: '2026-01-02T12:00', side: 'short', by: 'heavy-volume', reason: /1\.09× its average, below 1\.30×/ },
  },
  // The first settlement after a rise pays longs 0.0618 %: fade it with a short (weight 2 of 3 ≥ 0.6), target reached.
  'system-funding-rate-fade': {
    trades: 60,
    enter: { at: '2026-01-02T00:00', side: 'short', reason: /funding -1 \(funding 0\.0618%\)/ },
    exit: { at: '2026-01-02T05:00', by: 'target', reason: /reached the 1\.50% target/ },
  },
  // Downtrend (EMA20 under EMA100) and a 7-candle RSI above 65: sell the rally; the 4 % target is hit.
  'system-trend-pullback': {
    trades: 17,
    enter: { at: '2026-01-05T23:00', side: 'short', reason: /trend -1 .*; dip -1 \(RSI7 66\.70\)/ },
    exit: { at: '2026-01-07T12:00', by: 'target', reason: /reached the 4\.00% target/ },
    blocked: { at: '2026-01-10T01:00', side: 'short', by: 'no-chasing', reason: /3\.24% from its EMA50, more than 3\.00%/ },
  },
  // Jan 1 is a Thursday but 20:00 is outside 22:00–07:00; the first entry is a Monday 23:00 fade of the upper band.
  'system-quiet-range': {
    trades: 11,
    enter: { at: '2026-01-05T23:00', side: 'short', reason: /bands -1/ },
    exit: { at: '2026-01-06T05:00', by: 'target', reason: /reached the 1\.00% target/ },
    blocked: { at: '2026-01-01T20:00', side: 'short', by: 'sessions', reason: /outside the trading sessions/ },
  },
  // Two of three agree (EMA cross and MACD; no breakout yet); the trail closes it the same day.
  'system-consensus': {
    trades: 19,
    enter: { at: '2026-01-03T02:00', side: 'long', reason: /ema-12-26 \+1 .*; macd \+1 .*; donchian-20 0/ },
    exit: { at: '2026-01-03T13:00', by: 'trail', reason: /3\.03% back from the best close/ },
    blocked: { at: '2026-01-02T12:00', side: 'short', by: 'no-chasing', reason: /warming up/ },
  },
  // Below the 2.5-deviation band: buy; it goes nowhere for two days. Later a dip in a 2.74 % ATR market is skipped.
  'system-long-dip-buyer': {
    trades: 9,
    enter: { at: '2026-01-05T05:00', side: 'long', reason: /bands \+1/ },
    exit: { at: '2026-01-07T05:00', by: 'two-days', reason: /held 48 candles/ },
    blocked: { at: '2026-01-08T06:00', side: 'long', by: 'no-crash', reason: /ATR14 % 2\.74 is above 2\.50/ },
  },
};

describe('system templates', () => {
  it('there are eight, each valid, described, and with a recorded expectation', () => {
    expect(SYSTEM_TEMPLATES).toHaveLength(8);
    expect(new Set(SYSTEM_TEMPLATES.map((t) => t.id)).size).toBe(8);
    for (const { id, template } of SYSTEM_TEMPLATES) {
      expect(TemplateBody.safeParse(template).success, id).toBe(true);
      expect(template.description.length, id).toBeGreaterThan(80);
      expect(EXPECTED[id], id).toBeDefined();
    }
  });

  it.each(Object.entries(EXPECTED))('%s trades as recorded', (id, expected) => {
    const { decisions, trades } = backtest(id);
    expect(trades.length).toBe(expected.trades);
    const enter = first(decisions, 'enter');
    expect({ at: iso(enter?.time), side: enter?.side }).toEqual({ at: expected.enter.at, side: expected.enter.side });
    expect(enter?.type === 'enter' && enter.reason).toMatch(expected.enter.reason);
    const exit = first(decisions, 'exit');
    expect({ at: iso(exit?.time), by: exit?.type === 'exit' && exit.by }).toEqual({ at: expected.exit.at, by: expected.exit.by });
    expect(exit?.type === 'exit' && exit.reason).toMatch(expected.exit.reason);
    const blocked = first(decisions, 'blocked');
    if (expected.blocked) {
      expect({ at: iso(blocked?.time), side: blocked?.side, by: blocked?.type === 'blocked' && blocked.by }).toEqual({
        at: expected.blocked.at,
        side: expected.blocked.side,
        by: expected.blocked.by,
      });
      expect(blocked?.type === 'blocked' && blocked.reason).toMatch(expected.blocked.reason);
    } else {
      expect(blocked).toBeUndefined();
    }
  });
});
