// The broker's cryptography, pure given its keys: sealing key pairs, wrapping them under the master key,
// signing them with the identity key, instance credentials.
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  type KeyObject,
} from 'node:crypto';
import type { X25519PrivateJwk, X25519PublicJwk } from '../src-shared/keybroker.ts';
import { encodeFields, sealingKeySigningBytes, type SealingKeyFields } from '../src-shared/sealing-key.ts';

/** First byte of every wrapped private key; a new format gets a new byte. */
const WRAP_FORMAT_V1 = 0x01;
const WRAP_LABEL_V1 = 'plutarc/keybroker/wrapped-x25519/v1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const X25519_BYTES = 32;
/** version | nonce | ciphertext | tag */
const WRAPPED_KEY_BYTES = 1 + NONCE_BYTES + X25519_BYTES + TAG_BYTES;

/** What a wrapped private key is bound to: opening it under any other user, record or public key fails. */
export interface WrapBinding {
  userId: string;
  recordId: string;
  /** Raw 32-byte X25519 public key. */
  publicKey: Buffer;
}

export class UnwrapError extends Error {
  constructor(reason: string) {
    super(`The wrapped sealing key could not be opened: ${reason}`);
    this.name = 'UnwrapError';
  }
}

export interface SealingKeyPair {
  publicKey: Buffer;
  privateKey: Buffer;
}

export function generateSealingKeyPair(): SealingKeyPair {
  const { privateKey } = generateKeyPairSync('x25519');
  const jwk = privateKey.export({ format: 'jwk' });
  return { publicKey: Buffer.from(jwk.x ?? '', 'base64url'), privateKey: Buffer.from(jwk.d ?? '', 'base64url') };
}

function wrapAad(binding: WrapBinding): Buffer {
  return Buffer.concat([
    Buffer.of(WRAP_FORMAT_V1),
    encodeFields([WRAP_LABEL_V1, binding.userId, binding.recordId, binding.publicKey.toString('base64url')]),
  ]);
}

/** AES-256-GCM under the master key, random 96-bit nonce, 128-bit tag, AAD = version + user + record + public key. */
export function wrapPrivateKey(masterKey: KeyObject, binding: WrapBinding, privateKey: Buffer): Buffer {
  if (privateKey.length !== X25519_BYTES) throw new Error('An X25519 private key is 32 bytes.');
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', masterKey, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(wrapAad(binding));
  const ciphertext = Buffer.concat([cipher.update(privateKey), cipher.final()]);
  return Buffer.concat([Buffer.of(WRAP_FORMAT_V1), nonce, ciphertext, cipher.getAuthTag()]);
}

/** Opens a wrapped private key and returns it as a JWK; throws UnwrapError on any mismatch or tampering. */
export function unwrapPrivateKey(masterKey: KeyObject, binding: WrapBinding, wrapped: Buffer): X25519PrivateJwk {
  if (wrapped.length !== WRAPPED_KEY_BYTES || wrapped[0] !== WRAP_FORMAT_V1) throw new UnwrapError('unknown format');
  const nonce = wrapped.subarray(1, 1 + NONCE_BYTES);
  const ciphertext = wrapped.subarray(1 + NONCE_BYTES, 1 + NONCE_BYTES + X25519_BYTES);
  const tag = wrapped.subarray(1 + NONCE_BYTES + X25519_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', masterKey, nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(wrapAad(binding));
  decipher.setAuthTag(tag);
  let privateKey: Buffer;
  try {
    privateKey = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    throw new UnwrapError('authentication failed');
  }
  const jwk: X25519PrivateJwk = { kty: 'OKP', crv: 'X25519', x: binding.publicKey.toString('base64url'), d: privateKey.toString('base64url') };
  privateKey.fill(0);
  // Node derives the public half from `d` and ignores `x`; check they belong together.
  const derived = createPublicKey(createPrivateKey({ key: jwk, format: 'jwk' })).export({ format: 'jwk' });
  if (derived.x !== jwk.x) throw new UnwrapError('the private key does not match the public key');
  return jwk;
}

export function x25519PublicJwk(publicKey: Buffer): X25519PublicJwk {
  return { kty: 'OKP', crv: 'X25519', x: publicKey.toString('base64url') };
}

export function signSealingKey(identityPrivateKey: KeyObject, fields: SealingKeyFields): string {
  return sign(null, sealingKeySigningBytes(fields), identityPrivateKey).toString('base64url');
}

/** A value stored beside the keys so a different master key is noticed at start, not at the first unseal. */
export function masterKeyCheck(masterKey: KeyObject): Buffer {
  return createHmac('sha256', masterKey).update('plutarc/keybroker/master-key-check/v1').digest();
}

/** A new one-time instance credential: 256 random bits. Only its SHA-256 is stored. */
export function newInstanceCredential(): string {
  return randomBytes(32).toString('base64url');
}

export function hashCredential(credential: string): Buffer {
  return createHash('sha256').update(credential, 'utf8').digest();
}
