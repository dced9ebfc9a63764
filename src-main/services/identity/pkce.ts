import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** RFC 7636 proof key: the verifier stays in main; only its S256 challenge goes to the API. */
export interface Pkce {
  verifier: string;
  challenge: string;
}

export function createPkce(): Pkce {
  // 32 random bytes → 43 base64url characters, the shortest verifier RFC 7636 allows, with 256 bits in it.
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: s256(verifier) };
}

const s256 = (verifier: string): string => createHash('sha256').update(verifier, 'ascii').digest('base64url');

/** The `state` that ties a loopback callback to the hand-off this app started. */
export const createState = (): string => randomBytes(32).toString('base64url');

/** Compares two secrets in constant time, whatever their lengths (hashing first hides the length too). */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b) && given.length === expected.length;
}
