// The key broker's HTTP contract: zod only, so the API, the bot, the broker and the desktop app share it.
import { z } from 'zod';

/** Ids the API hands us (users, key records, bots, instances): short, printable, no separators that could confuse a log or a path. */
export const BrokerId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'expected letters, digits, ".", "_", ":" or "-"');

/** 32 bytes, base64url without padding. */
export const Base64Url32 = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'expected 32 bytes as base64url');

export const X25519PublicJwk = z.strictObject({ kty: z.literal('OKP'), crv: z.literal('X25519'), x: Base64Url32 });
export type X25519PublicJwk = z.infer<typeof X25519PublicJwk>;

export const X25519PrivateJwk = z.strictObject({ kty: z.literal('OKP'), crv: z.literal('X25519'), x: Base64Url32, d: Base64Url32 });
export type X25519PrivateJwk = z.infer<typeof X25519PrivateJwk>;

export const Ed25519PublicJwk = z.strictObject({ kty: z.literal('OKP'), crv: z.literal('Ed25519'), x: Base64Url32 });
export type Ed25519PublicJwk = z.infer<typeof Ed25519PublicJwk>;

export const CreateSealingKeyRequest = z.object({ userId: BrokerId, recordId: BrokerId });
export type CreateSealingKeyRequest = z.infer<typeof CreateSealingKeyRequest>;

/** A per-record public key, signed by the broker's identity key (see sealing-key.ts for the signed bytes). */
export const SealingKeyResponse = z.object({
  recordId: BrokerId,
  userId: BrokerId,
  publicKeyJwk: X25519PublicJwk,
  createdAt: z.iso.datetime(),
  /** Ed25519 over `sealingKeySigningBytes`, base64url. */
  signature: z.string().regex(/^[A-Za-z0-9_-]{86}$/, 'expected a 64-byte Ed25519 signature as base64url'),
});
export type SealingKeyResponse = z.infer<typeof SealingKeyResponse>;

/** `DELETE /v1/sealing-keys/:recordId` takes the owner's user id in the query or the body. */
export const DestroySealingKeyParams = z.object({ recordId: BrokerId });
export const DestroySealingKeyOwner = z.object({ userId: BrokerId.optional() });

const MAX_CREDENTIAL_TTL_SECONDS = 600;

export const InstanceCredentialRequest = z.object({
  userId: BrokerId,
  botId: BrokerId,
  recordId: BrokerId,
  instanceId: BrokerId,
  ttlSeconds: z.number().int().min(1).max(MAX_CREDENTIAL_TTL_SECONDS).default(300),
});
export type InstanceCredentialRequest = z.input<typeof InstanceCredentialRequest>;

export const InstanceCredentialResponse = z.object({
  /** 256 random bits, base64url; usable once, by the instance it names. */
  credential: z.string(),
  expiresAt: z.iso.datetime(),
});
export type InstanceCredentialResponse = z.infer<typeof InstanceCredentialResponse>;

export const UnsealRequest = z.object({
  // Any string: a malformed credential is refused as `credential_invalid` (and audited), not as a schema error.
  credential: z.string().min(1).max(512),
  instanceId: BrokerId,
  botId: BrokerId,
  recordId: BrokerId,
});
export type UnsealRequest = z.infer<typeof UnsealRequest>;

export const UnsealResponse = z.object({ recordId: BrokerId, privateKeyJwk: X25519PrivateJwk });
export type UnsealResponse = z.infer<typeof UnsealResponse>;

export const BrokerHealth = z.object({ status: z.literal('ok'), version: z.string(), time: z.iso.datetime() });
export type BrokerHealth = z.infer<typeof BrokerHealth>;

/** The stable codes of `/v1/unseal` refusals, for the bot to branch on. */
export const UNSEAL_REFUSALS = [
  'credential_invalid',
  'credential_used',
  'credential_expired',
  'credential_mismatch',
  'sealing_key_destroyed',
  'sealing_key_unusable',
] as const;
export type UnsealRefusal = (typeof UNSEAL_REFUSALS)[number];
