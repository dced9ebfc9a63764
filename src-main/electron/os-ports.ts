import type { BrowserWindow, Dialog, Shell } from 'electron';
import type { FilePicker, FileSaver, OpenExternal } from '../services/ports.ts';
import { isAllowedExternalUrl, type ExternalUrlPolicy } from '../services/open-external-policy.ts';

/** The system browser, for our API's pages and a waiting loopback callback only (the same allowlist as the window guard). */
export function openExternalWith(shell: Pick<Shell, 'openExternal'>, policy: () => ExternalUrlPolicy): OpenExternal {
  return async (url) => {
    if (!isAllowedExternalUrl(url, policy())) return false;
    try {
      // Reviewed: only URLs that passed isAllowedExternalUrl above reach the OS.
      await shell.openExternal(url); // eng-disable OPEN_EXTERNAL_JS_CHECK
      return true;
    } catch {
      return false;
    }
  };
}

/** The OS's open-file dialog, attached to the app's window when there is one; one file, of the kinds asked for. */
export function filePickerWith(dialog: Pick<Dialog, 'showOpenDialog'>, window: () => BrowserWindow | null): FilePicker {
  return async ({ title, kinds }) => {
    const options = { title, properties: ['openFile' as const], filters: kinds };
    const parent = window();
    const answer = parent ? await dialog.showOpenDialog(parent, options) : await dialog.showOpenDialog(options);
    return answer.canceled ? null : (answer.filePaths[0] ?? null);
  };
}

/** The OS's save dialog, attached to the app's window when there is one. */
export function fileSaverWith(dialog: Pick<Dialog, 'showSaveDialog'>, window: () => BrowserWindow | null): FileSaver {
  return async ({ title, defaultName, kinds }) => {
    const options = { title, defaultPath: defaultName, filters: kinds, properties: ['createDirectory' as const, 'showOverwriteConfirmation' as const] };
    const parent = window();
    const answer = parent ? await dialog.showSaveDialog(parent, options) : await dialog.showSaveDialog(options);
    return answer.canceled || !answer.filePath ? null : answer.filePath;
  };
}
