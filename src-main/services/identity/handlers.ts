import type { identityInvokeContract } from '../../../src-shared/ipc-identity.ts';
import type { Handlers } from '../dispatch.ts';
import type { IdentityService } from './identity-service.ts';

export type IdentityHandlers = Pick<Handlers, keyof typeof identityInvokeContract>;

/** The identity channels of the IPC contract. Every value they return is token-free by construction. */
export function identityHandlers(auth: IdentityService): IdentityHandlers {
  return {
    'identity.state': () => auth.state(),
    'identity.register': (input) => auth.register(input.email, input.password),
    'identity.signIn': (input) => auth.signIn(input.email, input.password),
    'identity.signOut': () => auth.signOut(),
    'identity.startPasskey': (input) => auth.startPasskey(input.purpose),
    'identity.cancelPasskey': () => auth.cancelPasskey(),
    'identity.reverifyPassword': (input) => auth.reverifyWithPassword(input.password),
    'identity.changePassword': (input) => auth.changePassword(input),
    'identity.removePassword': () => auth.removePassword(),
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
