import { BrowserWindow } from 'electron';
import { windowHash, type WindowTarget } from '../../src-shared/notifications.ts';
import { APP_ORIGIN, PRODUCT_NAME } from '../services/app-identity.ts';

/** The dashboard window, opened on `target`: isolated, sandboxed, no Node, our page only. */
export function createMainWindow(preload: string, target: WindowTarget): BrowserWindow {
  const window = new BrowserWindow({
    width: 1280,
    height: 820,
    minWidth: 900,
    minHeight: 600,
    show: false,
    title: PRODUCT_NAME,
    webPreferences: {
      // Reviewed: the preload exposes only the contract's functions (src-preload/bridge.ts), nothing of Node.
      preload, // eng-disable PRELOAD_JS_CHECK
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
      webviewTag: false,
    },
  });
  window.once('ready-to-show', () => window.show());
  void window.loadURL(`${APP_ORIGIN}/index.html${windowHash(target)}`);
  return window;
}
