// The bot instance's side of a sealed exchange key: open the JWE with the private key the broker handed
// this instance, and only if its header says it is the key this bot was deployed with.
import { calculateJwkThumbprint, compactDecrypt, decodeProtectedHeader, importJWK } from 'jose';
import {
  SEALED_KEY_ALG,
  SEALED_KEY_ENC,
  SealedCredentials,
  SealedKeyHeader,
} from '../src-shared/exchange-keys.ts';
import type { X25519PrivateJwk } from '../src-shared/keybroker.ts';

export class SealedKeyError extends Error {
  readonly reason: 'malformed' | 'binding_mismatch' | 'wrong_key' | 'does_not_open';

  constructor(reason: SealedKeyError['reason'], message: string) {
    super(message);
    this.name = 'SealedKeyError';
    this.reason = reason;
  }
}

export interface SealedKeyBinding {
  userId: string;
  recordId: string;
  exchange: string;
}

/**
 * Opens `jwe` with the record's private key. Refuses before decrypting when the header names another
 * user, record, exchange or key; decryption itself fails for any changed byte of header, key, IV, ciphertext or tag.
 */
export async function openSealedKey(jwe: string, privateKeyJwk: X25519PrivateJwk, expected: SealedKeyBinding): Promise<SealedCredentials> {
  let header: SealedKeyHeader;
  try {
    header = SealedKeyHeader.parse(decodeProtectedHeader(jwe));
  } catch {
    throw new SealedKeyError('malformed', 'The sealed key is not a plutarc sealed key.');
  }
  if (header.userId !== expected.userId || header.recordId !== expected.recordId || header.exchange !== expected.exchange) {
    throw new SealedKeyError('binding_mismatch', 'The sealed key belongs to another user, record or exchange.');
  }
  const { d: _private, ...publicJwk } = privateKeyJwk;
  if (header.kid !== (await calculateJwkThumbprint(publicJwk, 'sha256'))) {
    throw new SealedKeyError('wrong_key', 'The sealed key was sealed to a different key than this record’s.');
  }
  let plaintext: Uint8Array;
  try {
    const key = await importJWK(privateKeyJwk, SEALED_KEY_ALG);
    ({ plaintext } = await compactDecrypt(jwe, key, {
      keyManagementAlgorithms: [SEALED_KEY_ALG],
      contentEncryptionAlgorithms: [SEALED_KEY_ENC],
    }));
  } catch {
    throw new SealedKeyError('does_not_open', 'The sealed key does not open with this record’s key.');
  }
  try {
    return SealedCredentials.parse(JSON.parse(new TextDecoder().decode(plaintext)));
  } catch {
    throw new SealedKeyError('malformed', 'The sealed key opened, but what it holds is not an exchange key.');
  } finally {
    plaintext.fill(0);
  }
}
