import { create } from 'zustand';
import type { BotDetail, BotSettings, BotSummary } from '../../../src-shared/bots.ts';
import type { DeletedBot } from '../../../src-shared/ipc-bots.ts';
import type { RegionId } from '../../../src-shared/regions.ts';
import type { Result } from '../../../src-shared/result.ts';
import { bridge, callMain } from '../bridge.ts';
import { applyBotsChange, mergeReports, reportsFromHistory, type BotReport, type StateFilter } from './bot-feed.ts';
import { resetOnUserChange } from './identity.ts';
import { guardedLoad, type Load } from './load.ts';
import { sensitive } from './reverification.ts';

/** The bot page: its detail (settings, transitions, runs) and its reports, live while it is open. */
export interface OpenBot {
  id: string;
  detail: BotDetail | null;
  load: Load;
  reports: BotReport[];
  /** The cursor of older reports; null when the page holds them all. */
  olderFrom: string | null;
}

/** How many reports the bot page fetches when it opens. */
const FIRST_HISTORY_PAGE = 300;

/**
 * The account's bots, as main's live model pushes them (`bots.onChange`): no polling. The open bot's reports
 * come from its history and then live (`bots.onReport`).
 */
interface BotsState {
  bots: BotSummary[];
  load: Load;
  query: string;
  stateFilter: StateFilter;
  open: OpenBot | null;

  setQuery(query: string): void;
  setStateFilter(state: StateFilter): void;
  loadBots(): Promise<void>;
  /** Follows main's changes and reports; returns the unsubscribe. */
  connect(): () => void;
  openBot(id: string): Promise<void>;
  /** Fetches the next page of the open bot's older reports. */
  loadOlder(): Promise<Result<unknown>>;
  closeBot(): void;
  /** Creating assigns a key that will trade: the API may want "Confirm it's you" first. */
  create(settings: BotSettings): Promise<Result<BotDetail>>;
  /** A new key lets it trade too: the API may want "Confirm it's you" first. */
  update(id: string, changes: Partial<BotSettings>): Promise<Result<BotDetail>>;
  deploy(id: string, region: RegionId): Promise<Result<BotDetail>>;
  pause(id: string): Promise<Result<BotDetail>>;
  resume(id: string): Promise<Result<BotDetail>>;
  stop(id: string): Promise<Result<BotDetail>>;
  remove(id: string): Promise<Result<DeletedBot>>;
}

const empty = (): Pick<BotsState, 'bots' | 'load' | 'open' | 'query' | 'stateFilter'> => ({
  bots: [],
  load: { state: 'idle' },
  open: null,
  query: '',
  stateFilter: 'all',
});

export const useBotsStore = create<BotsState>((set, get) => {
  /** Puts a fresh detail on the bot page if that bot is still the one open. */
  const showDetail = (detail: BotDetail) =>
    set((s) => (s.open?.id === detail.summary.id ? { open: { ...s.open, detail, load: { state: 'ready' } } } : {}));

  const refreshDetail = async (id: string) => {
    const result = await callMain((p) => p.bots.get({ id }));
    if (result.ok) showDetail(result.value);
  };

  const acted = async (result: Promise<Result<BotDetail>>) => {
    const outcome = await result;
    if (outcome.ok) showDetail(outcome.value);
    return outcome;
  };

  return {
    ...empty(),
    setQuery: (query) => set({ query }),
    setStateFilter: (stateFilter) => set({ stateFilter }),

    loadBots: () =>
      guardedLoad(
        get().load,
        () => callMain((p) => p.bots.list()),
        (load, bots) => set(bots ? { load, bots: applyBotsChange([], { kind: 'reset', bots }) } : { load }),
      ),

    connect() {
      const plutarc = bridge();
      if (!plutarc) return () => {};
      const offChange = plutarc.bots.onChange((change) => {
        set((s) => ({ bots: applyBotsChange(s.bots, change), ...(change.kind === 'reset' ? { load: { state: 'ready' } as const } : {}) }));
        // A transition of the open bot adds to its transitions and runs: fetch its detail again.
        const open = get().open;
        if (open && change.kind === 'updated' && change.bot.id === open.id && change.from !== change.bot.state) void refreshDetail(open.id);
        if (open && change.kind === 'removed' && change.botId === open.id) set({ open: { ...open, load: { state: 'error', message: 'This bot was deleted.' } } });
      });
      const offReport = plutarc.bots.onReport((event) => {
        const open = get().open;
        if (open?.id !== event.botId) return;
        set({ open: { ...open, reports: mergeReports(open.reports, [{ instanceId: event.instanceId, seq: event.seq, report: event.report }]) } });
      });
      return () => {
        offChange();
        offReport();
      };
    },

    async openBot(id) {
      const previous = get().open;
      if (previous?.id === id) return;
      if (previous) void callMain((p) => p.bots.unwatch({ id: previous.id }));
      set({ open: { id, detail: null, load: { state: 'loading' }, reports: [], olderFrom: null } });
      // Watch first, so no report falls between the history page and the live ones (doubles are merged away).
      await callMain((p) => p.bots.watch({ id }));
      const [detail, history] = await Promise.all([
        callMain((p) => p.bots.get({ id })),
        callMain((p) => p.bots.history({ id, limit: FIRST_HISTORY_PAGE })),
      ]);
      const open = get().open;
      if (open?.id !== id) return;
      if (!detail.ok) return set({ open: { ...open, load: { state: 'error', message: detail.message } } });
      set({
        open: {
          ...open,
          detail: detail.value,
          load: history.ok ? { state: 'ready' } : { state: 'error', message: history.message },
          reports: history.ok ? mergeReports(open.reports, reportsFromHistory(history.value.items)) : open.reports,
          olderFrom: history.ok ? history.value.nextBefore : null,
        },
      });
    },

    async loadOlder() {
      const open = get().open;
      if (!open?.olderFrom) return { ok: true, value: null };
      const before = open.olderFrom;
      const page = await callMain((p) => p.bots.history({ id: open.id, before, limit: FIRST_HISTORY_PAGE }));
      const now = get().open;
      if (page.ok && now?.id === open.id && now.olderFrom === before) {
        set({ open: { ...now, reports: mergeReports(now.reports, reportsFromHistory(page.value.items), { keepAll: true }), olderFrom: page.value.nextBefore } });
      }
      return page;
    },

    closeBot() {
      const open = get().open;
      if (!open) return;
      void callMain((p) => p.bots.unwatch({ id: open.id }));
      set({ open: null });
    },

    create: (settings) => sensitive(() => callMain((p) => p.bots.create(settings))),
    update: (id, changes) => acted(sensitive(() => callMain((p) => p.bots.update({ id, changes })))),
    deploy: (id, region) => acted(sensitive(() => callMain((p) => p.bots.deploy({ id, region })))),
    pause: (id) => acted(callMain((p) => p.bots.pause({ id }))),
    resume: (id) => acted(callMain((p) => p.bots.resume({ id }))),
    stop: (id) => acted(callMain((p) => p.bots.stop({ id }))),
    async remove(id) {
      const result = await callMain((p) => p.bots.remove({ id }));
      if (result.ok) set((s) => ({ bots: s.bots.filter((b) => b.id !== id), open: s.open?.id === id ? null : s.open }));
      return result;
    },
  };
});

// Another account's bots must never show: forget them whenever the signed-in user changes.
resetOnUserChange(useBotsStore, empty);

/** The open bot's summary as the live list has it (newer than the detail's, which was fetched once). */
export const selectOpenSummary = (s: Pick<BotsState, 'bots' | 'open'>): BotSummary | null =>
  s.open ? (s.bots.find((b) => b.id === s.open?.id) ?? s.open.detail?.summary ?? null) : null;
