// Electron's main entry. The privileged scheme is registered first, at top level, before `app` is
// ready: later it is silently ignored and app:// is not a secure origin.
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, Notification, protocol, safeStorage, session, shell } from 'electron';
import { eventChannels, wireEvent } from '../../src-shared/ipc.ts';
import type { WindowTarget } from '../../src-shared/notifications.ts';
import { APP_ID, APP_ORIGIN, APP_SCHEME } from '../services/app-identity.ts';
import { ApiUrl } from '../services/api-url.ts';
import { ExchangeKeysEnv, exchangeKeysSettings } from '../services/exchange-keys/local-mode.ts';
import { createMainServices } from '../services/main-services.ts';
import type { ExternalUrlPolicy } from '../services/open-external-policy.ts';
import { guardAllWebContents, restrictPermissions } from './guards.ts';
import { registerIpcHandlers } from './ipc.ts';
import { isBotControl, windowTargetOf } from '../services/tray/tray-coordinator.ts';
import type { TrayAction } from '../services/tray/tray-model.ts';
import { nativeNotifications } from './notifications.ts';
import { filePickerWith, fileSaverWith, openExternalWith } from './os-ports.ts';
import { serveRenderer } from './protocol.ts';
import { openSecretStore } from './safe-storage-store.ts';
import { loginItemFor, showTray, trayIconDir } from './tray.ts';
import { createMainWindow } from './window.ts';

protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
]);
// Every renderer in the OS sandbox, whatever a window's own options say (before ready, or it is ignored).
app.enableSandbox();

const DEFAULT_API_URL = 'https://api.plutarc.app';
// A wrong API address stops the start: falling back to another API would send the user's password elsewhere.
const chosenApiUrl = ApiUrl.safeParse(process.env.PLUTARC_API_URL ?? DEFAULT_API_URL);
if (!chosenApiUrl.success) {
  console.error(`plutarc: PLUTARC_API_URL: ${chosenApiUrl.error.issues.map((issue) => issue.message).join('; ')}`);
  process.exit(78);
}
const apiUrl = chosenApiUrl.data;
// The local stack's key broker identity and exchange simulator; a malformed value is ignored, not trusted.
const exchangeKeys = exchangeKeysSettings(ExchangeKeysEnv.catch({}).parse(process.env));

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.setAppUserModelId(APP_ID);
  // The loopback callback of a passkey hand-off is allowed only while one is waiting (set once services exist).
  let passkeyLoopbackOrigin: () => string | undefined = () => undefined;
  const externalPolicy = (): ExternalUrlPolicy => ({ apiOrigin: apiUrl, loopbackOrigin: passkeyLoopbackOrigin() });
  guardAllWebContents(app, externalPolicy);

  let window: BrowserWindow | null = null;
  // Set once the window can be made (after ready): opens it, or brings it forward, on a page.
  let showWindow: (target: WindowTarget) => void = () => undefined;
  app.on('second-instance', () => showWindow({ page: 'home' }));
  // Closing the window does not quit: plutarc keeps watching the bots from the tray until Quit.
  app.on('window-all-closed', () => undefined);
  // macOS: a click on the Dock icon with no window open brings one back.
  app.on('activate', () => {
    if (!window) showWindow({ page: 'home' });
  });

  void app.whenReady().then(async () => {
    restrictPermissions(session.defaultSession);
    serveRenderer(fileURLToPath(new URL('../renderer', import.meta.url)));

    const services = createMainServices({
      apiUrl,
      host: 'electron',
      version: app.getVersion(),
      dataDir: app.getPath('userData'),
      secretStore: await openSecretStore(safeStorage, app.getPath('userData'), process.platform),
      openExternal: openExternalWith(shell, externalPolicy),
      showNotification: nativeNotifications(Notification, (target) => showWindow(target)),
      drawTray: showTray(trayIconDir(app), (action) => onTrayAction(action)),
      startAtLogin: loginItemFor(app),
      filePicker: filePickerWith(dialog, () => window),
      fileSaver: fileSaverWith(dialog, () => window),
      log: (line) => console.warn(line),
      exchangeKeys,
    });
    passkeyLoopbackOrigin = services.passkeyLoopbackOrigin;
    registerIpcHandlers(ipcMain, services.handlers, (channel, error) => {
      console.error(`main: ${channel} failed unexpectedly:`, error instanceof Error ? error.message : error);
    });
    for (const channel of eventChannels) {
      services.events.on(channel, (payload) => {
        for (const open of BrowserWindow.getAllWindows()) open.webContents.send(wireEvent(channel), payload);
      });
    }
    services.start();
    let stopping: Promise<void> | null = null;
    let stopped = false;
    app.on('before-quit', (event) => {
      if (stopped) return;
      // Quit once the services have stopped: a session kept in memory only is signed out at the API first.
      event.preventDefault();
      stopping ??= services.stop().finally(() => {
        stopped = true;
        app.quit();
      });
    });

    const preload = fileURLToPath(new URL('../preload/index.cjs', import.meta.url));
    const openWindow = (target: WindowTarget) => {
      const opened = createMainWindow(preload, target);
      opened.on('focus', () => services.tray.windowSeen());
      opened.on('close', () => {
        // Once per install: say where plutarc went, since the window closing looks like quitting.
        if (!stopping && services.tray.takeCloseHint() && Notification.isSupported()) {
          new Notification({ title: 'plutarc is still running', body: 'It keeps watching your bots from the tray. Quit plutarc from the tray menu.' }).show();
        }
      });
      opened.on('closed', () => {
        window = null;
      });
      return opened;
    };
    showWindow = (target) => {
      if (!window) {
        window = openWindow(target);
        return;
      }
      if (window.isMinimized()) window.restore();
      window.show();
      window.focus();
      // "Open plutarc" brings the window back as it was; a bot or Security moves it to that page.
      if (target.page !== 'home') services.events.emit('window.onOpen', target);
    };
    function onTrayAction(action: TrayAction): void {
      if (action.type === 'quit') return app.quit();
      const target = windowTargetOf(action);
      if (target) return showWindow(target);
      if (!isBotControl(action)) return;
      services.tray.act(action).catch((error: unknown) => {
        console.error(`main: the tray's ${action.type} failed:`, error instanceof Error ? error.message : error);
      });
    }
    window = openWindow({ page: 'home' });
    // When the local stack's supervisor started us, tell it we are up, and quit if it goes away.
    process.send?.({ type: 'ready', service: 'app', url: APP_ORIGIN });
    process.on('disconnect', () => app.quit());
  });
}
