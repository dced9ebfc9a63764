import type { IpcMain, WebContents, WebFrameMain } from 'electron';
import { invokeChannels, wireInvoke } from '../../src-shared/ipc.ts';
import { fail } from '../../src-shared/result.ts';
import { isAppUrl } from '../services/app-identity.ts';
import { dispatchInvoke, type Handlers } from '../services/dispatch.ts';

/** Only our own page, in a window's main frame, at app://plutarc, may call main. */
export function isTrustedSender(frame: Pick<WebFrameMain, 'url'> | null, sender: Pick<WebContents, 'mainFrame'>): boolean {
  return frame !== null && frame === sender.mainFrame && isAppUrl(frame.url);
}

/**
 * The one place `ipcMain.handle` is called: a handler per contract channel, each checking its sender
 * and parsing its payload before a service sees it.
 */
export function registerIpcHandlers(
  ipcMain: Pick<IpcMain, 'handle'>,
  handlers: Handlers,
  onUnexpected: (channel: string, error: unknown) => void,
): void {
  for (const channel of invokeChannels) {
    ipcMain.handle(wireInvoke(channel), (event, input: unknown) => {
      if (!isTrustedSender(event.senderFrame, event.sender)) {
        return fail('forbidden_sender', 'This window may not call plutarc.');
      }
      return dispatchInvoke(handlers, channel, input, onUnexpected);
    });
  }
}
