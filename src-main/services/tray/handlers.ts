import type { trayInvokeContract } from '../../../src-shared/ipc-tray.ts';
import type { Handlers } from '../dispatch.ts';
import type { TrayCoordinator } from './tray-coordinator.ts';

export type TrayHandlers = Pick<Handlers, keyof typeof trayInvokeContract>;

/** The Settings page's channels and the tray's state for the header's status panel. */
export function trayHandlers(tray: TrayCoordinator): TrayHandlers {
  return {
    'settings.get': () => tray.settings(),
    'settings.setNotificationKind': (input) => tray.setNotificationKind(input.kind, input.enabled),
    'settings.muteForAnHour': () => tray.muteForAnHour(),
    'settings.unmute': () => tray.unmute(),
    'settings.setStartAtLogin': (input) => tray.setStartAtLogin(input.enabled),
    'tray.status': () => tray.status(),
  };
}
