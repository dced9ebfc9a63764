import { create } from 'zustand';
import type { Region } from '../../../src-shared/regions.ts';
import { bridge, BridgeError, NO_BRIDGE, unwrap } from '../bridge.ts';

type Load = { state: 'idle' } | { state: 'loading' } | { state: 'ready' } | { state: 'error'; message: string };

interface RegionsState {
  regions: Region[];
  load: Load;
  fetchRegions(): Promise<void>;
}

export const useRegionsStore = create<RegionsState>((set, get) => ({
  regions: [],
  load: { state: 'idle' },
  async fetchRegions() {
    if (get().load.state === 'loading') return;
    set({ load: { state: 'loading' } });
    try {
      const plutarc = bridge();
      if (!plutarc) throw NO_BRIDGE;
      set({ regions: unwrap(await plutarc.regions.list()), load: { state: 'ready' } });
    } catch (error) {
      const message = error instanceof BridgeError ? error.message : 'Could not load the regions.';
      set({ load: { state: 'error', message } });
    }
  },
}));
