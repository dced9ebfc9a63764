// The bots vocabulary every layer shares: the API's bots module serves `BotSummary`, main's tray and
// notifications read it, the renderer's bots page shows it.
import { z } from 'zod';
import { ExchangeId } from './exchanges.ts';
import { RegionId } from './regions.ts';

/**
 * Where a bot is in its life, as the API reports it.
 * `deploying`: an instance is being provisioned or restarted; `online`: its instance trades and reports;
 * `paused`: its instance runs but opens nothing new; `offline`: its instance stopped reporting;
 * `error`: it cannot run until the user acts (the reason says why); `stopped`: no instance, settings kept.
 */
export const BotState = z.enum(['deploying', 'online', 'paused', 'offline', 'error', 'stopped']);
export type BotState = z.infer<typeof BotState>;

/** An amount in one currency: the quote currency of a linear contract, the base coin of an inverse one. */
export const Money = z.object({
  amount: z.number().finite(),
  currency: z.string().regex(/^[A-Z0-9]{2,10}$/),
});
export type Money = z.infer<typeof Money>;

/** One bot as lists, the tray and notifications show it. */
export const BotSummary = z.object({
  id: z.string().min(1).max(100),
  name: z.string().min(1).max(100),
  state: BotState,
  /** Why the bot is in its state, in words a user can read; null when there is nothing to say. */
  stateReason: z.string().max(500).nullable(),
  region: RegionId,
  exchange: ExchangeId,
  /** The exchange's unified symbol, e.g. `BTC/USDT:USDT`. */
  symbol: z.string().min(1).max(50),
  testnet: z.boolean(),
  /** The last heartbeat the API received from the bot's instance; null before its first. */
  lastHeartbeatAt: z.iso.datetime().nullable(),
  /** Realised and unrealised PnL since 00:00 UTC; null until the bot has reported equity today. */
  pnlToday: Money.nullable(),
  /** False when the bot's instance runs without its sandbox (a local stack without bubblewrap or root). */
  sandboxed: z.boolean(),
});
export type BotSummary = z.infer<typeof BotSummary>;
