import { create } from 'zustand';
import type { ProbeProgress, ProbeRun } from '../../../src-shared/latency.ts';
import type { Region } from '../../../src-shared/regions.ts';
import { bridge, callMain } from '../bridge.ts';
import { guardedLoad, type Load } from './load.ts';

type Probe = { state: 'idle' } | { state: 'running'; progress: ProbeProgress | null } | { state: 'error'; message: string };

/** A probe older than this is run again when the Regions page opens; a younger one is shown with its age. */
const PROBE_STALE_MS = 15 * 60_000;
const HISTORY = 12;

interface RegionsState {
  regions: Region[];
  load: Load;
  /** The finished probes (from the app's cache or just now), newest first: the last one, and the ones before it for trends. */
  history: ProbeRun[];
  probe: Probe;
  fetchRegions(): Promise<void>;
  /** Loads the cached probes; probes anew when there is none or the last is stale. */
  open(): Promise<void>;
  probeAgain(): Promise<void>;
  /** Follows main's probe progress; returns the unsubscribe. */
  connect(): () => void;
}

export const useRegionsStore = create<RegionsState>((set, get) => ({
  regions: [],
  load: { state: 'idle' },
  history: [],
  probe: { state: 'idle' },

  fetchRegions: () =>
    guardedLoad(
      get().load,
      () => callMain((p) => p.regions.list()),
      (load, regions) => set(regions ? { load, regions } : { load }),
    ),

  async open() {
    if (!bridge()) return;
    const history = await callMain((p) => p.regions.history({ limit: HISTORY }));
    if (history.ok) set({ history: history.value });
    const run = history.ok ? (history.value[0] ?? null) : null;
    if (!run || Date.now() - Date.parse(run.finishedAt) > PROBE_STALE_MS) await get().probeAgain();
  },

  async probeAgain() {
    if (get().probe.state === 'running') return;
    set({ probe: { state: 'running', progress: null } });
    const result = await callMain((p) => p.regions.probe());
    if (!result.ok) return set({ probe: { state: 'error', message: result.message } });
    const run = result.value;
    set((s) => ({
      history: [run, ...s.history.filter((h) => h.id !== run.id)].slice(0, HISTORY),
      probe: { state: 'idle' },
    }));
  },

  connect() {
    const plutarc = bridge();
    if (!plutarc) return () => {};
    return plutarc.regions.onProbe((progress) => {
      if (progress.run === null && get().probe.state === 'running') set({ probe: { state: 'running', progress } });
    });
  },
}));

/** The last finished probe, or null before there is one. */
export const selectLastProbe = (s: Pick<RegionsState, 'history'>): ProbeRun | null => s.history[0] ?? null;

/** Each region's medians over the cached probes, oldest first: the trend line. */
export const selectTrend = (history: readonly ProbeRun[], region: Region['id']): number[] =>
  [...history]
    .reverse()
    .map((run) => run.results.find((r) => r.region === region)?.medianMs)
    .filter((ms): ms is number => typeof ms === 'number');
