// Draws the tray from the pure model (src-main/services/tray). Construct after `app.whenReady()`.
import { join } from 'node:path';
import { Menu, nativeImage, Tray, type App, type MenuItemConstructorOptions, type NativeImage } from 'electron';
import { trayIconFileName } from '../services/tray/icon-files.ts';
import { XdgAutostart, startAtLoginMethod, xdgAutostartPath } from '../services/tray/start-at-login.ts';
import { menuLabel, type StartAtLogin, type TrayAction, type TrayIcon, type TrayMenuItem, type TrayModel } from '../services/tray/tray-model.ts';

// The one tray of the app, held for its whole life: a tray only referenced locally is garbage-collected
// and vanishes from the menu bar.
let tray: Tray | null = null;
const images = new Map<TrayIcon, NativeImage>();

/** Where the tray's images are: beside the asar when packaged (electron-builder's extraResources), else the source tree. */
export function trayIconDir(app: Pick<App, 'isPackaged' | 'getAppPath'>): string {
  return app.isPackaged ? join(process.resourcesPath, 'tray') : join(app.getAppPath(), 'resources', 'tray');
}

function template(items: readonly TrayMenuItem[], onAction: (action: TrayAction) => void): MenuItemConstructorOptions[] {
  const label = (text: string) => menuLabel(text, process.platform);
  return items.map((item): MenuItemConstructorOptions => {
    switch (item.kind) {
      case 'separator':
        return { type: 'separator' };
      case 'text':
        return { label: label(item.label), enabled: false };
      case 'action':
        return { label: label(item.label), enabled: item.enabled, click: () => onAction(item.action) };
      case 'checkbox':
        return { type: 'checkbox', label: label(item.label), checked: item.checked, click: () => onAction(item.action) };
      case 'submenu':
        return { label: label(item.label), submenu: template(item.items, onAction) };
    }
  });
}

/** Shows the tray (once) and returns how to redraw it; a left click, where the OS reports one, opens the window. */
export function showTray(iconDir: string, onAction: (action: TrayAction) => void): (model: TrayModel) => void {
  const image = (icon: TrayIcon) => {
    let loaded = images.get(icon);
    if (!loaded) {
      // On macOS the `Template` file name makes it a template image; `@2x` is picked up beside it.
      loaded = nativeImage.createFromPath(join(iconDir, trayIconFileName(icon, process.platform)));
      images.set(icon, loaded);
    }
    return loaded;
  };
  let shownIcon: TrayIcon = 'no-bots';
  if (!tray) {
    tray = new Tray(image(shownIcon));
    tray.on('click', () => onAction({ type: 'open-window' }));
  }
  const own = tray;
  return (model) => {
    if (model.icon !== shownIcon) {
      own.setImage(image(model.icon));
      shownIcon = model.icon;
    }
    own.setToolTip(model.tooltip);
    // Linux (AppIndicator) ignores changes to an existing menu's items: the whole menu is set again.
    own.setContextMenu(Menu.buildFromTemplate(template(model.menu, onAction)));
  };
}

export interface LoginItem {
  read(): StartAtLogin;
  set(enabled: boolean): void;
}

/** The "Start at login" setting of this OS: Electron's login items on macOS and Windows, an XDG autostart entry on Linux. */
export function loginItemFor(app: Pick<App, 'getLoginItemSettings' | 'setLoginItemSettings' | 'getPath' | 'getName'>): LoginItem {
  switch (startAtLoginMethod(process.platform)) {
    case 'login-item':
      return {
        read: () => ({ supported: true, enabled: app.getLoginItemSettings().openAtLogin }),
        set: (enabled) => app.setLoginItemSettings({ openAtLogin: enabled }),
      };
    case 'xdg-autostart': {
      // An AppImage runs from a mount that changes each launch: autostart the image itself.
      const executable = process.env.APPIMAGE ?? process.execPath;
      const autostart = new XdgAutostart(xdgAutostartPath(process.env, app.getPath('home'), app.getName()), app.getName(), [executable]);
      return { read: () => ({ supported: true, enabled: autostart.isEnabled() }), set: (enabled) => autostart.setEnabled(enabled) };
    }
    case 'unsupported':
      return { read: () => ({ supported: false, enabled: false }), set: () => undefined };
  }
}
