import type { exchangeKeysInvokeContract } from '../../../src-shared/ipc-exchange-keys.ts';
import type { Handlers } from '../dispatch.ts';
import type { ExchangeKeysService } from './exchange-keys-service.ts';

export type ExchangeKeysHandlers = Pick<Handlers, keyof typeof exchangeKeysInvokeContract>;

/** The exchange-key channels. `add` takes the secret in, once; no channel ever gives it, or the whole API key, back. */
export function exchangeKeysHandlers(keys: ExchangeKeysService): ExchangeKeysHandlers {
  return {
    'exchangeKeys.list': () => keys.list(),
    'exchangeKeys.add': (input) => keys.add(input),
    'exchangeKeys.resumeAdd': (input) => keys.resumeAdd(input.pendingId),
    'exchangeKeys.discardAdd': (input) => keys.discardAdd(input.pendingId),
    'exchangeKeys.rename': (input) => keys.rename(input.id, input.label),
    'exchangeKeys.setActive': (input) => keys.setActive(input.id, input.active),
    'exchangeKeys.remove': (input) => keys.remove(input.id),
  };
}
