/** One place for the app's identity: electron-builder's appId must equal the AppUserModelID on Windows. */
export const APP_ID = 'app.plutarc.desktop';
export const PRODUCT_NAME = 'plutarc';
/** The privileged scheme and host the desktop renderer is served from. */
export const APP_SCHEME = 'app';
export const APP_HOST = 'plutarc';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
