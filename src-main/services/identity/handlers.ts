import type { identityInvokeContract } from '../../../src-shared/ipc-identity.ts';
import type { Handlers } from '../dispatch.ts';
import type { SecretStore } from '../ports.ts';
import type { IdentityService } from './identity-service.ts';

export type IdentityHandlers = Pick<Handlers, keyof typeof identityInvokeContract>;

/**
 * The identity channels of the IPC contract. Every value they return is token-free by construction.
 * `forgetAccount` erases what this device keeps of an account, for "Sign out and forget this device";
 * `unregisterCopy` first tells the API while the session still can.
 */
export function identityHandlers(
  identity: IdentityService,
  forgetAccount: (userId: string) => Promise<void> = async () => {},
  unregisterCopy: (userId: string) => Promise<void> = async () => {},
): IdentityHandlers {
  return {
    'identity.state': () => identity.state(),
    'identity.register': (input) => identity.register(input.email, input.password),
    'identity.signIn': (input) => identity.signIn(input.email, input.password),
    'identity.signOut': async (input) => {
      const who = input?.forgetDevice ? await identity.sessionAccess().current() : null;
      if (who) await unregisterCopy(who.userId);
      const state = await identity.signOut();
      if (who) await forgetAccount(who.userId);
      return state;
    },
    'identity.startPasskey': (input) => identity.startPasskey(input.purpose),
    'identity.cancelPasskey': () => identity.cancelPasskey(),
    'identity.reverifyPassword': (input) => identity.reverifyWithPassword(input.password),
    'identity.changePassword': (input) => identity.changePassword(input),
    'identity.removePassword': () => identity.removePassword(),
    'sessions.list': () => identity.listSessions(),
    'sessions.revoke': (input) => identity.revokeSession(input.id),
    'sessions.revokeOthers': () => identity.revokeOtherSessions(),
    'passkeys.list': () => identity.listPasskeys(),
    'passkeys.rename': (input) => identity.renamePasskey(input.id, input.name),
    'passkeys.remove': (input) => identity.removePasskey(input.id),
  };
}

/** How the OS is named on the sessions page. */
export function osName(platform: string): string {
  return ({ darwin: 'macOS', win32: 'Windows', linux: 'Linux' } as Record<string, string>)[platform] ?? platform;
}

/**
 * What this app calls its OS for the sessions page, with what a user needs to tell its row apart: the
 * browser host, and a session kept in memory only, which ends when the app stops.
 */
export function deviceOs(platform: string, host: 'electron' | 'browser', protection: SecretStore['protection']): string {
  const notes = [
    ...(host === 'browser' ? ['browser'] : []),
    ...(protection === 'memory' ? ['signed out when plutarc stops'] : []),
  ];
  return notes.length > 0 ? `${osName(platform)} (${notes.join('; ')})` : osName(platform);
}
