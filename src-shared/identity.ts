import { z } from 'zod';
import { userGivenName } from './names.ts';

/** The identity API's HTTP contract (accounts, sessions, passkeys, reverification, desktop hand-off). */

export const Email = z.string().max(254, 'Enter a valid email address.').trim().toLowerCase().pipe(z.email({ message: 'Enter a valid email address.' }).max(254));
/** The policy is checked in code (assessPassword); this only bounds what a request may carry. */
export const PasswordField = z.string().min(1).max(1024);

export const DeviceInfo = z.object({
  client: z.enum(['desktop', 'web']),
  /**
   * A random id the installation made for itself and keeps. After a sign-in from it the account knows the
   * device, and password failures from anywhere else never hold it back (the API keeps only a digest).
   */
  id: z.string().regex(/^[A-Za-z0-9_-]{22,128}$/, 'expected a random base64url device id').optional(),
  appVersion: z.string().max(40).optional(),
  os: z.string().max(80).optional(),
});
export type DeviceInfo = z.infer<typeof DeviceInfo>;

export const SignInMethod = z.enum(['password', 'passkey']);

export const UserView = z.object({
  id: z.string(),
  email: z.string(),
  createdAt: z.string(),
  hasPassword: z.boolean(),
  passkeyCount: z.number().int(),
});
export type UserView = z.infer<typeof UserView>;

export const SessionView = z.object({
  id: z.string(),
  kind: z.enum(['desktop', 'web']),
  method: SignInMethod,
  deviceLabel: z.string(),
  firstIp: z.string(),
  lastIp: z.string(),
  createdAt: z.string(),
  lastSeenAt: z.string(),
  expiresAt: z.string(),
  current: z.boolean(),
});
export type SessionView = z.infer<typeof SessionView>;

export const SessionGrant = z.object({ token: z.string(), user: UserView, session: SessionView });
export type SessionGrant = z.infer<typeof SessionGrant>;

export const RegisterRequest = z.object({ email: Email, password: PasswordField, device: DeviceInfo });
export const PasswordSignInRequest = z.object({ email: Email, password: PasswordField, device: DeviceInfo });

export const Me = z.object({ user: UserView, session: SessionView, reverifiedUntil: z.string().nullable() });
export type Me = z.infer<typeof Me>;

export const SessionList = z.object({ sessions: z.array(SessionView) });
export const RevokedSessions = z.object({ revoked: z.number().int() });

export const ReverifyPasswordRequest = z.object({ password: PasswordField });
/** A successful reverification rotates the session token. */
export const Reverified = z.object({ token: z.string(), reverifiedUntil: z.string() });
export type Reverified = z.infer<typeof Reverified>;

export const ChangePasswordRequest = z.object({
  currentPassword: PasswordField,
  newPassword: PasswordField,
  signOutOtherSessions: z.boolean(),
});
export const PasswordChanged = z.object({ signedOutSessions: z.number().int() });

export const PasskeyView = z.object({
  id: z.string(),
  name: z.string(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  backedUp: z.boolean(),
  deviceType: z.enum(['singleDevice', 'multiDevice']),
  transports: z.array(z.string()),
  aaguid: z.string(),
});
export type PasskeyView = z.infer<typeof PasskeyView>;
export const PasskeyList = z.object({ passkeys: z.array(PasskeyView) });
export const PasskeyName = userGivenName('Give the passkey a name.');
export const RenamePasskeyRequest = z.object({ name: PasskeyName });

/** RFC 8252 hand-off: the desktop app runs a passkey ceremony in the system browser. */
export const HandoffPurpose = z.enum(['signin', 'add-passkey', 'reverify']);
export type HandoffPurpose = z.infer<typeof HandoffPurpose>;
/** Loopback redirect on any port, per RFC 8252 §7.3. */
export const LoopbackRedirect = z
  .string()
  .regex(/^http:\/\/127\.0\.0\.1:\d{1,5}\/callback$/, 'expected http://127.0.0.1:<port>/callback');
export const HandoffRequest = z.object({
  purpose: HandoffPurpose,
  redirectUri: LoopbackRedirect,
  state: z.string().min(16).max(128),
  codeChallenge: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'expected a base64url SHA-256 code challenge'),
  codeChallengeMethod: z.literal('S256'),
});
export type HandoffRequest = z.infer<typeof HandoffRequest>;
export const HandoffCreated = z.object({ id: z.string(), authorizeUrl: z.string(), expiresAt: z.string() });
export type HandoffCreated = z.infer<typeof HandoffCreated>;
/**
 * What the hosted page learns about a hand-off: what it is for and until when, nothing about the account (a
 * hand-off id is a bearer link: whoever holds it learns no email and no credential ids).
 */
export const HandoffInfo = z.object({ purpose: HandoffPurpose, expiresAt: z.string() });
export type HandoffInfo = z.infer<typeof HandoffInfo>;
export const HandoffCompleteRequest = z.object({
  response: z.record(z.string(), z.unknown()),
  name: PasskeyName.optional(),
});
export const HandoffRedirect = z.object({ redirectTo: z.string() });
export const TokenRequest = z.object({
  code: z.string().min(20).max(128),
  codeVerifier: z.string().regex(/^[A-Za-z0-9._~-]{43,128}$/, 'expected an RFC 7636 code verifier'),
  device: DeviceInfo.optional(),
});
export const TokenResult = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('signed-in'), grant: SessionGrant }),
  z.object({ kind: z.literal('passkey-added'), passkey: PasskeyView }),
  z.object({ kind: z.literal('reverified'), token: z.string(), reverifiedUntil: z.string() }),
]);
export type TokenResult = z.infer<typeof TokenResult>;

export const REVERIFICATION_WINDOW_SECONDS = 600;
