import { create } from 'zustand';
import type { AppSettings, ShownNotification, TrayStatus } from '../../../src-shared/ipc-tray.ts';
import type { NotificationKind } from '../../../src-shared/notifications.ts';
import { windowHash, type WindowTarget } from '../../../src-shared/notifications.ts';
import { bridge, callMain } from '../bridge.ts';
import { showWebNotification } from '../web-notifications.ts';

interface TrayState {
  /** The tray's state as main draws it; null until main answered. */
  status: TrayStatus | null;
  settings: AppSettings | null;
  /** Why the last change to a setting did not take. */
  settingsError: string | null;
  /** Subscribes to the tray, the settings, notifications to show and pages to open; returns the unsubscribe. */
  connect(): () => void;
  setKind(kind: NotificationKind, enabled: boolean): Promise<void>;
  muteForAnHour(): Promise<void>;
  unmute(): Promise<void>;
  setStartAtLogin(enabled: boolean): Promise<void>;
}

/** Opens a page of the app: the address is the route (App.tsx listens for it). */
export function openPage(target: WindowTarget): void {
  const hash = windowHash(target);
  if (window.location.hash !== hash) window.location.hash = hash;
}

export const useTrayStore = create<TrayState>((set, get) => {
  /** Shows `expected` at once (a switch moves when clicked), then what main kept, or the old state and why not. */
  const change = async (run: Parameters<typeof callMain<AppSettings>>[0], expected?: (settings: AppSettings) => AppSettings) => {
    const before = get().settings;
    if (before && expected) set({ settings: expected(before) });
    const result = await callMain(run);
    if (result.ok) set({ settings: result.value, settingsError: null });
    else set({ settings: before, settingsError: result.message });
  };
  return {
    status: null,
    settings: null,
    settingsError: null,
    connect() {
      const plutarc = bridge();
      if (!plutarc) return () => {};
      void plutarc.tray.status().then((result) => result.ok && set({ status: result.value }));
      void plutarc.settings.get().then((result) => result.ok && set({ settings: result.value }));
      const unsubscribes = [
        plutarc.tray.onStatus((status) => set({ status })),
        plutarc.settings.onChange((settings) => set({ settings })),
        // Only a host without OS notifications (the browser host) sends these: the page shows them.
        plutarc.notifications.onShow((notification: ShownNotification) => void showWebNotification(notification, openPage)),
        plutarc.window.onOpen(openPage),
      ];
      return () => {
        for (const unsubscribe of unsubscribes) unsubscribe();
      };
    },
    setKind: (kind, enabled) =>
      change(
        (p) => p.settings.setNotificationKind({ kind, enabled }),
        (s) => ({ ...s, notifications: { ...s.notifications, off: enabled ? s.notifications.off.filter((k) => k !== kind) : [...s.notifications.off, kind] } }),
      ),
    muteForAnHour: () => change((p) => p.settings.muteForAnHour()),
    unmute: () => change((p) => p.settings.unmute()),
    setStartAtLogin: (enabled) =>
      change(
        (p) => p.settings.setStartAtLogin({ enabled }),
        (s) => ({ ...s, startAtLogin: { ...s.startAtLogin, enabled } }),
      ),
  };
});
