import { create } from 'zustand';
import { IdentityErrorCode } from '../../../src-shared/errors.ts';
import { fail, type Result } from '../../../src-shared/result.ts';
import { useIdentityStore } from './identity.ts';

/** What a sensitive action answers when the user closed "Confirm it's you" instead: nothing to report. */
export const REVERIFICATION_CANCELLED = IdentityErrorCode.enum.reverification_cancelled;

interface ReverificationState {
  /** True while "Confirm it's you" is open for one or more sensitive actions. */
  asking: boolean;
  /**
   * Runs a sensitive action. When the API answers `reverification_required`, asks the user to confirm
   * it's them, then runs the action once more; if they cancel, answers REVERIFICATION_CANCELLED.
   */
  sensitive<T>(action: () => Promise<Result<T>>): Promise<Result<T>>;
  /** Opens "Confirm it's you" and settles with the user's answer: confirmed (true) or gave up (false). */
  confirm(): Promise<boolean>;
  /** The dialog's answer: the user confirmed (true) or gave up (false). */
  settle(confirmed: boolean): void;
}

/** Every action waiting on the one dialog; confirming once lets them all go on. */
let waiting: ((confirmed: boolean) => void)[] = [];

export const useReverificationStore = create<ReverificationState>((set, get) => ({
  asking: false,
  async sensitive<T>(action: () => Promise<Result<T>>): Promise<Result<T>> {
    const first = await action();
    if (first.ok || first.code !== IdentityErrorCode.enum.reverification_required) return first;
    return (await get().confirm()) ? action() : notConfirmed();
  },
  confirm() {
    return new Promise<boolean>((resolve) => {
      waiting.push(resolve);
      set({ asking: true });
    });
  },
  settle(confirmed) {
    const settled = waiting;
    waiting = [];
    set({ asking: false });
    for (const resolve of settled) resolve(confirmed);
  },
}));

/** What an action answers when the user did not confirm it was them. */
export const notConfirmed = (): Result<never> => fail(REVERIFICATION_CANCELLED, 'You did not confirm it was you, so nothing changed.');

/** Runs a sensitive action, asking the user to confirm it's them when the API wants that first. */
export const sensitive = <T>(action: () => Promise<Result<T>>): Promise<Result<T>> => useReverificationStore.getState().sensitive(action);

export const isCancelled = (result: Result<unknown>): boolean => !result.ok && result.code === REVERIFICATION_CANCELLED;

/** What to tell the user about a result: its message if it failed, nothing if it worked or they cancelled. */
export const errorOf = (result: Result<unknown>): string | null => (result.ok || isCancelled(result) ? null : result.message);

// Signed out (here or from elsewhere) while the dialog is open: the actions behind it cannot go on.
useIdentityStore.subscribe((state, previous) => {
  if (previous.identity?.state === 'signedIn' && state.identity?.state !== 'signedIn' && useReverificationStore.getState().asking) {
    useReverificationStore.getState().settle(false);
  }
});
