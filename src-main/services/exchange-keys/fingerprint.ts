// The keyed fingerprint of an exchange API key, computed here on the device: HMAC-SHA-256 under the
// account's fingerprint key. The API compares fingerprints to refuse the same key twice; it never sees the
// API key, and the same key gives another fingerprint on another account. The secret is never an input.
import { createHmac } from 'node:crypto';
import { fromBase64Url } from '../../../src-shared/base64url.ts';
import { fingerprintInput } from '../../../src-shared/exchange-keys.ts';
import type { ExchangeId } from '../../../src-shared/exchanges.ts';

export function fingerprintApiKey(accountKey: string, exchange: ExchangeId, apiKey: string): string {
  return createHmac('sha256', fromBase64Url(accountKey)).update(fingerprintInput(exchange, apiKey), 'utf8').digest('base64url');
}
