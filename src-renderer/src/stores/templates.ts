import { create } from 'zustand';
import type {
  BacktestListItem,
  BacktestProgress,
  BacktestRecord,
  BacktestRequest,
  BacktestSymbol,
  PreviewResult,
} from '../../../src-shared/ipc-templates.ts';
import type { Timeframe } from '../../../src-shared/market-series.ts';
import type { Result } from '../../../src-shared/result.ts';
import type { TemplateSummary, TemplateView } from '../../../src-shared/templates-api.ts';
import type { TemplateBody } from '../../../src-shared/templates.ts';
import { bridge, callMain } from '../bridge.ts';
import { guardedLoad, type Load } from './load.ts';
import { resetOnUserChange } from './identity.ts';

export type TemplatesTab = 'library' | 'editor' | 'backtests';

export type PreviewState =
  | { state: 'idle' }
  | { state: 'running' }
  | { state: 'ready'; result: PreviewResult }
  | { state: 'error'; message: string };

export interface ActiveRun {
  runId: string;
  done: number;
  total: number;
  cancelling: boolean;
}

/** What the Backtests tab starts with when a template's "Backtest" button opened it. */
export interface BacktestChoice {
  templateId: string;
  version: number;
}

/**
 * Templates (from the API, through main) and backtests (run in main's worker, kept in the local cache).
 * One page with tabs: the library, the editor on one template version, and backtests.
 */
interface TemplatesState {
  tab: TemplatesTab;
  templates: TemplateSummary[];
  load: Load;
  /** The template version open in the editor. */
  editing: TemplateView | null;
  preview: PreviewState;
  choice: BacktestChoice | null;
  run: ActiveRun | null;
  result: BacktestRecord | null;
  history: BacktestListItem[];

  setTab(tab: TemplatesTab): void;
  loadTemplates(): Promise<void>;
  open(id: string, version?: number): Promise<Result<TemplateView>>;
  duplicate(id: string, version?: number): Promise<Result<TemplateView>>;
  save(template: TemplateBody): Promise<Result<TemplateView>>;
  remove(id: string): Promise<Result<unknown>>;
  requestPreview(template: TemplateBody, symbol: BacktestSymbol, timeframe: Timeframe): Promise<void>;
  backtestFrom(choice: BacktestChoice): void;
  runBacktest(request: Omit<BacktestRequest, 'runId'>): Promise<Result<BacktestRecord>>;
  cancelBacktest(): Promise<void>;
  loadHistory(): Promise<void>;
  showResult(id: string): Promise<Result<BacktestRecord>>;
  /** Listens for progress of the run under way; returns the unsubscribe. */
  listen(): () => void;
}

const empty = (): Pick<TemplatesState, 'tab' | 'templates' | 'load' | 'editing' | 'preview' | 'choice' | 'run' | 'result' | 'history'> => ({
  tab: 'library',
  templates: [],
  load: { state: 'idle' },
  editing: null,
  preview: { state: 'idle' },
  choice: null,
  run: null,
  result: null,
  history: [],
});

/** Only the newest preview request may set the preview: earlier answers arrive late and are dropped. */
let previewSeq = 0;

export const useTemplatesStore = create<TemplatesState>((set, get) => ({
  ...empty(),
  setTab: (tab) => set({ tab }),
  loadTemplates: () =>
    guardedLoad(
      get().load,
      () => callMain((p) => p.templates.list()),
      (load, templates) => set(templates ? { load, templates } : { load }),
    ),
  async open(id, version) {
    const result = await callMain((p) => p.templates.get({ id, ...(version === undefined ? {} : { version }) }));
    if (result.ok) set({ editing: result.value, tab: 'editor', preview: { state: 'idle' } });
    return result;
  },
  async duplicate(id, version) {
    const result = await callMain((p) => p.templates.duplicate({ id, ...(version === undefined ? {} : { version }) }));
    if (result.ok) {
      set({ editing: result.value, tab: 'editor', preview: { state: 'idle' } });
      await refresh(set);
    }
    return result;
  },
  async save(template) {
    const editing = get().editing;
    if (!editing) return { ok: false, code: 'nothing_open', message: 'Open a template first.' };
    const result = await callMain((p) => p.templates.save({ id: editing.id, baseVersion: editing.latestVersion, template }));
    if (result.ok) {
      set({ editing: result.value });
      await refresh(set);
    }
    return result;
  },
  async remove(id) {
    const result = await callMain((p) => p.templates.remove({ id }));
    if (result.ok) set((s) => ({ templates: s.templates.filter((t) => t.id !== id), editing: s.editing?.id === id ? null : s.editing }));
    return result;
  },
  async requestPreview(template, symbol, timeframe) {
    const seq = ++previewSeq;
    set({ preview: { state: 'running' } });
    const result = await callMain((p) => p.templates.preview({ template, symbol, timeframe }));
    if (seq !== previewSeq) return;
    set({ preview: result.ok ? { state: 'ready', result: result.value } : { state: 'error', message: result.message } });
  },
  backtestFrom: (choice) => set({ choice, tab: 'backtests' }),
  async runBacktest(request) {
    const runId = crypto.randomUUID();
    set({ run: { runId, done: 0, total: 0, cancelling: false } });
    const result = await callMain((p) => p.backtests.run({ ...request, runId }));
    set((s) => ({ run: s.run?.runId === runId ? null : s.run, ...(result.ok ? { result: result.value } : {}) }));
    if (result.ok) await get().loadHistory();
    return result;
  },
  async cancelBacktest() {
    const run = get().run;
    if (!run) return;
    set({ run: { ...run, cancelling: true } });
    await callMain((p) => p.backtests.cancel({ runId: run.runId }));
  },
  async loadHistory() {
    const result = await callMain((p) => p.backtests.list());
    if (result.ok) set({ history: result.value });
  },
  async showResult(id) {
    const result = await callMain((p) => p.backtests.get({ id }));
    if (result.ok) set({ result: result.value });
    return result;
  },
  listen() {
    const plutarc = bridge();
    if (!plutarc) return () => {};
    return plutarc.backtests.onProgress((progress: BacktestProgress) => {
      const run = get().run;
      if (run && run.runId === progress.runId) set({ run: { ...run, done: progress.done, total: progress.total } });
    });
  },
}));

async function refresh(set: (partial: Partial<TemplatesState>) => void): Promise<void> {
  const list = await callMain((p) => p.templates.list());
  if (list.ok) set({ templates: list.value, load: { state: 'ready' } });
}

// Another account's templates and results must never show: forget them whenever the signed-in user changes.
resetOnUserChange(useTemplatesStore, empty);
