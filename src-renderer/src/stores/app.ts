import { create } from 'zustand';
import type { ApiStatus, AppInfo } from '../../../src-shared/ipc.ts';
import { bridge } from '../bridge.ts';

interface AppState {
  info: AppInfo | null;
  apiStatus: ApiStatus;
  /** Subscribes to main's events; returns the unsubscribe for the app's lifetime. */
  connect(): () => void;
}

export const useAppStore = create<AppState>((set) => ({
  info: null,
  apiStatus: { state: 'connecting', checkedAt: null },
  connect() {
    const plutarc = bridge();
    if (!plutarc) {
      set({ apiStatus: { state: 'offline', checkedAt: null, detail: 'Not running inside plutarc.' } });
      return () => {};
    }
    void plutarc.app.info().then((result) => result.ok && set({ info: result.value }));
    void plutarc.api.status().then((result) => result.ok && set({ apiStatus: result.value }));
    return plutarc.api.onStatus((apiStatus) => set({ apiStatus }));
  },
}));
