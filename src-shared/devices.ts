// A device's local copies of accounts, as the API knows them: each copy registers a random token (the API keeps
// only its SHA-256), so a device that was off when its account was deleted can later ask, without a session and
// without saying whose copies it holds, which of its copies no longer belong to an account, and erase them.
import { z } from 'zod';

/** A copy's token: 32 random bytes in base64url (43 characters, no padding). */
export const CopyToken = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'A copy token is 32 bytes in base64url.');
export type CopyToken = z.infer<typeof CopyToken>;

/** How many tokens one check may ask about: a device holds one per account that used it. */
export const MAX_COPY_CHECK = 50;

export const DEVICE_COPY_ROUTES = {
  /** POST (session): this device made a copy of the signed-in account. DELETE (session): it forgot it. */
  copies: '/v1/devices/copies',
  /** POST (no session): which of these copies belong to no account any more. */
  check: '/v1/devices/copies/check',
} as const;

export const CopyRegistration = z.strictObject({ token: CopyToken });
export type CopyRegistration = z.infer<typeof CopyRegistration>;

export const CopyCheckRequest = z.strictObject({ tokens: z.array(CopyToken).min(1).max(MAX_COPY_CHECK) });
export type CopyCheckRequest = z.infer<typeof CopyCheckRequest>;

/**
 * The asked tokens the API does not know: their account was deleted, the copy was forgotten, or it was never
 * registered; the answer does not say which.
 */
export const CopyCheckResult = z.strictObject({ unknown: z.array(CopyToken).max(MAX_COPY_CHECK) });
export type CopyCheckResult = z.infer<typeof CopyCheckResult>;
