import type { Bar, Candle } from '../../../src-engine/types.ts';
import type { Component, TemplateBody } from '../../../src-shared/templates.ts';

export const HOUR = 3_600_000;
/** Monday 2026-01-05 00:00 UTC. */
export const MONDAY = Date.UTC(2026, 0, 5);

export interface BarSpec {
  close: number;
  open?: number;
  high?: number;
  low?: number;
  volume?: number;
  funding?: number | null;
}

/** Hourly bars from `start`; open defaults to the close, high and low to the wider of open and close. */
export function bars(specs: readonly (number | BarSpec)[], start = MONDAY): Bar[] {
  return specs.map((s, i) => {
    const spec = typeof s === 'number' ? { close: s } : s;
    const open = spec.open ?? spec.close;
    const candle: Candle = {
      time: start + i * HOUR,
      open,
      high: spec.high ?? Math.max(open, spec.close),
      low: spec.low ?? Math.min(open, spec.close),
      close: spec.close,
      volume: spec.volume ?? 1,
    };
    return { candle, fundingRate: spec.funding ?? null };
  });
}

export const candlesOf = (list: readonly Bar[]): Candle[] => list.map((b) => b.candle);

/** A template around the given components, sized to 100 % of equity at 1× unless told otherwise. */
export function templateWith(components: Component[], overrides: Partial<TemplateBody> = {}): TemplateBody {
  return {
    name: 'test',
    description: '',
    sides: 'both',
    sizing: { equityPercent: 100, leverage: 1 },
    combination: { mode: 'weightedSum', threshold: 1 },
    sessions: [],
    components,
    ...overrides,
  };
}

export const emaCross = (fast = 2, slow = 3): Component => ({ id: 'cross', role: 'signal', kind: 'emaCross', params: { fast, slow }, weight: 1 });
export const stopLoss = (percent: number, id = 'stop'): Component => ({ id, role: 'exitRule', kind: 'stopLoss', params: { percent } });
export const takeProfit = (percent: number, id = 'target'): Component => ({ id, role: 'exitRule', kind: 'takeProfit', params: { percent } });
