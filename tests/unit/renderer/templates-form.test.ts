// The template editor's forms come from the component schemas: the right input per parameter with the
// schema's bounds, and a refused value reported at the field it is in, in words a trader reads.
import { describe, expect, it } from 'vitest';
import { draftProblems, newComponent, paramFields, paramLabel, DEFAULT_PARAMS } from '../../../src-renderer/src/components/templates/param-fields.ts';
import { COMPONENT_PARAMS, TemplateBody, type ComponentKind } from '../../../src-shared/templates.ts';

const trend: TemplateBody = {
  name: 'Trend',
  description: 'test',
  sides: 'both',
  sizing: { equityPercent: 50, leverage: 2 },
  combination: { mode: 'weightedSum', threshold: 1 },
  sessions: [],
  components: [
    { id: 'ema', role: 'signal', kind: 'emaCross', params: { fast: 20, slow: 50 }, weight: 1 },
    { id: 'trending', role: 'filter', kind: 'adxTrend', params: { period: 14, min: 20 } },
    { id: 'stop', role: 'exitRule', kind: 'stopLoss', params: { percent: 3 } },
  ],
};

describe('paramFields', () => {
  it('reads number bounds, whole numbers and optional fields from the schema', () => {
    expect(paramFields('adxTrend')).toEqual([
      { name: 'period', label: 'Period', optional: false, type: 'number', integer: true, min: 2, max: 200 },
      { name: 'min', label: 'Min', optional: true, type: 'number', integer: false, min: 0, max: 100 },
      { name: 'max', label: 'Max', optional: true, type: 'number', integer: false, min: 0, max: 100 },
    ]);
  });

  it('offers a choice for an enum and labels percent fields', () => {
    expect(paramFields('maxDistanceFromMa')).toEqual([
      { name: 'average', label: 'Average', optional: false, type: 'choice', options: ['ema', 'sma'] },
      { name: 'period', label: 'Period', optional: false, type: 'number', integer: true, min: 2, max: 1000 },
      { name: 'maxPercent', label: 'Max (%)', optional: false, type: 'number', integer: false, min: 0, max: 100 },
    ]);
    expect(paramLabel('thresholdPercent')).toBe('Threshold (%)');
    expect(paramLabel('percent')).toBe('%');
  });

  it('has a field for every parameter of every kind, and a component with no parameters has none', () => {
    for (const kind of Object.keys(COMPONENT_PARAMS) as ComponentKind[]) {
      const shape = Object.keys((COMPONENT_PARAMS[kind] as unknown as { shape: object }).shape);
      expect(paramFields(kind).map((f) => f.name)).toEqual(shape);
    }
    expect(paramFields('signalFlip')).toEqual([]);
  });
});

describe('new components', () => {
  it('start valid for their schema, with an id not yet taken', () => {
    for (const kind of Object.keys(DEFAULT_PARAMS) as ComponentKind[]) {
      expect(COMPONENT_PARAMS[kind].safeParse(DEFAULT_PARAMS[kind]).success, kind).toBe(true);
    }
    expect(newComponent('emaCross', ['ema-cross', 'ema-cross-2'])).toEqual({ id: 'ema-cross-3', kind: 'emaCross', role: 'signal', params: { fast: 20, slow: 50 }, weight: 1 });
    expect(newComponent('timeStop', [])).toEqual({ id: 'time-stop', kind: 'timeStop', role: 'exitRule', params: { candles: 48 } });
    expect(TemplateBody.safeParse({ ...trend, components: [...trend.components, newComponent('breakEven', [])] }).success).toBe(true);
  });
});

describe('draftProblems', () => {
  const withParams = (i: number, params: object) => ({ ...trend, components: trend.components.map((c, j) => (j === i ? { ...c, params } : c)) });

  it('finds nothing wrong with a valid template', () => {
    expect(draftProblems(trend)).toEqual(new Map());
  });

  it('puts a cross-field rule at the field it names, in the schema’s words', () => {
    expect(draftProblems(withParams(0, { fast: 60, slow: 50 }))).toEqual(new Map([['components.0.params.fast', 'the fast EMA must be shorter than the slow one']]));
  });

  it('says what a number must be', () => {
    expect(draftProblems(withParams(0, { fast: 1, slow: 50 })).get('components.0.params.fast')).toBe('must be at least 2');
    expect(draftProblems(withParams(0, { fast: 2.5, slow: 50 })).get('components.0.params.fast')).toBe('must be a whole number');
    expect(draftProblems(withParams(2, { percent: 0 })).get('components.2.params.percent')).toBe('must be more than 0');
    expect(draftProblems(withParams(2, { percent: 101 })).get('components.2.params.percent')).toBe('must be at most 100');
    expect(draftProblems(withParams(2, { percent: Number.NaN })).get('components.2.params.percent')).toBe('enter a number');
    expect(draftProblems({ ...trend, sizing: { equityPercent: 50, leverage: 0.5 } }).get('sizing.leverage')).toBe('must be at least 1');
  });

  it('says what is wrong with a trading session, at its field', () => {
    const problems = draftProblems({ ...trend, sessions: [{ days: [], from: '08:00', to: '25:00' }] });
    expect(problems.get('sessions.0.days')).toBe('pick at least one');
    expect(problems.get('sessions.0.to')).toBe('use HH:MM in UTC, 00:00 to 24:00');
    expect(draftProblems({ ...trend, sessions: [{ days: ['mon'], from: '08:00', to: '08:00' }] }).get('sessions.0.to')).toBe('a session must not be empty');
  });

  it('reports a template-wide rule at the template', () => {
    expect(draftProblems({ ...trend, components: trend.components.slice(0, 2) }).get('components')).toBe('a template needs at least one exit rule');
  });
});
