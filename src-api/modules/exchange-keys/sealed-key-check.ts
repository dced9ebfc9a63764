// What the API can check about a sealed key without being able to open it: that it is a compact JWE of
// the one allowed kind, sealed to the sealing key this record was given, and bound to this user, record
// and exchange. It reads the protected header only; nothing here decrypts.
import { createHash } from 'node:crypto';
import { readProtectedHeader, SealedKeyHeader } from '../../../src-shared/exchange-keys.ts';
import type { X25519PublicJwk } from '../../../src-shared/keybroker.ts';
import { ProblemError } from '../../../src-server/problem.ts';

/**
 * RFC 7638 thumbprint of an X25519 public key: SHA-256 over its required members in lexical order. Written
 * out rather than taken from jose (as the device and the bot do) because the API imports no JOSE library at
 * all, which a test holds it to; the sealing tests prove the three agree.
 */
export function x25519Thumbprint(jwk: X25519PublicJwk): string {
  return createHash('sha256').update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x })).digest('base64url');
}

export interface SealedKeyBinding {
  userId: string;
  recordId: string;
  exchange: string;
  keyThumbprint: string;
}

const refuse = (detail: string) => new ProblemError(400, 'sealed_key_invalid', 'Sealed key not accepted', detail);

/** Throws a 400 problem unless the JWE's protected header is exactly what this record's seal must carry. */
export function checkSealedKeyHeader(jwe: string, expected: SealedKeyBinding): void {
  const header = SealedKeyHeader.safeParse(readProtectedHeader(jwe));
  if (!header.success) {
    throw refuse('The sealed key is not a JWE of the kind plutarc makes (ECDH-ES+A256KW with A256GCM, and nothing else in its header).');
  }
  const h = header.data;
  if (h.userId !== expected.userId || h.recordId !== expected.recordId || h.exchange !== expected.exchange) {
    throw refuse('The sealed key is bound to another account, record or exchange.');
  }
  if (h.kid !== expected.keyThumbprint) throw refuse('The key was sealed to a different sealing key than this record was given.');
}
