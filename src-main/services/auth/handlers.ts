import type { authInvokeContract } from '../../../src-shared/ipc-auth.ts';
import type { Handlers } from '../dispatch.ts';
import type { AuthService } from './auth-service.ts';

export type AuthHandlers = Pick<Handlers, keyof typeof authInvokeContract>;

/** The identity channels of the IPC contract. Every value they return is token-free by construction. */
export function authHandlers(auth: AuthService): AuthHandlers {
  return {
    'auth.state': () => auth.state(),
    'auth.register': (input) => auth.register(input.email, input.password),
    'auth.signIn': (input) => auth.signIn(input.email, input.password),
    'auth.signOut': () => auth.signOut(),
    'auth.startPasskey': (input) => auth.startPasskey(input.purpose),
    'auth.cancelPasskey': () => auth.cancelPasskey(),
    'auth.reverifyPassword': (input) => auth.reverifyWithPassword(input.password),
    'auth.changePassword': (input) => auth.changePassword(input),
    'auth.removePassword': () => auth.removePassword(),
    'sessions.list': () => auth.listSessions(),
    'sessions.revoke': (input) => auth.revokeSession(input.id),
    'sessions.revokeOthers': () => auth.revokeOtherSessions(),
    'passkeys.list': () => auth.listPasskeys(),
    'passkeys.rename': (input) => auth.renamePasskey(input.id, input.name),
    'passkeys.remove': (input) => auth.removePasskey(input.id),
  };
}

/** How the OS is named on the sessions page. */
export function osName(platform: string): string {
  return ({ darwin: 'macOS', win32: 'Windows', linux: 'Linux' } as Record<string, string>)[platform] ?? platform;
}
