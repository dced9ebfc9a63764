import { shell, type App, type Session } from 'electron';
import { isAppUrl } from '../services/app-identity.ts';
import { isAllowedExternalUrl, type ExternalUrlPolicy } from '../services/open-external-policy.ts';

/** Every webContents, including ones created later: no navigation away, no new windows, no webviews. */
export function guardAllWebContents(app: App, externalPolicy: () => ExternalUrlPolicy): void {
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (event, url) => {
      if (!isAppUrl(url)) event.preventDefault();
    });
    contents.on('will-redirect', (event, url) => {
      if (!isAppUrl(url)) event.preventDefault();
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(({ url }) => {
      // Reviewed: only our API's https pages and a waiting loopback callback pass the allowlist.
      if (isAllowedExternalUrl(url, externalPolicy())) void shell.openExternal(url); // eng-disable OPEN_EXTERNAL_JS_CHECK
      return { action: 'deny' };
    });
  });
}

/** Deny every permission a page can ask for, except showing notifications. */
export function restrictPermissions(session: Session): void {
  session.setPermissionRequestHandler((_contents, permission, callback) => callback(permission === 'notifications'));
  session.setPermissionCheckHandler((_contents, permission) => permission === 'notifications');
}
