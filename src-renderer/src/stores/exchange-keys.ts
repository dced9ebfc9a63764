import { create } from 'zustand';
import type { DeletedExchangeKey, ExchangeKeyView } from '../../../src-shared/exchange-keys.ts';
import { openKeyExchange } from '../../../src-shared/exchanges.ts';
import type { AddedExchangeKey, AddExchangeKeyInput } from '../../../src-shared/ipc-exchange-keys.ts';
import type { Notice } from '../../../src-shared/ipc-identity.ts';
import { ok, type Result } from '../../../src-shared/result.ts';
import { callMain } from '../bridge.ts';
import { guardedLoad, type Load } from './load.ts';
import { notConfirmed, sensitive, useReverificationStore } from './reverification.ts';
import { resetOnUserChange } from './identity.ts';

/**
 * The user's exchange keys as the API shows them: labels and masked hints. The secret of a key being
 * added passes through `add` as an argument and is never kept here.
 */
interface KeysState {
  keys: ExchangeKeyView[];
  load: Load;
  loadKeys(): Promise<void>;
  /**
   * Checks the key with the exchange, seals it and stores it. When the API wants "Confirm it's you" first,
   * main holds the checked key: after the user confirms, only its pending id goes back to main.
   */
  add(input: AddExchangeKeyInput): Promise<Result<AddedExchangeKey>>;
  rename(id: string, label: string): Promise<Result<ExchangeKeyView>>;
  setActive(id: string, active: boolean): Promise<Result<ExchangeKeyView>>;
  remove(id: string): Promise<Result<DeletedExchangeKey>>;
}

const replace = (keys: ExchangeKeyView[], key: ExchangeKeyView) => keys.map((k) => (k.id === key.id ? key : k));

const empty = (): Pick<KeysState, 'keys' | 'load'> => ({ keys: [], load: { state: 'idle' } });

export const useExchangeKeysStore = create<KeysState>((set, get) => ({
  ...empty(),
  loadKeys: () =>
    guardedLoad(
      get().load,
      () => callMain((p) => p.exchangeKeys.list()),
      (load, keys) => set(keys ? { load, keys } : { load }),
    ),
  async add(input) {
    let outcome = await callMain((p) => p.exchangeKeys.add(input));
    for (;;) {
      if (!outcome.ok) return outcome;
      if (outcome.value.state === 'added') {
        const added = outcome.value;
        set((s) => ({ keys: [...s.keys.filter((k) => k.id !== added.key.id), added.key] }));
        return ok(added);
      }
      const { pendingId } = outcome.value;
      if (!(await useReverificationStore.getState().confirm())) {
        // Main forgets the held key now rather than when it expires.
        void callMain((p) => p.exchangeKeys.discardAdd({ pendingId }));
        return notConfirmed();
      }
      outcome = await callMain((p) => p.exchangeKeys.resumeAdd({ pendingId }));
    }
  },
  async rename(id, label) {
    const result = await callMain((p) => p.exchangeKeys.rename({ id, label }));
    if (result.ok) set((s) => ({ keys: replace(s.keys, result.value) }));
    return result;
  },
  async setActive(id, active) {
    const result = await callMain((p) => p.exchangeKeys.setActive({ id, active }));
    if (result.ok) set((s) => ({ keys: replace(s.keys, result.value) }));
    return result;
  },
  async remove(id) {
    const result = await sensitive(() => callMain((p) => p.exchangeKeys.remove({ id })));
    if (result.ok) set((s) => ({ keys: s.keys.filter((k) => k.id !== id) }));
    return result;
  },
}));

// Another account's keys must never show: forget them whenever the signed-in user changes.
resetOnUserChange(useExchangeKeysStore, empty);

/** What to tell the user about a key just added; a key nobody could check for withdrawals says so plainly. */
export function addedNotice({ key, withdrawals }: AddedExchangeKey): Omit<Notice, 'id'> {
  if (withdrawals === 'off') return { level: 'info', title: 'Key added', body: `“${key.label}” is sealed and stored.` };
  const exchange = openKeyExchange(key.exchange).name;
  return {
    level: 'warning',
    title: 'Key added: withdrawals not checked yet',
    body: `“${key.label}” is sealed and stored, but ${exchange} would not tell this computer whether the key can withdraw funds. Your bot checks it from its region before it trades, and refuses to trade if withdrawals are on.`,
  };
}
