// What the broker signs when it hands out a sealing key, and how anyone holding its identity key checks it.
// Shared with the desktop app, so WebCrypto and zod only: no Node built-ins, it runs in main or a page alike.
import { fromBase64Url } from './base64url.ts';
import { Ed25519PublicJwk, SealingKeyResponse } from './keybroker.ts';

const SEALING_KEY_SIGNATURE_VERSION = 1;
const SEALING_KEY_DOMAIN = 'plutarc/keybroker/sealing-key';

export interface SealingKeyFields {
  userId: string;
  recordId: string;
  /** The X25519 public key, as the JWK's `x` (base64url). */
  publicKeyX: string;
  /** ISO-8601, exactly as returned. */
  createdAt: string;
}

/** Each field as a 4-byte big-endian length then its UTF-8 bytes: no two field lists encode to the same bytes. */
export function encodeFields(fields: readonly string[]): Uint8Array<ArrayBuffer> {
  const encoder = new TextEncoder();
  const parts = fields.map((field) => encoder.encode(field));
  const out = new Uint8Array(parts.reduce((sum, part) => sum + 4 + part.length, 0));
  const view = new DataView(out.buffer);
  let offset = 0;
  for (const part of parts) {
    view.setUint32(offset, part.length);
    out.set(part, offset + 4);
    offset += 4 + part.length;
  }
  return out;
}

/** The exact bytes the broker's Ed25519 identity key signs for one sealing key. */
export function sealingKeySigningBytes(fields: SealingKeyFields): Uint8Array<ArrayBuffer> {
  return encodeFields([
    SEALING_KEY_DOMAIN,
    String(SEALING_KEY_SIGNATURE_VERSION),
    fields.userId,
    fields.recordId,
    'X25519',
    fields.publicKeyX,
    fields.createdAt,
  ]);
}

/**
 * Resolves true only when `response` is a well-formed sealing key signed by the broker whose identity
 * public key is `identityPublicKeyJwk`, and (when given) it is for the user and record the caller asked
 * for. Never rejects: anything malformed is simply not verified.
 */
export async function verifySealingKey(
  identityPublicKeyJwk: unknown,
  response: unknown,
  expected: { userId?: string; recordId?: string } = {},
): Promise<boolean> {
  const identity = Ed25519PublicJwk.safeParse(identityPublicKeyJwk);
  const parsed = SealingKeyResponse.safeParse(response);
  if (!identity.success || !parsed.success) return false;
  const key = parsed.data;
  if (expected.userId !== undefined && expected.userId !== key.userId) return false;
  if (expected.recordId !== undefined && expected.recordId !== key.recordId) return false;
  try {
    const publicKey = await crypto.subtle.importKey('jwk', { kty: 'OKP', crv: 'Ed25519', x: identity.data.x }, { name: 'Ed25519' }, false, ['verify']);
    const bytes = sealingKeySigningBytes({
      userId: key.userId,
      recordId: key.recordId,
      publicKeyX: key.publicKeyJwk.x,
      createdAt: key.createdAt,
    });
    return await crypto.subtle.verify({ name: 'Ed25519' }, publicKey, fromBase64Url(key.signature), bytes);
  } catch {
    return false;
  }
}
