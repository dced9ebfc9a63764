import { z } from 'zod';
import { Email, HandoffPurpose, PasskeyName, PasskeyView, PasswordChanged, SessionView, UserView } from './identity.ts';
import { PASSWORD_MAX_LENGTH } from './password-policy.ts';

/**
 * The identity part of the IPC contract. Main holds the session token; the renderer only ever sees
 * the state below. Passwords pass through to main and on to the API, never stored on the way.
 */

export const IdentityState = z.discriminatedUnion('state', [
  z.object({
    state: z.literal('signedOut'),
    /** Why the app is signed out now, when it did not ask to be. */
    reason: z.enum(['revoked', 'expired']).nullable(),
  }),
  z.object({
    state: z.literal('signedIn'),
    user: UserView,
    session: SessionView,
    reverifiedUntil: z.string().nullable(),
    /** `memory` where the OS offers no real protection for a stored token (Linux basic_text, the browser host). */
    tokenStorage: z.enum(['encrypted', 'memory']),
  }),
]);
export type IdentityState = z.infer<typeof IdentityState>;

/** A passkey ceremony handed off to the system browser (RFC 8252). */
export const PasskeyFlow = z.object({
  flowId: z.string(),
  purpose: HandoffPurpose,
  state: z.enum(['waiting', 'completed', 'failed', 'cancelled']),
  /** The page to open; the app opens it itself where it can (`openedExternally`). */
  authorizeUrl: z.string(),
  openedExternally: z.boolean(),
  message: z.string().optional(),
});
export type PasskeyFlow = z.infer<typeof PasskeyFlow>;

/** Something main wants the user to know (a new sign-in elsewhere): the tray/notification, or a toast. */
export const Notice = z.object({
  id: z.string(),
  level: z.enum(['info', 'warning']),
  title: z.string(),
  body: z.string(),
});
export type Notice = z.infer<typeof Notice>;

const NoInput = z.undefined();
/** A password on its way to main: the policy's 256 characters (code points) at most; a pasted megabyte stops here. */
export const PasswordInput = z
  .string()
  .min(1, 'Enter your password.')
  .max(PASSWORD_MAX_LENGTH * 2, `Use at most ${PASSWORD_MAX_LENGTH} characters.`)
  .refine((password) => [...password].length <= PASSWORD_MAX_LENGTH, `Use at most ${PASSWORD_MAX_LENGTH} characters.`);
const Credentials = z.object({ email: Email, password: PasswordInput }).strict();
const ById = z.object({ id: z.string().min(1).max(200) }).strict();

export const identityInvokeContract = {
  'identity.state': { input: NoInput, output: IdentityState },
  'identity.register': { input: Credentials, output: IdentityState },
  'identity.signIn': { input: Credentials, output: IdentityState },
  /** `forgetDevice`: also erase what this device keeps of the account (its local copy of trades, its cached backtests). */
  'identity.signOut': { input: z.strictObject({ forgetDevice: z.boolean() }).optional(), output: IdentityState },
  'identity.startPasskey': { input: z.object({ purpose: HandoffPurpose }).strict(), output: PasskeyFlow },
  'identity.cancelPasskey': { input: NoInput, output: PasskeyFlow.nullable() },
  'identity.reverifyPassword': { input: z.object({ password: PasswordInput }).strict(), output: IdentityState },
  'identity.changePassword': {
    input: z.object({ currentPassword: PasswordInput, newPassword: PasswordInput, signOutOtherSessions: z.boolean() }).strict(),
    output: PasswordChanged,
  },
  'identity.removePassword': { input: NoInput, output: IdentityState },
  'sessions.list': { input: NoInput, output: z.array(SessionView) },
  'sessions.revoke': { input: ById, output: z.array(SessionView) },
  'sessions.revokeOthers': { input: NoInput, output: z.array(SessionView) },
  'passkeys.list': { input: NoInput, output: z.array(PasskeyView) },
  'passkeys.rename': { input: z.object({ id: z.string().min(1).max(200), name: PasskeyName }).strict(), output: PasskeyView },
  'passkeys.remove': { input: ById, output: z.array(PasskeyView) },
} as const satisfies Record<string, { input: z.ZodType; output: z.ZodType }>;

export const identityEventContract = {
  'identity.onState': IdentityState,
  'identity.onPasskeyFlow': PasskeyFlow,
  'app.onNotice': Notice,
} as const satisfies Record<string, z.ZodType>;
