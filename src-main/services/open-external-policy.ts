import { KEY_EXCHANGES } from '../../src-shared/exchanges.ts';

/**
 * Which URLs main may hand to the OS (shell.openExternal): https pages of our API's origin, the exchanges'
 * API key pages and the loopback callback of a sign-in in progress. Anything else could launch an arbitrary handler.
 */
export interface ExternalUrlPolicy {
  apiOrigin: string;
  /** The loopback callback origin while a system-browser hand-off is waiting, e.g. http://127.0.0.1:53124 */
  loopbackOrigin?: string | undefined;
}

const EXCHANGE_KEY_PAGES = new Set(
  KEY_EXCHANGES.flatMap((exchange) => (exchange.status === 'open' ? [exchange.instructions.keyPage.live, exchange.instructions.keyPage.testnet] : [])),
);

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
  // The exchanges' own API key pages, exactly as the Keys page links them.
  if (url.protocol === 'https:' && EXCHANGE_KEY_PAGES.has(`${url.origin}${url.pathname}`)) return true;
  if (policy.loopbackOrigin && url.protocol === 'http:' && url.origin === new URL(policy.loopbackOrigin).origin) {
    return url.hostname === '127.0.0.1';
  }
  return false;
}
