import { create } from 'zustand';
import type { TradesFacets, TradesSyncState, TradesWindow } from '../../../src-shared/ipc-trades.ts';
import type { Result } from '../../../src-shared/result.ts';
import type { Trade, TradeDetail, TradeFilter, TradeSort, TradeSummary } from '../../../src-shared/trades.ts';
import { bridge, callMain } from '../bridge.ts';
import { resetOnUserChange } from './identity.ts';
import type { Load } from './load.ts';
import { cleanFilter, nextSort, WINDOW_ROWS, windowOf, windowsFor, windowsToForget } from './trades-view.ts';

/** Rows of one window, and the view they were fetched for: rows of an older view still show until fresh ones come. */
export interface HeldWindow {
  view: number;
  rows: readonly Trade[];
}

/** The trade open in its dialog (the page's `#/trades/<id>`). */
export interface OpenTrade {
  id: string;
  detail: TradeDetail | null;
  load: Load;
}

/**
 * The Trades page: the local copy's trades as windows of rows around what the table shows (never the whole list),
 * the summary over the filter, the filter's choices, and how current the copy is. Main pushes `trades.onChange`
 * when the copy or its sync state changes; the page then asks again for what it shows.
 */
interface TradesState {
  filter: TradeFilter;
  sort: TradeSort;
  /** How many trades match the filter; null until main has said, for this filter. */
  total: number | null;
  /** Held windows by index (rows `index * WINDOW_ROWS` on), at most WINDOWS_KEPT of them. */
  windows: ReadonlyMap<number, HeldWindow>;
  /** Grows whenever the filter, the sort or the copy changes: an answer asked for an older view is dropped. */
  view: number;
  /** The table's first window for this filter and sort: the page shows "Loading trades…" until it is in. */
  load: Load;
  summary: readonly TradeSummary[] | null;
  summaryLoad: Load;
  facets: TradesFacets;
  sync: TradesSyncState | null;
  syncing: boolean;
  /** The row the keyboard is on, by position in the list. */
  selected: number | null;
  open: OpenTrade | null;

  /** Loads what the page shows first (sync state, choices, summary, first rows) unless held; returns nothing. */
  start(): void;
  /** Follows main's `trades.onChange`; returns the unsubscribe. */
  connect(): () => void;
  /** The table shows rows `first`..`last`: asks for the windows they and their neighbours fall in, forgets far ones. */
  showRows(first: number, last: number): void;
  setFilter(changes: Partial<TradeFilter>): void;
  clearFilter(): void;
  sortBy(field: TradeSort['field']): void;
  select(index: number | null): void;
  openTrade(id: string): Promise<void>;
  closeTrade(): void;
  syncNow(): Promise<Result<TradesSyncState>>;
}

/** Views grow across resets too, so an answer for the previous account is never taken as this one's. */
let lastView = 0;
const nextView = () => ++lastView;

const initial = (): Pick<
  TradesState,
  'filter' | 'sort' | 'total' | 'windows' | 'view' | 'load' | 'summary' | 'summaryLoad' | 'facets' | 'sync' | 'syncing' | 'selected' | 'open'
> => ({
  filter: {},
  sort: { field: 'time', direction: 'desc' },
  total: null,
  windows: new Map(),
  view: nextView(),
  load: { state: 'idle' },
  summary: null,
  summaryLoad: { state: 'idle' },
  facets: { bots: [], symbols: [] },
  sync: null,
  syncing: false,
  selected: null,
  open: null,
});

export const useTradesStore = create<TradesState>((set, get) => {
  /** Windows being asked for, by `view:index`, so a scroll does not ask twice for the same rows. */
  const asking = new Map<string, Promise<void>>();
  /** The rows the table showed last: after a change of the copy, these are asked for again. */
  let shown = { first: 0, last: WINDOW_ROWS - 1, direction: 0 };

  function fetchWindow(index: number, view: number): Promise<void> {
    const key = `${view}:${index}`;
    const pending = asking.get(key);
    if (pending) return pending;
    const { filter, sort } = get();
    const fetched = callMain((p) => p.trades.window({ filter, sort, offset: index * WINDOW_ROWS, limit: WINDOW_ROWS })).then((result) => {
      asking.delete(key);
      keepWindow(index, view, result);
    });
    asking.set(key, fetched);
    return fetched;
  }

  function keepWindow(index: number, view: number, result: Result<TradesWindow>): void {
    if (get().view !== view) return;
    if (!result.ok) {
      if (get().total === null) set({ load: { state: 'error', message: result.message } });
      return;
    }
    set((s) => {
      const windows = new Map(s.windows);
      windows.set(index, { view, rows: result.value.trades });
      const total = result.value.total;
      // The list may have shrunk under a window held from before: nothing past its end stays.
      for (const held of windows.keys()) if (held * WINDOW_ROWS >= total && held !== 0) windows.delete(held);
      for (const far of windowsToForget(windows.keys(), shown.first, shown.last)) windows.delete(far);
      const selected = s.selected !== null && s.selected >= total ? (total > 0 ? total - 1 : null) : s.selected;
      return { windows, total, load: { state: 'ready' }, selected };
    });
  }

  /** Asks for every window rows `first`..`last` need that is not held fresh for the current view; settles when they are in. */
  async function fetchShown(): Promise<void> {
    const { total, windows, view } = get();
    // Before the first answer the list's length is unknown, and an empty list has no rows to ask for: the window at
    // the top of the view says how long the list is now.
    const wanted = total === null || total === 0 ? [windowOf(shown.first)] : windowsFor(shown.first, shown.last, total, shown.direction);
    await Promise.all(wanted.filter((index) => windows.get(index)?.view !== view).map((index) => fetchWindow(index, view)));
  }

  /** The latest summary asked for: only its answer is shown (the filter or the copy changed since an older one). */
  let summaryAsked = 0;
  async function fetchSummary(): Promise<void> {
    const ask = ++summaryAsked;
    set({ summaryLoad: { state: 'loading' } });
    const result = await callMain((p) => p.trades.summary({ filter: get().filter }));
    if (ask !== summaryAsked) return;
    set(result.ok ? { summary: result.value, summaryLoad: { state: 'ready' } } : { summaryLoad: { state: 'error', message: result.message } });
  }

  async function fetchFacets(): Promise<void> {
    const result = await callMain((p) => p.trades.facets());
    if (result.ok) set({ facets: result.value });
  }

  /** A new filter or sort: other rows entirely, from the top. */
  function restart(changes: Partial<Pick<TradesState, 'filter' | 'sort'>>, summaryToo: boolean): void {
    const view = nextView();
    shown = { first: 0, last: WINDOW_ROWS - 1, direction: 0 };
    set({ ...changes, view, total: null, windows: new Map(), load: { state: 'loading' }, selected: null });
    if (summaryToo) {
      // The summary of the filter before must not land after this one's rows.
      summaryAsked++;
      set({ summaryLoad: { state: 'loading' } });
    }
    // Rows first: the summary reads every matching trade, and main answers in turn.
    void fetchShown().then(() => {
      if (summaryToo && get().view === view) return fetchSummary();
    });
  }

  /**
   * The copy changed: the rows shown are asked for again (held ones keep showing until the fresh ones come), and
   * the summary and choices too. Changes arrive in bursts while a sync catches up; one refresh runs at a time, and
   * one more after it if anything changed meanwhile.
   */
  let refreshing: Promise<void> | null = null;
  let again = false;
  function refresh(): void {
    if (refreshing) {
      again = true;
      return;
    }
    const view = nextView();
    set({ view });
    refreshing = fetchShown()
      .then(() => Promise.all([fetchSummary(), fetchFacets()]))
      .then(() => {
        refreshing = null;
        if (again) {
          again = false;
          refresh();
        }
      });
  }

  return {
    ...initial(),

    start() {
      const s = get();
      if (s.load.state === 'idle') {
        // A fresh start (first visit, or another account): from the top, whatever the table showed before.
        shown = { first: 0, last: WINDOW_ROWS - 1, direction: 0 };
        set({ load: { state: 'loading' } });
        void fetchShown().then(() => Promise.all([fetchSummary(), fetchFacets()]));
      } else if (s.load.state === 'error') {
        restart({}, true);
        void fetchFacets();
      } else {
        // Back on the page: what it held shows at once, and is asked for again in case the copy moved meanwhile.
        refresh();
      }
      void callMain((p) => p.trades.syncState()).then((result) => result.ok && set({ sync: result.value }));
    },

    connect() {
      const plutarc = bridge();
      if (!plutarc) return () => {};
      return plutarc.trades.onChange((sync) => {
        const before = get().sync;
        set({ sync });
        // A sync state alone (offline, syncing) changes no row; new trades change the count or the sync time.
        if (!before || before.trades !== sync.trades || before.lastSyncedAt !== sync.lastSyncedAt) refresh();
      });
    },

    showRows(first, last) {
      shown = { first, last, direction: Math.sign(first - shown.first) };
      void fetchShown();
    },

    setFilter(changes) {
      restart({ filter: cleanFilter({ ...get().filter, ...changes }) }, true);
    },
    clearFilter() {
      restart({ filter: {} }, true);
    },
    sortBy(field) {
      restart({ sort: nextSort(get().sort, field) }, false);
    },
    select(index) {
      set({ selected: index });
    },

    async openTrade(id) {
      if (get().open?.id === id && get().open?.load.state !== 'error') return;
      set({ open: { id, detail: null, load: { state: 'loading' } } });
      const result = await callMain((p) => p.trades.detail({ id }));
      if (get().open?.id !== id) return;
      set({ open: { id, detail: result.ok ? result.value : null, load: result.ok ? { state: 'ready' } : { state: 'error', message: result.message } } });
    },
    closeTrade() {
      set({ open: null });
    },

    async syncNow() {
      set({ syncing: true });
      const result = await callMain((p) => p.trades.syncNow());
      set({ syncing: false, ...(result.ok ? { sync: result.value } : {}) });
      if (result.ok) refresh();
      return result;
    },
  };
});

// Another account's trades must never show: forget them whenever the signed-in user changes.
resetOnUserChange(useTradesStore, initial);
