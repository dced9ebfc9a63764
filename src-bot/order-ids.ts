// Client order ids: a pure function of the run and what the order is for, so an instance that restarts, or
// retries after losing an answer, names the same order the same way and the exchange refuses a second one.
import { createHash } from 'node:crypto';

const hex = (text: string, length: number) => createHash('sha256').update(text, 'utf8').digest('hex').slice(0, length);

/** What an order is for: an entry or exit decided at a candle close, or a close the bot itself asks for. */
export type OrderPurpose =
  | { kind: 'enter' | 'exit'; decidedAt: number }
  | { kind: 'stop'; instanceId: string }
  | { kind: 'reconcile'; instanceId: string; attempt: number };

/** The prefix every order of a run starts with, so the bot knows its own orders among a key's others. */
export const runOrderPrefix = (runId: string): string => `pl${hex(`run:${runId}`, 8)}`;

/**
 * 32 characters of `[a-z0-9-]`: within Binance's 36, Bybit's 36 and Kraken Futures' 100, and in every one's
 * alphabet.
 */
export function clientOrderId(runId: string, purpose: OrderPurpose): string {
  const what =
    purpose.kind === 'stop'
      ? `stop:${purpose.instanceId}`
      : purpose.kind === 'reconcile'
        ? `reconcile:${purpose.instanceId}:${purpose.attempt}`
        : `${purpose.kind}:${purpose.decidedAt}`;
  return `${runOrderPrefix(runId)}-${hex(`${runId}|${what}`, 21)}`;
}
