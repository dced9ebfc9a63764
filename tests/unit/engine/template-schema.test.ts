// The template document at the border: what a user can save, and what is refused with a reason.
import { describe, expect, it } from 'vitest';
import { combineScores } from '../../../src-engine/combine.ts';
import { inSession, weekdayOf } from '../../../src-engine/sessions.ts';
import { BotLimits, COMPONENT_LABELS, COMPONENT_PARAMS, COMPONENT_ROLE, TemplateBody } from '../../../src-shared/templates.ts';
import { emaCross, MONDAY, stopLoss, templateWith } from './support.ts';

const issues = (value: unknown) => {
  const parsed = TemplateBody.safeParse(value);
  return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('template document', () => {
  it('accepts a minimal template', () => {
    expect(issues(templateWith([emaCross(), stopLoss(3)]))).toEqual([]);
  });

  it('every kind has a role, a parameter schema and words for the editor', () => {
    expect(Object.keys(COMPONENT_ROLE).sort()).toEqual(Object.keys(COMPONENT_PARAMS).sort());
    expect(Object.keys(COMPONENT_LABELS).sort()).toEqual(Object.keys(COMPONENT_PARAMS).sort());
  });

  it.each([
    ['a kind in the wrong role', [{ id: 'x', role: 'filter', kind: 'emaCross', params: { fast: 2, slow: 3 } }, stopLoss(3)], /components\.0\.role/],
    ['a signal without a weight', [{ id: 'x', role: 'signal', kind: 'emaCross', params: { fast: 2, slow: 3 } }, stopLoss(3)], /components\.0\.weight/],
    ['a fast EMA slower than the slow one', [emaCross(5, 3), stopLoss(3)], /fast EMA must be shorter/],
    ['oversold above overbought', [{ id: 'r', role: 'signal', kind: 'rsi', params: { period: 14, oversold: 70, overbought: 30 }, weight: 1 }, stopLoss(3)], /oversold must be below overbought/],
    ['an unknown parameter', [{ id: 'x', role: 'exitRule', kind: 'stopLoss', params: { percent: 3, extra: 1 } }, emaCross()], /Unrecognized key/],
    ['a filter with neither bound', [emaCross(), { id: 'a', role: 'filter', kind: 'adxTrend', params: { period: 14 } }, stopLoss(3)], /give a minimum, a maximum or both/],
    ['two components with one id', [emaCross(), stopLoss(3, 'cross')], /"cross" is used twice/],
    ['no exit rule', [emaCross()], /at least one exit rule/],
    ['no signal', [stopLoss(3)], /at least one signal/],
    ['an upper-case id', [{ ...emaCross(), id: 'Cross' }, stopLoss(3)], /lower-case/],
  ])('refuses %s', (_name, components, reason) => {
    expect(issues(templateWith(components as never)).join('\n')).toMatch(reason);
  });

  it('refuses bad sessions and combinations', () => {
    expect(issues(templateWith([emaCross(), stopLoss(3)], { sessions: [{ days: ['mon'], from: '09:00', to: '09:00' }] })).join()).toMatch(/must not be empty/);
    expect(issues(templateWith([emaCross(), stopLoss(3)], { sessions: [{ days: ['mon', 'mon'], from: '09:00', to: '10:00' }] })).join()).toMatch(/listed twice/);
    expect(issues(templateWith([emaCross(), stopLoss(3)], { sessions: [{ days: ['mon'], from: '9:00', to: '25:00' }] })).join()).toMatch(/HH:MM/);
    expect(issues(templateWith([emaCross(), stopLoss(3)], { combination: { mode: 'majority', threshold: 0.4 } })).join()).toMatch(/combination\.threshold/);
  });

  it('bot limits', () => {
    expect(BotLimits.safeParse({ maxOpenPositionsPerSymbol: 1, maxOpenPositionsTotal: 3, maxDailyLossPercent: 5, maxLeverage: 3 }).success).toBe(true);
    expect(BotLimits.safeParse({ maxOpenPositionsPerSymbol: 1, maxOpenPositionsTotal: 3, maxDailyLossPercent: 0, maxLeverage: 3 }).success).toBe(false);
    expect(BotLimits.safeParse({ maxOpenPositionsPerSymbol: 1, maxOpenPositionsTotal: 3, maxDailyLossPercent: 5, maxLeverage: 200 }).success).toBe(false);
  });
});

describe('combination', () => {
  const s = (...scores: (-1 | 0 | 1)[]) => scores.map((score, i) => ({ weight: i === 0 ? 2 : 1, score }));
  it('weighted sum: Σ weight·score / Σ weight against the threshold', () => {
    // Weights 2, 1, 1. (2 + 1 − 1) / 4 = 0.5.
    expect(combineScores({ mode: 'weightedSum', threshold: 0.5 }, s(1, 1, -1))).toBe('long');
    expect(combineScores({ mode: 'weightedSum', threshold: 0.6 }, s(1, 1, -1))).toBeNull();
    // (−2 + 0 + 0) / 4 = −0.5.
    expect(combineScores({ mode: 'weightedSum', threshold: 0.5 }, s(-1, 0, 0))).toBe('short');
  });
  it('majority: more on one side, and at least the threshold share of all signals', () => {
    expect(combineScores({ mode: 'majority', threshold: 0.6 }, s(1, 1, 0))).toBe('long');
    expect(combineScores({ mode: 'majority', threshold: 0.7 }, s(1, 1, 0))).toBeNull();
    expect(combineScores({ mode: 'majority', threshold: 0.5 }, s(1, -1, 0))).toBeNull();
  });
  it('unanimous: all or nothing', () => {
    expect(combineScores({ mode: 'unanimous' }, s(-1, -1, -1))).toBe('short');
    expect(combineScores({ mode: 'unanimous' }, s(1, 1, 0))).toBeNull();
  });
});

describe('sessions in UTC, without a clock', () => {
  it('knows the weekday from the milliseconds', () => {
    expect(weekdayOf(MONDAY)).toBe('mon');
    expect(weekdayOf(MONDAY - 1)).toBe('sun');
    expect(weekdayOf(0)).toBe('thu');
  });
  it('a window past midnight belongs to the day it starts', () => {
    const friNight = { days: ['fri' as const], from: '22:00', to: '02:00' };
    const saturday1am = MONDAY - 2 * 86_400_000 + 3_600_000;
    expect(weekdayOf(saturday1am)).toBe('sat');
    expect(inSession(friNight, saturday1am)).toBe(true);
    expect(inSession(friNight, saturday1am + 86_400_000)).toBe(false);
    expect(inSession({ days: ['mon'], from: '00:00', to: '24:00' }, MONDAY + 86_400_000 - 1)).toBe(true);
  });
});
