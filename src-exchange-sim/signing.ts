// The crypto every exchange's request check shares. Callers pass the bytes that arrived on the wire,
// never a re-encoding of parsed parameters: a client whose encoding differs must fail here as it would live.
import { createHash, createHmac } from 'node:crypto';
import { constantTimeEqual } from '../src-server/secrets.ts';

export type Bytes = string | Buffer;

/** HMAC of exactly these bytes (strings are taken as latin1, i.e. byte for byte, as HTTP delivers URLs). */
export function hmac(algorithm: 'sha256' | 'sha512', key: Bytes, payload: Bytes): Buffer {
  return createHmac(algorithm, asBytes(key)).update(asBytes(payload)).digest();
}

export function sha256(payload: Bytes): Buffer {
  return createHash('sha256').update(asBytes(payload)).digest();
}

/** Compares the signature a client sent with the one we computed, without leaking where they differ. */
export function signaturesMatch(sent: string, expected: string): boolean {
  return constantTimeEqual(sent, expected);
}

function asBytes(value: Bytes): Buffer {
  return typeof value === 'string' ? Buffer.from(value, 'latin1') : value;
}
