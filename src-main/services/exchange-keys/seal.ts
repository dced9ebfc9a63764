// Sealing on the device: the key and secret go into a compact JWE for the record's X25519 public key. Only
// the broker holds the matching private key, and it hands that only to the bot instance the key is for.
import { calculateJwkThumbprint, CompactEncrypt, importJWK } from 'jose';
import { SEALED_KEY_ALG, SEALED_KEY_ENC, SEALED_KEY_TYP, type SealedCredentials, type SealedKeyHeader } from '../../../src-shared/exchange-keys.ts';
import type { ExchangeId } from '../../../src-shared/exchanges.ts';
import type { X25519PublicJwk } from '../../../src-shared/keybroker.ts';

export interface SealBinding {
  userId: string;
  recordId: string;
  exchange: ExchangeId;
}

/** ECDH-ES+A256KW, A256GCM; the protected header (the GCM additional data) binds user, record and exchange. */
export async function sealCredentials(publicKeyJwk: X25519PublicJwk, binding: SealBinding, credentials: SealedCredentials): Promise<string> {
  const key = await importJWK(publicKeyJwk, SEALED_KEY_ALG);
  const header: Omit<SealedKeyHeader, 'epk'> = {
    alg: SEALED_KEY_ALG,
    enc: SEALED_KEY_ENC,
    typ: SEALED_KEY_TYP,
    kid: await calculateJwkThumbprint(publicKeyJwk, 'sha256'),
    userId: binding.userId,
    recordId: binding.recordId,
    exchange: binding.exchange,
  };
  const plaintext = new TextEncoder().encode(JSON.stringify(credentials));
  try {
    return await new CompactEncrypt(plaintext).setProtectedHeader(header).encrypt(key);
  } finally {
    plaintext.fill(0);
  }
}
