// Exchange keys: the API's HTTP contract and the sealed-key format the desktop app writes and only a
// bot instance reads. zod and plain JavaScript only, so main, the API, the bot and the renderer share it.
import { z } from 'zod';
import { fromBase64Url } from './base64url.ts';
import { ContractType, ExchangeId } from './exchanges.ts';
import { userGivenName } from './names.ts';
import { Base64Url32, BrokerId, SealingKeyResponse, X25519PublicJwk } from './keybroker.ts';

/** JWE key management and content encryption: ECDH-ES with the record's X25519 key, then AES-256-GCM. */
export const SEALED_KEY_ALG = 'ECDH-ES+A256KW';
export const SEALED_KEY_ENC = 'A256GCM';
export const SEALED_KEY_TYP = 'plutarc-exchange-key+jwe';

/** How long a sealing key handed out for a new record may be used before the record is abandoned. */
export const SEALING_RESERVATION_SECONDS = 600;

/**
 * The JWE's protected header. It is the AES-GCM additional data, so none of it can be changed without
 * the seal failing; it binds the sealed key to its user, its record and its exchange. Nothing else is allowed
 * (no `zip`, `crit`, `jku`, `jwk`, `x5u`).
 */
export const SealedKeyHeader = z.strictObject({
  alg: z.literal(SEALED_KEY_ALG),
  enc: z.literal(SEALED_KEY_ENC),
  typ: z.literal(SEALED_KEY_TYP),
  /** RFC 7638 thumbprint of the record's public key, so the bot can tell which key it needs. */
  kid: Base64Url32,
  epk: X25519PublicJwk,
  userId: BrokerId,
  recordId: BrokerId,
  exchange: ExchangeId,
});
export type SealedKeyHeader = z.infer<typeof SealedKeyHeader>;

/** What is sealed: everything the bot needs to sign requests. The API key is here too; the API keeps only its hint. */
export const SealedCredentials = z.strictObject({
  apiKey: z.string().min(1).max(512),
  secret: z.string().min(1).max(4096),
  passphrase: z.string().min(1).max(512).optional(),
});
export type SealedCredentials = z.infer<typeof SealedCredentials>;

/**
 * A compact JWE for ECDH-ES+A256KW / A256GCM: header . 40-byte wrapped key . 12-byte IV . ciphertext . 16-byte tag.
 * The length limit keeps a row small; a sealed key is well under 2 KB.
 */
export const CompactSealedKey = z
  .string()
  .max(8192)
  .regex(/^[A-Za-z0-9_-]{20,2048}\.[A-Za-z0-9_-]{54}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{2,5600}\.[A-Za-z0-9_-]{22}$/, 'expected a compact JWE (ECDH-ES+A256KW, A256GCM)');

/** The protected header of a compact JWE as JSON, read without decrypting anything; null when it is not one. */
export function readProtectedHeader(jwe: string): unknown {
  const [header] = jwe.split('.', 1);
  if (!header || !/^[A-Za-z0-9_-]+$/.test(header)) return null;
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(fromBase64Url(header))) as unknown;
  } catch {
    return null;
  }
}

/** The hint shown for a key: its first and last four characters. Shorter keys are not real keys. */
export const maskApiKey = (apiKey: string): string => `${apiKey.slice(0, 4)}…${apiKey.slice(-4)}`;
export const MaskedKey = z.string().regex(/^[\x21-\x7e]{4}…[\x21-\x7e]{4}$/, 'expected the first and last four characters of the key');

export const KeyLabel = userGivenName('Give the key a name.');
export const KeyRecordId = BrokerId;

/**
 * What the pre-check found. `pending`: the exchange would not answer this computer (the key is restricted
 * to other IP addresses), so the bot verifies the key from its region before it trades.
 */
export const KeyCheckReport = z.strictObject({
  status: z.enum(['verified', 'pending']),
  detail: z.string().max(500).nullable(),
  ipRestricted: z.boolean().nullable(),
});
export type KeyCheckReport = z.infer<typeof KeyCheckReport>;

export const KeyVerification = KeyCheckReport.extend({ checkedAt: z.iso.datetime() });
export type KeyVerification = z.infer<typeof KeyVerification>;

export const ExchangeKeyView = z.object({
  id: KeyRecordId,
  label: z.string(),
  exchange: ExchangeId,
  contractType: ContractType,
  testnet: z.boolean(),
  maskedKey: z.string(),
  verification: KeyVerification,
  active: z.boolean(),
  assignedBotId: z.string().nullable(),
  createdAt: z.iso.datetime(),
});
export type ExchangeKeyView = z.infer<typeof ExchangeKeyView>;

export const ExchangeKeyList = z.object({ keys: z.array(ExchangeKeyView) });

/**
 * A keyed fingerprint of an exchange API key: HMAC-SHA-256 under the account's fingerprint key, computed on
 * the device. It tells two records of the same key apart from two keys without showing the API key, and it
 * differs between accounts. Never of the secret.
 */
export const KeyFingerprint = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'expected an HMAC-SHA-256 as base64url');

/** `GET /v1/exchange-keys/fingerprint-key`: the account's key for fingerprints, made on first use. */
export const FingerprintKeyResponse = z.object({ key: Base64Url32 });

/** What the device feeds the HMAC: the exchange and the API key, so the same string on two exchanges differs. */
export const fingerprintInput = (exchange: ExchangeId, apiKey: string): string => `${exchange}\n${apiKey}`;

/** `POST /v1/exchange-keys/sealing-keys`: a new record id and its broker-signed public key. */
export const SealingKeyRequest = z.strictObject({ exchange: ExchangeId, fingerprint: KeyFingerprint });
export const SealingKeyReservation = z.object({
  recordId: KeyRecordId,
  sealingKey: SealingKeyResponse,
  expiresAt: z.iso.datetime(),
});
export type SealingKeyReservation = z.infer<typeof SealingKeyReservation>;

/** `POST /v1/exchange-keys`: the sealed key and what may be shown about it. Never the secret or the whole API key. */
export const CreateExchangeKeyRequest = z.strictObject({
  recordId: KeyRecordId,
  label: KeyLabel,
  exchange: ExchangeId,
  contractType: ContractType,
  testnet: z.boolean(),
  maskedKey: MaskedKey,
  jwe: CompactSealedKey,
  check: KeyCheckReport,
});
export type CreateExchangeKeyRequest = z.infer<typeof CreateExchangeKeyRequest>;

export const ExchangeKeyParams = z.object({ id: KeyRecordId });
export const RenameExchangeKeyRequest = z.strictObject({ label: KeyLabel });
export const SetExchangeKeyActiveRequest = z.strictObject({ active: z.boolean() });

/** `keyPairDestroyed: false` means the broker was out of reach; the API keeps retrying until it is gone. */
export const DeletedExchangeKey = z.object({ id: KeyRecordId, keyPairDestroyed: z.boolean() });
export type DeletedExchangeKey = z.infer<typeof DeletedExchangeKey>;
