import type { tradesInvokeContract } from '../../../src-shared/ipc-trades.ts';
import type { Handlers } from '../dispatch.ts';
import type { TradesService } from './trades-service.ts';

export type TradesHandlers = Pick<Handlers, keyof typeof tradesInvokeContract>;

/** The trades channels: answered from the account's local copy (the detail from the API when it answers). */
export function tradesHandlers(trades: TradesService): TradesHandlers {
  return {
    'trades.window': (input) => trades.window(input),
    'trades.summary': (input) => trades.summary(input.filter),
    'trades.facets': () => trades.facets(),
    'trades.detail': (input) => trades.detail(input.id),
    'trades.syncState': () => trades.syncState(),
    'trades.syncNow': () => trades.syncNow(),
  };
}
