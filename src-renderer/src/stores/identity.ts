import { create, type StoreApi } from 'zustand';
import type { HandoffPurpose } from '../../../src-shared/identity.ts';
import type { IdentityState, PasskeyFlow } from '../../../src-shared/ipc-identity.ts';
import { ok, type Result } from '../../../src-shared/result.ts';
import { bridge, callMain, NO_BRIDGE } from '../bridge.ts';

type Boot = { state: 'loading' } | { state: 'ready' } | { state: 'error'; message: string };

/** Why the app is back on the sign-in screen when the user did not ask, in the user's words. */
const SIGNED_OUT_BECAUSE = {
  revoked: 'This device was signed out from another device. Sign in again to continue.',
  expired: 'Your session expired. Sign in again to continue.',
} as const;

interface IdentityStoreState {
  boot: Boot;
  identity: IdentityState | null;
  signedOutNotice: string | null;
  /** The passkey hand-off waiting on the browser, if any. */
  passkeyFlow: PasskeyFlow | null;
  /** Subscribes to main's identity events and loads the current state; returns the unsubscribe. */
  connect(): () => void;
  register(email: string, password: string): Promise<Result<IdentityState>>;
  signIn(email: string, password: string): Promise<Result<IdentityState>>;
  /** `forgetDevice`: also erase this account's trades copy and cached backtests from this computer. */
  signOut(options?: { forgetDevice: boolean }): Promise<Result<IdentityState>>;
  reverifyPassword(password: string): Promise<Result<IdentityState>>;
  /** Removing the password changes how the user signs in, so the answer is the new state. */
  removePassword(): Promise<Result<IdentityState>>;
  /** Starts a passkey hand-off and settles when it ends: completed, failed or cancelled. */
  runPasskeyFlow(purpose: HandoffPurpose): Promise<Result<PasskeyFlow>>;
  cancelPasskeyFlow(): Promise<void>;
}

/** The reason stays on screen until the user signs in again, or signs out on purpose. */
function noticeFor(next: IdentityState, current: Pick<IdentityStoreState, 'identity' | 'signedOutNotice'>): string | null {
  if (next.state === 'signedIn') return null;
  if (next.reason) return SIGNED_OUT_BECAUSE[next.reason];
  return current.identity?.state === 'signedIn' ? null : current.signedOutNotice;
}

const isOver = (flow: PasskeyFlow) => flow.state !== 'waiting';
/** Callers of runPasskeyFlow, waiting for their flow to end. */
const flowWaiters = new Map<string, (flow: PasskeyFlow) => void>();
/** Flows that ended while a start call was still out (an event can overtake its answer). */
const endedEarly = new Map<string, PasskeyFlow>();
let startsOut = 0;

export const useIdentityStore = create<IdentityStoreState>((set, get) => {
  const apply = (identity: IdentityState) =>
    set((s) => ({ identity, boot: { state: 'ready' }, signedOutNotice: noticeFor(identity, s) }));
  const applying = async (pending: Promise<Result<IdentityState>>): Promise<Result<IdentityState>> => {
    const result = await pending;
    if (result.ok) apply(result.value);
    return result;
  };
  const flowEnded = (flow: PasskeyFlow) => {
    if (get().passkeyFlow?.flowId === flow.flowId) set({ passkeyFlow: null });
    const waiter = flowWaiters.get(flow.flowId);
    if (waiter) {
      flowWaiters.delete(flow.flowId);
      waiter(flow);
    } else if (startsOut > 0) endedEarly.set(flow.flowId, flow);
  };

  return {
    boot: { state: 'loading' },
    identity: null,
    signedOutNotice: null,
    passkeyFlow: null,
    connect() {
      const plutarc = bridge();
      if (!plutarc) {
        set({ boot: { state: 'error', message: NO_BRIDGE.message } });
        return () => {};
      }
      const unsubscribers = [
        plutarc.identity.onState(apply),
        plutarc.identity.onPasskeyFlow((flow) => {
          if (isOver(flow)) flowEnded(flow);
          else if (get().passkeyFlow?.flowId === flow.flowId) set({ passkeyFlow: flow });
        }),
      ];
      void plutarc.identity.state().then((result) => {
        if (result.ok) apply(result.value);
        else set({ boot: { state: 'error', message: result.message } });
      });
      return () => unsubscribers.forEach((unsubscribe) => unsubscribe());
    },
    register: (email, password) => applying(callMain((p) => p.identity.register({ email, password }))),
    signIn: (email, password) => applying(callMain((p) => p.identity.signIn({ email, password }))),
    signOut: (options) => applying(callMain((p) => p.identity.signOut(options))),
    reverifyPassword: (password) => applying(callMain((p) => p.identity.reverifyPassword({ password }))),
    removePassword: () => applying(callMain((p) => p.identity.removePassword())),
    async runPasskeyFlow(purpose) {
      // One hand-off at a time: main replaces an earlier one, so its caller stops waiting.
      const previous = get().passkeyFlow;
      if (previous) flowEnded({ ...previous, state: 'cancelled' });
      startsOut += 1;
      const started = await callMain((p) => p.identity.startPasskey({ purpose })).finally(() => (startsOut -= 1));
      const early = started.ok ? endedEarly.get(started.value.flowId) : undefined;
      if (startsOut === 0) endedEarly.clear();
      if (!started.ok) return started;
      const flow = started.value;
      if (early) return ok(early);
      if (isOver(flow)) return ok(flow);
      set({ passkeyFlow: flow });
      return ok(await new Promise<PasskeyFlow>((resolve) => flowWaiters.set(flow.flowId, resolve)));
    },
    async cancelPasskeyFlow() {
      const flow = get().passkeyFlow;
      const result = await callMain((p) => p.identity.cancelPasskey());
      // Main says so with an event too; whichever comes first ends the wait.
      if (result.ok && result.value) flowEnded(result.value);
      else if (flow) flowEnded({ ...flow, state: 'cancelled' });
    },
  };
});

export const selectUser = (s: IdentityStoreState) => (s.identity?.state === 'signedIn' ? s.identity.user : null);

/** Another account's data must never show: puts `store` back to `initial()` whenever the signed-in user changes. */
export function resetOnUserChange<S>(store: Pick<StoreApi<S>, 'setState'>, initial: () => Partial<S>): void {
  useIdentityStore.subscribe((state, previous) => {
    if (selectUser(state)?.id !== selectUser(previous)?.id) store.setState(initial());
  });
}
