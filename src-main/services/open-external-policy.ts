/**
 * Which URLs main may hand to the OS (shell.openExternal): pages of our API's origin (the hosted passkey
 * page; links out to an exchange's key page go through the API's redirect) and the loopback callback of a
 * sign-in in progress. Anything else could launch an arbitrary handler.
 */
export interface ExternalUrlPolicy {
  apiOrigin: string;
  /** The loopback callback origin while a system-browser hand-off is waiting, e.g. http://127.0.0.1:53124 */
  loopbackOrigin?: string | undefined;
}

export function isAllowedExternalUrl(raw: string, policy: ExternalUrlPolicy): boolean {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  if (url.username || url.password) return false;
  const api = new URL(policy.apiOrigin);
  const apiIsLocal = api.hostname === '127.0.0.1' || api.hostname === 'localhost';
  if (url.origin === api.origin && (url.protocol === 'https:' || (apiIsLocal && url.protocol === 'http:'))) {
    return true;
  }
  // The local API serves its hosted passkey pages as http://localhost:<its port> (WebAuthn needs a domain).
  if (apiIsLocal && api.protocol === 'http:' && url.protocol === 'http:' && url.hostname === 'localhost' && url.port === api.port) {
    return true;
  }
  if (policy.loopbackOrigin && url.protocol === 'http:' && url.origin === new URL(policy.loopbackOrigin).origin) {
    return url.hostname === '127.0.0.1';
  }
  return false;
}
