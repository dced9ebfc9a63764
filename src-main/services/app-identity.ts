/** One place for the app's identity: electron-builder's appId must equal the AppUserModelID on Windows. */
export const APP_ID = 'app.plutarc.desktop';
export const PRODUCT_NAME = 'plutarc';
/** The privileged scheme and host the desktop renderer is served from. */
export const APP_SCHEME = 'app';
export const APP_HOST = 'plutarc';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;

/**
 * Is this URL one of the app's own pages? Scheme and host are compared, not `origin`: Node's URL gives
 * non-special schemes such as app:// the opaque origin "null", which would match nothing (or everything).
 */
export function isAppUrl(raw: string): boolean {
  try {
    const url = new URL(raw);
    return url.protocol === `${APP_SCHEME}:` && url.host.toLowerCase() === APP_HOST && !url.username && !url.password;
  } catch {
    return false;
  }
}
