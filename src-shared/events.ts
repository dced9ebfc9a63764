// The events of a user's account that reach their devices over `GET /v1/events` (server-sent events).
// One kind per entry of ACCOUNT_EVENT_KINDS: a new kind (a bot's state, a trade, a key) is added there,
// and the API's stream, main's event service and every switch over `type` learn of it from the union.
import { z } from 'zod';
import { SignInMethod } from './identity.ts';
import { InstanceStatus, ReportBody } from './bot-instance.ts';
import { BotState, BotSummary } from './bots.ts';

const at = z.string();

const ACCOUNT_EVENT_KINDS = [
  z.object({ type: z.literal('session.created'), sessionId: z.string(), deviceLabel: z.string(), method: SignInMethod, ip: z.string(), at }),
  // `accountDeleted`: the session ended because the account was deleted, so the device erases what it kept of it.
  z.object({ type: z.literal('session.revoked'), sessionId: z.string(), accountDeleted: z.literal(true).optional(), at }),
  // Sent only on the expiring session's own stream, just before it ends; never stored.
  z.object({ type: z.literal('session.expired'), sessionId: z.string(), at }),
  // What a bot's instance reported (a decision, order, fill, position, equity or error), once each, in its order.
  z.object({ type: z.literal('bot.report'), botId: z.string(), instanceId: z.string(), seq: z.number().int(), report: ReportBody, at }),
  // An instance's status changed (heartbeats that change nothing send nothing).
  z.object({ type: z.literal('bot.status'), botId: z.string(), instanceId: z.string(), status: InstanceStatus, reason: z.string().nullable(), at }),
  // A bot was created, edited or changed state: its whole summary, so lists, the tray and notifications need no fetch.
  z.object({ type: z.literal('bot.state'), bot: BotSummary, from: BotState.nullable(), reason: z.string().nullable(), at }),
  // The instance is alive: at most one per bot every 10 s (the summary's lastHeartbeatAt moves with it).
  z.object({ type: z.literal('bot.heartbeat'), botId: z.string(), at }),
  z.object({ type: z.literal('bot.deleted'), botId: z.string(), at }),
] as const;

export const AccountEvent = z.discriminatedUnion('type', ACCOUNT_EVENT_KINDS);
export type AccountEvent = z.infer<typeof AccountEvent>;
export type AccountEventType = AccountEvent['type'];
/** The event of one kind, e.g. `AccountEventOf<'session.revoked'>`. */
export type AccountEventOf<T extends AccountEventType> = Extract<AccountEvent, { type: T }>;
