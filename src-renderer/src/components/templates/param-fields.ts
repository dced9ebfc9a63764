// The editor's form for a component, read from the kind's own zod schema: a number, a choice or a
// switch per parameter, with the bounds the schema sets, and the schema's own words when a value is refused.
import { z } from 'zod';
import {
  COMPONENT_LABELS,
  COMPONENT_PARAMS,
  COMPONENT_ROLE,
  TemplateBody,
  type Component,
  type ComponentKind,
  type ComponentParams,
  type ComponentRole,
} from '../../../../src-shared/templates.ts';

interface FieldBase {
  name: string;
  label: string;
  /** May be left empty (the parameter is then absent). */
  optional: boolean;
}
export type ParamField =
  | (FieldBase & { type: 'number'; integer: boolean; min: number | null; max: number | null })
  | (FieldBase & { type: 'choice'; options: readonly string[] })
  | (FieldBase & { type: 'switch' });

/** "thresholdPercent" -> "Threshold (%)", "minRatio" -> "Min ratio". */
export function paramLabel(name: string): string {
  const words = name.replace(/([A-Z])/g, ' $1').toLowerCase().trim();
  const percent = words.endsWith(' percent') || words === 'percent';
  const base = percent ? words.replace(/ ?percent$/, '') : words;
  const text = base.length > 0 ? base[0]!.toUpperCase() + base.slice(1) : 'Percent';
  return percent && base.length > 0 ? `${text} (%)` : percent ? '%' : text;
}

export function paramFields(kind: ComponentKind): ParamField[] {
  const schema = COMPONENT_PARAMS[kind] as unknown as z.ZodObject;
  return Object.entries(schema.shape).flatMap(([name, raw]): ParamField[] => {
    const optional = raw instanceof z.ZodOptional;
    const inner = optional ? (raw as z.ZodOptional<z.ZodType>).unwrap() : raw;
    const base = { name, label: paramLabel(name), optional };
    if (inner instanceof z.ZodNumber) {
      const bound = (n: number | null) => (n === null || !Number.isFinite(n) ? null : n);
      return [{ ...base, type: 'number', integer: inner.isInt, min: bound(inner.minValue), max: bound(inner.maxValue) }];
    }
    if (inner instanceof z.ZodEnum) return [{ ...base, type: 'choice', options: inner.options as readonly string[] }];
    if (inner instanceof z.ZodBoolean) return [{ ...base, type: 'switch' }];
    return [];
  });
}

/** What a newly added component starts with: values a trader would try first, valid for its schema. */
export const DEFAULT_PARAMS: { readonly [K in ComponentKind]: ComponentParams<K> } = {
  emaCross: { fast: 20, slow: 50 },
  rsi: { period: 14, oversold: 30, overbought: 70 },
  macd: { fast: 12, slow: 26, signal: 9 },
  bollinger: { period: 20, deviations: 2, mode: 'revert' },
  donchianBreakout: { period: 20 },
  fundingRateSignal: { thresholdPercent: 0.05, mode: 'fade' },
  adxTrend: { period: 14, min: 20 },
  volume: { period: 20, minRatio: 1.3 },
  volatilityRegime: { period: 14, maxPercent: 3 },
  maxDistanceFromMa: { average: 'ema', period: 50, maxPercent: 3 },
  fundingRateGate: { maxPayPercent: 0.05 },
  atrGate: { period: 14, maxPercent: 3 },
  stopLoss: { percent: 3 },
  takeProfit: { percent: 5 },
  trailingStop: { percent: 4 },
  breakEven: { triggerPercent: 2, offsetPercent: 0.2 },
  timeStop: { candles: 48 },
  signalFlip: {},
};

export const ROLE_NAMES: { readonly [R in ComponentRole]: string } = {
  signal: 'Signal',
  filter: 'Filter',
  entryGuard: 'Entry guard',
  riskGate: 'Risk gate',
  exitRule: 'Exit rule',
};

export const KINDS_BY_ROLE = (Object.keys(COMPONENT_ROLE) as ComponentKind[]).reduce(
  (by, kind) => ({ ...by, [COMPONENT_ROLE[kind]]: [...(by[COMPONENT_ROLE[kind]] ?? []), kind] }),
  {} as Record<ComponentRole, ComponentKind[]>,
);

/** A new component of `kind` with an id not yet used in the template. */
export function newComponent(kind: ComponentKind, taken: readonly string[]): Component {
  const stem = kind.replace(/([A-Z])/g, '-$1').toLowerCase();
  let id = stem;
  for (let n = 2; taken.includes(id); n++) id = `${stem}-${n}`;
  const params = structuredClone(DEFAULT_PARAMS[kind]);
  return (COMPONENT_ROLE[kind] === 'signal' ? { id, kind, role: 'signal', params, weight: 1 } : { id, kind, role: COMPONENT_ROLE[kind], params }) as Component;
}

export const componentName = (kind: ComponentKind) => COMPONENT_LABELS[kind].name;

/**
 * Every reason the draft is not a valid template, keyed by where it is ("components.0.params.fast",
 * "sizing.leverage", "" for the template as a whole). Empty: the draft can be saved.
 */
export function draftProblems(draft: unknown): Map<string, string> {
  const parsed = TemplateBody.safeParse(draft);
  const problems = new Map<string, string>();
  if (parsed.success) return problems;
  for (const issue of parsed.error.issues) {
    const key = issue.path.join('.');
    if (!problems.has(key)) problems.set(key, reasonOf(issue));
  }
  return problems;
}

/** zod's issue in a trader's words where its own are generic; the schemas' custom messages pass as they are. */
function reasonOf(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.expected === 'int' ? 'must be a whole number' : issue.expected === 'number' ? 'enter a number' : issue.message;
    case 'too_small':
      if (issue.origin === 'array' && Number(issue.minimum) === 1) return 'pick at least one';
      return issue.origin === 'array' || issue.origin === 'string' ? issue.message : `must be ${issue.inclusive ? 'at least' : 'more than'} ${String(issue.minimum)}`;
    case 'too_big':
      return issue.origin === 'array' || issue.origin === 'string' ? issue.message : `must be ${issue.inclusive ? 'at most' : 'less than'} ${String(issue.maximum)}`;
    default:
      return issue.message;
  }
}
