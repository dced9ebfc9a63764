// The bots vocabulary every layer shares: the API's bots module serves `BotSummary`, main's tray and
// notifications read it, the renderer's bots page shows it.
import { z } from 'zod';
import { BotTradingConfig, ReportBody } from './bot-instance.ts';
import { KeyRecordId } from './exchange-keys.ts';
import { ExchangeId } from './exchanges.ts';
import { userGivenName } from './names.ts';
import { RegionId } from './regions.ts';
import { TemplateId, TemplateVersion } from './templates-api.ts';

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
  keyRecordId: z.string().min(1).max(100),
  /** The key's label and masked hint, as the keys page shows them. */
  keyLabel: z.string().max(200),
  templateName: z.string().max(200),
  templateVersion: z.number().int().min(1),
});
export type BotSummary = z.infer<typeof BotSummary>;

// ---------------------------------------------------------------------------------------------------------
// The bots API (`/v1/bots…`, user sessions). The API module `bots` serves these; main's bots service and
// the renderer's bots pages consume them.
// ---------------------------------------------------------------------------------------------------------

export const BotName = userGivenName('Give the bot a name.');
export const BotIdParam = z.object({ id: z.string().min(1).max(100) });

/** The settings a user picks for a bot (create and edit). The API copies the template version's body into the bot. */
export const BotSettings = BotTradingConfig.pick({
  symbol: true,
  timeframe: true,
  equityPercent: true,
  leverage: true,
  marginMode: true,
  limits: true,
  testnet: true,
  onStop: true,
  reconcile: true,
}).extend({
  name: BotName,
  templateId: TemplateId,
  templateVersion: TemplateVersion,
  keyRecordId: KeyRecordId,
  /** The region it deploys to (changed again at each deploy). */
  region: RegionId,
});
export type BotSettings = z.infer<typeof BotSettings>;

/** `POST /v1/bots`: creates a stopped bot. Assigning the key lets it trade, so this needs a reverified session. */
export const CreateBotRequest = BotSettings;
/** `PATCH /v1/bots/:id`: any subset; a new key needs reverification and no open position. */
export const UpdateBotRequest = BotSettings.partial();
/** `POST /v1/bots/:id/deploy` (reverified): starts a new run in the region. */
export const DeployBotRequest = z.strictObject({ region: RegionId });

/** One change of state, as it is kept: when, from what, to what, and why. */
export const BotTransition = z.object({
  at: z.iso.datetime(),
  from: BotState.nullable(),
  to: BotState,
  reason: z.string().max(500),
});
export type BotTransition = z.infer<typeof BotTransition>;

/** One deployment: where it ran, on what, with which template version, and how it ended. */
export const BotRun = z.object({
  id: z.string().min(1).max(100),
  region: RegionId,
  /** The compute driver that ran it (`local`, `docker`, `kubernetes`, `fly`); null until an instance was provisioned. */
  driver: z.string().max(40).nullable(),
  /** The instances of the run, oldest first (a crash and restart makes another). */
  instanceIds: z.array(z.string().max(100)),
  templateId: TemplateId,
  templateVersion: TemplateVersion,
  startedAt: z.iso.datetime(),
  stoppedAt: z.iso.datetime().nullable(),
  stopReason: z.string().max(500).nullable(),
});
export type BotRun = z.infer<typeof BotRun>;

/** The bot page: the summary and everything the user set, plus its history of states and runs. */
export const BotDetail = z.object({
  summary: BotSummary,
  settings: BotSettings,
  /** What the user asked for: run it, run it without new entries, or stop it. */
  desired: z.enum(['running', 'paused', 'stopped']),
  /** Newest first, at most 100. */
  transitions: z.array(BotTransition),
  /** Newest first. */
  runs: z.array(BotRun),
  /** Why the instance runs without its sandbox, limits or network allowlist; empty when all are on. */
  isolationWarnings: z.array(z.string().max(300)),
});
export type BotDetail = z.infer<typeof BotDetail>;

export const BotList = z.object({ bots: z.array(BotSummary) });
export type BotList = z.infer<typeof BotList>;

/** `GET /v1/bots/:id/history?kind=&before=&limit=`: what the bot reported, newest first, a page at a time. */
export const BotHistoryQuery = z.strictObject({
  kind: z.enum(['decision', 'order', 'fill', 'position', 'equity', 'error', 'reports_lost']).optional(),
  /** The cursor of the last page's end. */
  before: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export const BotHistoryItem = z.object({
  runId: z.string(),
  instanceId: z.string(),
  seq: z.number().int(),
  report: ReportBody,
});
export type BotHistoryItem = z.infer<typeof BotHistoryItem>;
export const BotHistoryPage = z.object({ items: z.array(BotHistoryItem), nextBefore: z.string().nullable() });
export type BotHistoryPage = z.infer<typeof BotHistoryPage>;

/** Refusals of the bots module, each with words that say what to do. */
export const BOT_PROBLEMS = {
  keyAssigned: 'bot_key_assigned', // the key already serves another bot
  keyInactive: 'bot_key_inactive', // the key is switched off
  keyHasPosition: 'bot_key_position_open', // key change while the bot holds a position
  notStopped: 'bot_not_stopped', // edit of running settings / delete while it runs
  alreadyRunning: 'bot_already_running', // deploy while a run is live
  notRunning: 'bot_not_running', // pause, resume or stop with no live run
  templateInvalid: 'bot_template_invalid',
} as const;
