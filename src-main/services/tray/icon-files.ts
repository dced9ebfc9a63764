// The tray's image files, named once for the generator (`tools/tray-icons.ts`), the tests and the adapter.
import { TRAY_ICONS, type TrayIcon } from './tray-model.ts';

/**
 * macOS menu bars take template images (black with alpha, tinted by the OS for light and dark bars),
 * which it recognises by the `Template` suffix; Windows and Linux take colour images. Each comes at 16
 * px and, as `@2x`, 32 px: Electron picks the `@2x` file itself on high-density screens.
 */
export interface TrayIconFile {
  icon: TrayIcon;
  name: string;
  size: 16 | 32;
  template: boolean;
}

/** The file Electron is asked to load for an icon (it finds the `@2x` partner beside it). */
export function trayIconFileName(icon: TrayIcon, platform: NodeJS.Platform): string {
  return platform === 'darwin' ? `${icon}Template.png` : `${icon}.png`;
}

export const TRAY_ICON_FILES: readonly TrayIconFile[] = TRAY_ICONS.flatMap((icon) =>
  [true, false].flatMap((template) => {
    const stem = template ? `${icon}Template` : icon;
    return [
      { icon, name: `${stem}.png`, size: 16 as const, template },
      { icon, name: `${stem}@2x.png`, size: 32 as const, template },
    ];
  }),
);
