// Comparing and carrying secrets the same way in every server process.
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (value: string | Uint8Array): Buffer =>
  createHash('sha256').update(typeof value === 'string' ? Buffer.from(value, 'utf8') : value).digest();

/**
 * Whether a presented secret (token, signature, PKCE challenge, key check) equals the expected one, in time
 * that tells nothing of either: both are hashed to equal lengths first, so not even the length leaks.
 */
export function constantTimeEqual(presented: string | Uint8Array, expected: string | Uint8Array): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

/** RFC 6750 bearer credentials: the token68 after the scheme, which is case-insensitive. */
const BEARER = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i;

/** The token of an `Authorization: Bearer …` header, or null when there is none or it is malformed. */
export function bearerToken(authorization: string | undefined): string | null {
  return (authorization === undefined ? null : BEARER.exec(authorization)?.[1]) ?? null;
}
