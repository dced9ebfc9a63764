import { create } from 'zustand';
import type { ProbeProgress, ProbeRun } from '../../../src-shared/latency.ts';
import type { Region } from '../../../src-shared/regions.ts';
import { bridge, BridgeError, NO_BRIDGE, unwrap } from '../bridge.ts';

type Load = { state: 'idle' } | { state: 'loading' } | { state: 'ready' } | { state: 'error'; message: string };
type Probe = { state: 'idle' } | { state: 'running'; progress: ProbeProgress | null } | { state: 'error'; message: string };

/** A probe older than this is run again when the Regions page opens; a younger one is shown with its age. */
export const PROBE_STALE_MS = 15 * 60_000;
const HISTORY = 12;

interface RegionsState {
  regions: Region[];
  load: Load;
  /** The last finished probe (from the app's cache or just now), and the ones before it for trends. */
  lastProbe: ProbeRun | null;
  history: ProbeRun[];
  probe: Probe;
  fetchRegions(): Promise<void>;
  /** Loads the cached probe and its history; probes anew when there is none or it is stale. */
  open(): Promise<void>;
  probeAgain(): Promise<void>;
  /** Follows main's probe progress; returns the unsubscribe. */
  connect(): () => void;
}

const messageOf = (error: unknown, fallback: string) => (error instanceof BridgeError ? error.message : fallback);

export const useRegionsStore = create<RegionsState>((set, get) => ({
  regions: [],
  load: { state: 'idle' },
  lastProbe: null,
  history: [],
  probe: { state: 'idle' },

  async fetchRegions() {
    if (get().load.state === 'loading') return;
    set({ load: { state: 'loading' } });
    try {
      const plutarc = bridge();
      if (!plutarc) throw NO_BRIDGE;
      set({ regions: unwrap(await plutarc.regions.list()), load: { state: 'ready' } });
    } catch (error) {
      set({ load: { state: 'error', message: messageOf(error, 'Could not load the regions.') } });
    }
  },

  async open() {
    const plutarc = bridge();
    if (!plutarc) return;
    const [last, history] = await Promise.all([plutarc.regions.lastProbe(), plutarc.regions.history({ limit: HISTORY })]);
    if (last.ok) set({ lastProbe: last.value });
    if (history.ok) set({ history: history.value });
    const run = last.ok ? last.value : null;
    if (!run || Date.now() - Date.parse(run.finishedAt) > PROBE_STALE_MS) await get().probeAgain();
  },

  async probeAgain() {
    if (get().probe.state === 'running') return;
    set({ probe: { state: 'running', progress: null } });
    try {
      const plutarc = bridge();
      if (!plutarc) throw NO_BRIDGE;
      const run = unwrap(await plutarc.regions.probe());
      set((s) => ({
        lastProbe: run,
        history: [run, ...s.history.filter((h) => h.id !== run.id)].slice(0, HISTORY),
        probe: { state: 'idle' },
      }));
    } catch (error) {
      set({ probe: { state: 'error', message: messageOf(error, 'The probe did not finish.') } });
    }
  },

  connect() {
    const plutarc = bridge();
    if (!plutarc) return () => {};
    return plutarc.regions.onProbe((progress) => {
      if (progress.run === null && get().probe.state === 'running') set({ probe: { state: 'running', progress } });
    });
  },
}));

/** Each region's medians over the cached probes, oldest first: the trend line. */
export const selectTrend = (history: readonly ProbeRun[], region: Region['id']): number[] =>
  [...history]
    .reverse()
    .map((run) => run.results.find((r) => r.region === region)?.medianMs)
    .filter((ms): ms is number => typeof ms === 'number');
