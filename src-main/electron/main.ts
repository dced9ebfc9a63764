// Electron's main entry. The privileged scheme is registered first, at top level, before `app` is
// ready: later it is silently ignored and app:// is not a secure origin.
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, ipcMain, protocol, session } from 'electron';
import { z } from 'zod';
import { eventChannels, wireEvent } from '../../src-shared/ipc.ts';
import { APP_ID, APP_ORIGIN, APP_SCHEME } from '../services/app-identity.ts';
import { createMainServices } from '../services/main-services.ts';
import { guardAllWebContents, restrictPermissions } from './guards.ts';
import { registerIpcHandlers } from './ipc.ts';
import { serveRenderer } from './protocol.ts';
import { createMainWindow } from './window.ts';

protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
]);

const DEFAULT_API_URL = 'https://api.plutarc.app';
const apiUrl = z.url({ protocol: /^https?$/ }).catch(DEFAULT_API_URL).parse(process.env.PLUTARC_API_URL ?? DEFAULT_API_URL);

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.setAppUserModelId(APP_ID);
  guardAllWebContents(app, () => ({ apiOrigin: apiUrl }));

  let window: BrowserWindow | null = null;
  app.on('second-instance', () => {
    if (!window) return;
    if (window.isMinimized()) window.restore();
    window.focus();
  });
  app.on('window-all-closed', () => app.quit());

  void app.whenReady().then(() => {
    restrictPermissions(session.defaultSession);
    serveRenderer(fileURLToPath(new URL('../renderer', import.meta.url)));

    const services = createMainServices({ apiUrl, host: 'electron', version: app.getVersion() });
    registerIpcHandlers(ipcMain, services.handlers, (channel, error) => {
      console.error(`main: ${channel} failed unexpectedly:`, error instanceof Error ? error.message : error);
    });
    for (const channel of eventChannels) {
      services.events.on(channel, (payload) => {
        for (const open of BrowserWindow.getAllWindows()) open.webContents.send(wireEvent(channel), payload);
      });
    }
    services.start();
    app.on('before-quit', () => services.stop());

    window = createMainWindow(fileURLToPath(new URL('../preload/index.cjs', import.meta.url)));
    window.on('closed', () => {
      window = null;
    });
    // When the local stack's supervisor started us, tell it we are up, and quit if it goes away.
    process.send?.({ type: 'ready', service: 'app', url: APP_ORIGIN });
    process.on('disconnect', () => app.quit());
  });
}
