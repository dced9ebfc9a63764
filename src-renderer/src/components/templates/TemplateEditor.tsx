import { useEffect, useMemo, useState } from 'react';
import { BacktestSymbol, type BacktestSymbol as Symbol_, type PreviewDecision } from '../../../../src-shared/ipc-templates.ts';
import type { Timeframe } from '../../../../src-shared/market-series.ts';
import type { TemplateView } from '../../../../src-shared/templates-api.ts';
import { COMPONENT_LABELS, TradeSides, WEEKDAYS, type Component, type ComponentKind, type TemplateBody, type TradingSession, type Weekday } from '../../../../src-shared/templates.ts';
import { Alert } from '../Alert.tsx';
import { useTemplatesStore } from '../../stores/templates.ts';
import { PreviewChart } from './charts.tsx';
import { componentName, draftProblems, KINDS_BY_ROLE, newComponent, paramFields, ROLE_NAMES, type ParamField } from './param-fields.ts';

const SIDE_NAMES: Record<TradeSides, string> = { both: 'Long and short', longOnly: 'Long only', shortOnly: 'Short only' };
const PREVIEW_TIMEFRAMES: Timeframe[] = ['5m', '15m', '1h', '4h'];
/** Wait for typing to pause before asking main for a new preview. */
const PREVIEW_DELAY_MS = 400;

type Draft = TemplateBody;
type Params = Record<string, unknown>;

function FieldProblem({ id, message }: { id: string; message: string | undefined }) {
  return message ? (
    <span id={id} className="field-problem" role="alert">
      {message}
    </span>
  ) : null;
}

/** One input for one parameter, as its schema describes it. */
function ParamInput({ field, value, onChange, problem, id, readOnly }: { field: ParamField; value: unknown; onChange: (v: unknown) => void; problem?: string; id: string; readOnly: boolean }) {
  const describedBy = problem ? `${id}-problem` : undefined;
  let input;
  if (field.type === 'number') {
    input = (
      <input
        id={id}
        type="number"
        inputMode="decimal"
        step={field.integer ? 1 : 'any'}
        {...(field.min !== null ? { min: field.min } : {})}
        {...(field.max !== null ? { max: field.max } : {})}
        value={typeof value === 'number' && Number.isFinite(value) ? value : ''}
        placeholder={field.optional ? 'none' : ''}
        aria-invalid={problem ? true : undefined}
        aria-describedby={describedBy}
        readOnly={readOnly}
        onChange={(e) => onChange(e.target.value === '' ? (field.optional ? undefined : Number.NaN) : Number(e.target.value))}
      />
    );
  } else if (field.type === 'choice') {
    input = (
      <select id={id} value={String(value ?? '')} disabled={readOnly} aria-describedby={describedBy} onChange={(e) => onChange(e.target.value)}>
        {field.options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    );
  } else {
    input = <input id={id} type="checkbox" checked={value === true} disabled={readOnly} onChange={(e) => onChange(e.target.checked)} />;
  }
  return (
    <div className="param">
      <label htmlFor={id}>{field.label}</label>
      {input}
      {field.type === 'number' && (field.min !== null || field.max !== null) ? (
        <span className="muted small">
          {field.min ?? '…'} to {field.max ?? '…'}
          {field.integer ? ', whole' : ''}
        </span>
      ) : null}
      <FieldProblem id={`${id}-problem`} message={problem} />
    </div>
  );
}

function ComponentCard({
  component,
  index,
  problems,
  readOnly,
  onChange,
  onRemove,
}: {
  component: Component;
  index: number;
  problems: Map<string, string>;
  readOnly: boolean;
  onChange: (c: Component) => void;
  onRemove: () => void;
}) {
  const at = `components.${index}`;
  const params = component.params as Params;
  const setParam = (name: string, value: unknown) => {
    const next: Params = { ...params };
    if (value === undefined) delete next[name];
    else next[name] = value;
    onChange({ ...component, params: next } as Component);
  };
  const whole = problems.get(`${at}.params`) ?? problems.get(at) ?? problems.get(`${at}.id`);
  return (
    <li className="component-card" aria-label={`${ROLE_NAMES[component.role]}: ${componentName(component.kind)} (${component.id})`}>
      <div className="component-head">
        <strong>{componentName(component.kind)}</strong>
        <span className="badge">{ROLE_NAMES[component.role]}</span>
        <code className="muted">{component.id}</code>
        <span className="spacer" />
        {readOnly ? null : (
          <button type="button" onClick={onRemove} aria-label={`Remove ${component.id}`}>
            Remove
          </button>
        )}
      </div>
      <p className="muted small">{COMPONENT_LABELS[component.kind].description}</p>
      <div className="params">
        {paramFields(component.kind).map((field) => (
          <ParamInput
            key={field.name}
            id={`${component.id}-${field.name}`}
            field={field}
            value={params[field.name]}
            readOnly={readOnly}
            problem={problems.get(`${at}.params.${field.name}`)}
            onChange={(v) => setParam(field.name, v)}
          />
        ))}
        {component.role === 'signal' ? (
          <ParamInput
            id={`${component.id}-weight`}
            field={{ name: 'weight', label: 'Weight', optional: false, type: 'number', integer: false, min: 0, max: 100 }}
            value={component.weight}
            readOnly={readOnly}
            problem={problems.get(`${at}.weight`)}
            onChange={(v) => onChange({ ...component, weight: v as number })}
          />
        ) : null}
      </div>
      <FieldProblem id={`${component.id}-problem`} message={whole} />
    </li>
  );
}

const DAY_NAMES: Record<Weekday, string> = { sun: 'Sun', mon: 'Mon', tue: 'Tue', wed: 'Wed', thu: 'Thu', fri: 'Fri', sat: 'Sat' };
const WORKING_DAYS: Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri'];

/** Trading sessions: entries only on the ticked days inside the UTC window. None: entries at any time. */
function Sessions({
  sessions,
  problems,
  readOnly,
  onChange,
}: {
  sessions: TradingSession[];
  problems: Map<string, string>;
  readOnly: boolean;
  onChange: (sessions: TradingSession[]) => void;
}) {
  const set = (i: number, session: TradingSession) => onChange(sessions.map((s, j) => (j === i ? session : s)));
  return (
    <fieldset className="sessions" disabled={readOnly}>
      <legend>Trading sessions (UTC)</legend>
      {sessions.length === 0 ? <p className="muted small">No sessions: the template may enter at any time of day.</p> : null}
      {sessions.map((session, i) => {
        const problem = problems.get(`sessions.${i}.to`) ?? problems.get(`sessions.${i}.from`) ?? problems.get(`sessions.${i}.days`) ?? problems.get(`sessions.${i}`);
        return (
          <div key={i} className="session" role="group" aria-label={`Session ${i + 1}`}>
            {WEEKDAYS.map((day) => (
              <label key={day} className="day">
                <input
                  type="checkbox"
                  checked={session.days.includes(day)}
                  onChange={(e) => set(i, { ...session, days: e.target.checked ? WEEKDAYS.filter((d) => d === day || session.days.includes(d)) : session.days.filter((d) => d !== day) })}
                />
                {DAY_NAMES[day]}
              </label>
            ))}
            <label>
              from <input className="clock" value={session.from} maxLength={5} onChange={(e) => set(i, { ...session, from: e.target.value })} aria-label={`Session ${i + 1} from`} />
            </label>
            <label>
              to <input className="clock" value={session.to} maxLength={5} onChange={(e) => set(i, { ...session, to: e.target.value })} aria-label={`Session ${i + 1} to`} />
            </label>
            {readOnly ? null : (
              <button type="button" onClick={() => onChange(sessions.filter((_, j) => j !== i))}>
                Remove
              </button>
            )}
            <FieldProblem id={`session-${i}-problem`} message={problem} />
          </div>
        );
      })}
      {readOnly ? null : (
        <button type="button" onClick={() => onChange([...sessions, { days: WORKING_DAYS, from: '08:00', to: '16:00' }])}>
          Add a session
        </button>
      )}
    </fieldset>
  );
}

function AddComponent({ taken, onAdd }: { taken: string[]; onAdd: (c: Component) => void }) {
  const [kind, setKind] = useState<ComponentKind>('emaCross');
  return (
    <div className="add-component">
      <label htmlFor="add-kind">Add a component</label>
      <select id="add-kind" value={kind} onChange={(e) => setKind(e.target.value as ComponentKind)}>
        {Object.entries(KINDS_BY_ROLE).map(([role, kinds]) => (
          <optgroup key={role} label={ROLE_NAMES[role as keyof typeof ROLE_NAMES]}>
            {kinds.map((k) => (
              <option key={k} value={k}>
                {componentName(k)}
              </option>
            ))}
          </optgroup>
        ))}
      </select>
      <button type="button" onClick={() => onAdd(newComponent(kind, taken))}>
        Add
      </button>
    </div>
  );
}

const DECISION_WORDS = { enter: 'Enter', exit: 'Exit', blocked: 'Blocked' } as const;
const SHOWN_DECISIONS = 12;

/** The latest decisions in words: what the engine would order, and what stopped the entries it wanted. */
function DecisionList({ decisions }: { decisions: readonly PreviewDecision[] }) {
  if (decisions.length === 0) return <p className="muted small">No decision in these candles: the signals never agreed.</p>;
  return (
    <table className="table decisions" aria-label="Latest decisions">
      <thead>
        <tr>
          <th scope="col">Close (UTC)</th>
          <th scope="col">Decision</th>
          <th scope="col">By</th>
          <th scope="col">Why</th>
        </tr>
      </thead>
      <tbody>
        {decisions
          .slice(-SHOWN_DECISIONS)
          .reverse()
          .map((d, i) => (
            <tr key={i} className={d.type}>
              <td>{new Date(d.time).toISOString().slice(0, 16).replace('T', ' ')}</td>
              <td>
                {DECISION_WORDS[d.type]} {d.side}
              </td>
              <td>{d.by ? <code>{d.by}</code> : null}</td>
              <td className="small">{d.reason}</td>
            </tr>
          ))}
      </tbody>
    </table>
  );
}

function Preview({ draft, valid }: { draft: Draft; valid: boolean }) {
  const preview = useTemplatesStore((s) => s.preview);
  const requestPreview = useTemplatesStore((s) => s.requestPreview);
  const [symbol, setSymbol] = useState<Symbol_>('BTC');
  const [timeframe, setTimeframe] = useState<Timeframe>('1h');
  useEffect(() => {
    if (!valid) return;
    const timer = window.setTimeout(() => void requestPreview(draft, symbol, timeframe), PREVIEW_DELAY_MS);
    return () => window.clearTimeout(timer);
  }, [draft, valid, symbol, timeframe, requestPreview]);
  const counts = preview.state === 'ready' ? preview.result.decisions.reduce((n, d) => ({ ...n, [d.type]: (n[d.type] ?? 0) + 1 }), {} as Record<string, number>) : {};
  return (
    <section className="panel preview" aria-labelledby="preview-title">
      <h2 id="preview-title">Preview on the last 200 candles</h2>
      <div className="row">
        <label>
          Market{' '}
          <select value={symbol} onChange={(e) => setSymbol(e.target.value as Symbol_)}>
            {BacktestSymbol.options.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          Candles{' '}
          <select value={timeframe} onChange={(e) => setTimeframe(e.target.value as Timeframe)}>
            {PREVIEW_TIMEFRAMES.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </label>
        <span className="muted small" data-testid="preview-status">
          {!valid
            ? 'Fix the fields marked above to see a preview.'
            : preview.state === 'running'
              ? 'Working it out…'
              : preview.state === 'ready'
                ? `${counts.enter ?? 0} entries, ${counts.exit ?? 0} exits, ${counts.blocked ?? 0} blocked on the simulated ${symbol} market`
                : ''}
        </span>
      </div>
      <Alert message={preview.state === 'error' ? preview.message : null} small />
      {preview.state === 'ready' ? (
        <>
          <PreviewChart preview={preview.result} />
          <DecisionList decisions={preview.result.decisions} />
        </>
      ) : null}
    </section>
  );
}

/** The editor for one template version: system templates read-only, the user's own saved as a new version. */
export function TemplateEditor({ template }: { template: TemplateView }) {
  const save = useTemplatesStore((s) => s.save);
  const duplicate = useTemplatesStore((s) => s.duplicate);
  const backtestFrom = useTemplatesStore((s) => s.backtestFrom);
  const [draft, setDraft] = useState<Draft>(template.body);
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);
  const [saving, setSaving] = useState(false);
  useEffect(() => setDraft(template.body), [template]);
  const readOnly = template.kind === 'system' || template.version !== template.latestVersion;
  const problems = useMemo(() => draftProblems(draft), [draft]);
  const changed = JSON.stringify(draft) !== JSON.stringify(template.body);
  const top = [...problems.entries()].filter(([path]) => !path.startsWith('components.') && !/^(name|description|sizing|combination|sessions\.)/.test(path));

  const setComponent = (i: number, c: Component) => setDraft((d) => ({ ...d, components: d.components.map((x, j) => (j === i ? c : x)) }));
  const onSave = async () => {
    setSaving(true);
    setMessage(null);
    const result = await save(draft);
    setSaving(false);
    setMessage(result.ok ? { error: false, text: `Saved as version ${result.value.version}.` } : { error: true, text: result.message });
  };
  const num = (v: string) => (v === '' ? Number.NaN : Number(v));

  return (
    <section className="editor" aria-labelledby="editor-title">
      <header className="page-header">
        <h2 id="editor-title">
          {template.name} <span className="muted small">version {template.version}{template.kind === 'system' ? ' · system template, read-only' : ''}</span>
        </h2>
        <div className="row">
          {template.kind === 'system' || readOnly ? (
            <button type="button" onClick={() => void duplicate(template.id, template.version)}>
              Duplicate to edit
            </button>
          ) : (
            <button type="button" className="primary" disabled={!changed || problems.size > 0 || saving} onClick={() => void onSave()}>
              Save as version {template.latestVersion + 1}
            </button>
          )}
          <button type="button" onClick={() => backtestFrom({ templateId: template.id, version: template.version })}>
            Backtest this version
          </button>
        </div>
      </header>
      {message ? (
        message.error ? (
          <Alert message={message.text} />
        ) : (
          <p role="status" className="muted">
            {message.text}
          </p>
        )
      ) : null}
      {changed && problems.size > 0 ? <p className="muted small">Not saved: {problems.size === 1 ? 'one field needs' : `${problems.size} fields need`} a fix.</p> : null}

      <fieldset className="basics" disabled={readOnly}>
        <div className="param">
          <label htmlFor="template-name">Name</label>
          <input id="template-name" value={draft.name} onChange={(e) => setDraft({ ...draft, name: e.target.value })} />
          <FieldProblem id="template-name-problem" message={problems.get('name')} />
        </div>
        <div className="param wide">
          <label htmlFor="template-description">Description</label>
          <textarea id="template-description" rows={3} value={draft.description} onChange={(e) => setDraft({ ...draft, description: e.target.value })} />
          <FieldProblem id="template-description-problem" message={problems.get('description')} />
        </div>
        <div className="param">
          <label htmlFor="template-sides">Trades</label>
          <select id="template-sides" value={draft.sides} onChange={(e) => setDraft({ ...draft, sides: e.target.value as TradeSides })}>
            {TradeSides.options.map((s) => (
              <option key={s} value={s}>
                {SIDE_NAMES[s]}
              </option>
            ))}
          </select>
        </div>
        <div className="param">
          <label htmlFor="template-equity">Size (% of equity)</label>
          <input id="template-equity" type="number" min={0} max={100} step="any" value={Number.isFinite(draft.sizing.equityPercent) ? draft.sizing.equityPercent : ''} onChange={(e) => setDraft({ ...draft, sizing: { ...draft.sizing, equityPercent: num(e.target.value) } })} />
          <FieldProblem id="template-equity-problem" message={problems.get('sizing.equityPercent')} />
        </div>
        <div className="param">
          <label htmlFor="template-leverage">Leverage</label>
          <input id="template-leverage" type="number" min={1} max={125} step="any" value={Number.isFinite(draft.sizing.leverage) ? draft.sizing.leverage : ''} onChange={(e) => setDraft({ ...draft, sizing: { ...draft.sizing, leverage: num(e.target.value) } })} />
          <FieldProblem id="template-leverage-problem" message={problems.get('sizing.leverage')} />
        </div>
        <div className="param">
          <label htmlFor="template-combination">Signals combine by</label>
          <select
            id="template-combination"
            value={draft.combination.mode}
            onChange={(e) => {
              const mode = e.target.value as Draft['combination']['mode'];
              setDraft({ ...draft, combination: mode === 'unanimous' ? { mode } : { mode, threshold: mode === 'majority' ? 0.5 : 0.5 } });
            }}
          >
            <option value="weightedSum">weighted sum</option>
            <option value="majority">majority</option>
            <option value="unanimous">unanimous</option>
          </select>
        </div>
        {draft.combination.mode !== 'unanimous' ? (
          <div className="param">
            <label htmlFor="template-threshold">Threshold</label>
            <input
              id="template-threshold"
              type="number"
              step="any"
              min={0}
              max={1}
              value={Number.isFinite(draft.combination.threshold) ? draft.combination.threshold : ''}
              onChange={(e) => setDraft({ ...draft, combination: { ...draft.combination, threshold: num(e.target.value) } as Draft['combination'] })}
            />
            <FieldProblem id="template-threshold-problem" message={problems.get('combination.threshold')} />
          </div>
        ) : null}
      </fieldset>
      {top.map(([path, text]) => (
        <Alert key={path} message={text} small />
      ))}

      <ol className="components" aria-label="Components">
        {draft.components.map((c, i) => (
          <ComponentCard
            key={c.id}
            component={c}
            index={i}
            problems={problems}
            readOnly={readOnly}
            onChange={(next) => setComponent(i, next)}
            onRemove={() => setDraft({ ...draft, components: draft.components.filter((_, j) => j !== i) })}
          />
        ))}
      </ol>
      {readOnly ? null : <AddComponent taken={draft.components.map((c) => c.id)} onAdd={(c) => setDraft({ ...draft, components: [...draft.components, c] })} />}
      <Sessions sessions={draft.sessions} problems={problems} readOnly={readOnly} onChange={(sessions) => setDraft({ ...draft, sessions })} />
      <Preview draft={draft} valid={problems.size === 0} />
    </section>
  );
}
