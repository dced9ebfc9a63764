import { create } from 'zustand';
import type { PasskeyView, SessionView } from '../../../src-shared/identity.ts';
import type { IdentityState, PasskeyFlow } from '../../../src-shared/ipc-identity.ts';
import type { Result } from '../../../src-shared/result.ts';
import { callMain } from '../bridge.ts';
import { guardedLoad, type Load } from './load.ts';
import { sensitive } from './reverification.ts';
import { resetOnUserChange, useIdentityStore } from './identity.ts';

interface SecurityState {
  sessions: SessionView[];
  sessionsLoad: Load;
  passkeys: PasskeyView[];
  passkeysLoad: Load;
  loadSessions(): Promise<void>;
  loadPasskeys(): Promise<void>;
  revokeSession(id: string): Promise<Result<SessionView[]>>;
  revokeOtherSessions(): Promise<Result<SessionView[]>>;
  /** Runs the add-passkey hand-off; the list reloads when it completes. */
  addPasskey(): Promise<Result<PasskeyFlow>>;
  renamePasskey(id: string, name: string): Promise<Result<PasskeyView>>;
  removePasskey(id: string): Promise<Result<PasskeyView[]>>;
  changePassword(input: { currentPassword: string; newPassword: string; signOutOtherSessions: boolean }): Promise<Result<{ signedOutSessions: number }>>;
  removePassword(): Promise<Result<IdentityState>>;
}

const empty = (): Pick<SecurityState, 'sessions' | 'sessionsLoad' | 'passkeys' | 'passkeysLoad'> => ({
  sessions: [],
  sessionsLoad: { state: 'idle' },
  passkeys: [],
  passkeysLoad: { state: 'idle' },
});

export const useSecurityStore = create<SecurityState>((set, get) => ({
  ...empty(),
  loadSessions: () =>
    guardedLoad(
      get().sessionsLoad,
      () => callMain((p) => p.sessions.list()),
      (sessionsLoad, sessions) => set(sessions ? { sessionsLoad, sessions } : { sessionsLoad }),
    ),
  loadPasskeys: () =>
    guardedLoad(
      get().passkeysLoad,
      () => callMain((p) => p.passkeys.list()),
      (passkeysLoad, passkeys) => set(passkeys ? { passkeysLoad, passkeys } : { passkeysLoad }),
    ),
  async revokeSession(id) {
    const result = await sensitive(() => callMain((p) => p.sessions.revoke({ id })));
    if (result.ok) set({ sessions: result.value });
    return result;
  },
  async revokeOtherSessions() {
    const result = await sensitive(() => callMain((p) => p.sessions.revokeOthers()));
    if (result.ok) set({ sessions: result.value });
    return result;
  },
  async addPasskey() {
    const result = await sensitive(() => useIdentityStore.getState().runPasskeyFlow('add-passkey'));
    if (result.ok && result.value.state === 'completed') await get().loadPasskeys();
    return result;
  },
  async renamePasskey(id, name) {
    const result = await sensitive(() => callMain((p) => p.passkeys.rename({ id, name })));
    if (result.ok) set((s) => ({ passkeys: s.passkeys.map((passkey) => (passkey.id === id ? result.value : passkey)) }));
    return result;
  },
  async removePasskey(id) {
    const result = await sensitive(() => callMain((p) => p.passkeys.remove({ id })));
    if (result.ok) set({ passkeys: result.value });
    return result;
  },
  async changePassword(input) {
    const result = await sensitive(() => callMain((p) => p.identity.changePassword(input)));
    if (result.ok && result.value.signedOutSessions > 0) await get().loadSessions();
    return result;
  },
  removePassword: () => sensitive(() => useIdentityStore.getState().removePassword()),
}));

/** Whether the user can confirm it's them with a passkey: the list once loaded, else the account's count. */
export function useHasPasskey(): boolean {
  const loaded = useSecurityStore((s) => (s.passkeysLoad.state === 'ready' ? s.passkeys.length : null));
  const counted = useIdentityStore((s) => (s.identity?.state === 'signedIn' ? s.identity.user.passkeyCount : 0));
  return (loaded ?? counted) > 0;
}

// Another account's lists must never show: forget them whenever the signed-in user changes.
resetOnUserChange(useSecurityStore, empty);
