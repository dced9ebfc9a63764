// The pure parts of the bots module: how an instance's status maps to the bot's state, what the user's
// desired state reads as, a perpetual's contract and settlement currency, and the day's PnL from equity.
import type { ContractType } from '../../../src-shared/exchanges.ts';
import type { DesiredState, InstanceStatus } from '../../../src-shared/bot-instance.ts';
import type { BotDetail, BotState, Money } from '../../../src-shared/bots.ts';
import type { InstanceExitRecord } from '../../../src-shared/orchestration.ts';
import type { z } from 'zod';

/**
 * The bot state a heartbeat's instance status means, with the reason to record; null when the status says
 * nothing new about the bot (an instance stopping or stopped is the orchestrator's to report).
 */
export function stateOfHeartbeat(status: InstanceStatus, reason: string | null): { state: BotState; reason: string } | null {
  switch (status) {
    case 'starting':
      return { state: 'deploying', reason: 'The instance is starting.' };
    case 'running':
      return { state: 'online', reason: 'Heartbeats are arriving.' };
    case 'paused':
      return { state: 'paused', reason: 'Paused: no new positions; exits are still managed.' };
    case 'error':
      return { state: 'error', reason: reason ?? 'The bot reported an error.' };
    case 'stopping':
    case 'stopped':
      return null;
  }
}

/** What the user asked for, in the words of the bot page. */
export const desiredForUser = (desired: DesiredState): BotDetail['desired'] => (desired === 'stopping' ? 'stopped' : desired);

/** The parts of a ccxt perpetual symbol `BASE/QUOTE:SETTLE`. */
function symbolParts(symbol: string): { base: string; quote: string; settle: string } {
  const match = /^([A-Z0-9]+)\/([A-Z0-9]+):([A-Z0-9]+)$/.exec(symbol);
  if (!match) throw new Error(`not a perpetual symbol: ${symbol}`);
  return { base: match[1]!, quote: match[2]!, settle: match[3]! };
}

/** Settled in the quote currency: linear; settled in the base coin: inverse. */
export function contractOf(symbol: string): ContractType | null {
  const { base, quote, settle } = symbolParts(symbol);
  if (settle === quote) return 'linear';
  if (settle === base) return 'inverse';
  return null;
}

export const settlementCurrency = (symbol: string): string => symbolParts(symbol).settle;

/** Midnight UTC of the day `now` falls in, as epoch ms. */
export const startOfUtcDay = (now: Date): number => Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());

/**
 * PnL since 00:00 UTC: the latest equity today against the last equity before midnight, or against the day's
 * first when the bot reported none before (it started today). Null when nothing was reported today.
 */
export function pnlToday(equity: { before: number | null; first: number | null; last: number | null }, currency: string): Money | null {
  if (equity.last === null || equity.first === null) return null;
  const baseline = equity.before ?? equity.first;
  return { amount: equity.last - baseline, currency };
}

/** Why an instance ended, in words the bot page shows. */
export function crashReason(exit: z.infer<typeof InstanceExitRecord>): string {
  if (exit.startFailure) return `It could not start: ${exit.startFailure}`;
  if (exit.oomKilled) return 'It ran out of memory and was stopped.';
  if (exit.signal) return `It was ended by signal ${exit.signal}.`;
  return `It exited with code ${exit.code ?? 'unknown'}.`;
}
