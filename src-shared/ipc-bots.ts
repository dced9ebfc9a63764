import { z } from 'zod';
import { ReportBody } from './bot-instance.ts';
import { BotDetail, BotHistoryPage, BotHistoryQuery, BotIdParam, BotState, BotSummary, CreateBotRequest, UpdateBotRequest } from './bots.ts';
import { RegionId } from './regions.ts';

/**
 * The bots part of the IPC contract. Main keeps a live model of the account's bots (the list on sign-in, then
 * the event stream) and pushes each change; the bot page asks main to watch a bot, and main pushes that bot's
 * new reports as they arrive. Settings and actions go to the API through main; create and deploy may need
 * "Confirm it's you" first (assigning a key lets it trade), which the renderer answers and then retries.
 */

const NoInput = z.undefined();
const ById = z.strictObject({ id: BotIdParam.shape.id });

/** A change to the account's bots, as main's model learns it; `from` equal to the bot's state means no transition (a heartbeat, an edit). */
export const BotsChangeEvent = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('reset'), bots: z.array(BotSummary) }),
  z.object({ kind: z.literal('updated'), bot: BotSummary, from: BotState.nullable(), reason: z.string().max(500).nullable() }),
  z.object({ kind: z.literal('removed'), botId: z.string().min(1).max(100) }),
]);
export type BotsChangeEvent = z.infer<typeof BotsChangeEvent>;

/** One report of a watched bot, as the instance sent it: `seq` orders it within its instance. */
export const BotReportEvent = z.object({
  botId: z.string().min(1).max(100),
  instanceId: z.string().min(1).max(100),
  seq: z.number().int(),
  report: ReportBody,
  at: z.string().max(40),
});
export type BotReportEvent = z.infer<typeof BotReportEvent>;

/** How many reports a history page holds when the caller does not say. */
export const BOT_HISTORY_PAGE = 100;
export const BotHistoryInput = z.strictObject({
  id: BotIdParam.shape.id,
  kind: BotHistoryQuery.shape.kind,
  before: BotHistoryQuery.shape.before,
  limit: z.number().int().min(1).max(500).optional(),
});
export type BotHistoryInput = z.input<typeof BotHistoryInput>;

export const UpdateBotInput = z.strictObject({ id: BotIdParam.shape.id, changes: UpdateBotRequest });
export type UpdateBotInput = z.input<typeof UpdateBotInput>;

export const DeployBotInput = z.strictObject({ id: BotIdParam.shape.id, region: RegionId });

export const DeletedBot = z.object({ id: z.string().min(1).max(100) });
export type DeletedBot = z.infer<typeof DeletedBot>;

export const botsInvokeContract = {
  /** The account's bots as main's live model holds them (fetched first if it has not yet). */
  'bots.list': { input: NoInput, output: z.array(BotSummary) },
  'bots.get': { input: ById, output: BotDetail },
  'bots.history': { input: BotHistoryInput, output: BotHistoryPage },
  'bots.create': { input: CreateBotRequest, output: BotDetail },
  'bots.update': { input: UpdateBotInput, output: BotDetail },
  'bots.remove': { input: ById, output: DeletedBot },
  'bots.deploy': { input: DeployBotInput, output: BotDetail },
  'bots.pause': { input: ById, output: BotDetail },
  'bots.resume': { input: ById, output: BotDetail },
  'bots.stop': { input: ById, output: BotDetail },
  /** The bot page is open: main pushes the bot's new reports (`bots.onReport`) until `bots.unwatch`. */
  'bots.watch': { input: ById, output: z.object({ watching: z.boolean() }) },
  'bots.unwatch': { input: ById, output: z.object({ watching: z.boolean() }) },
} as const satisfies Record<string, { input: z.ZodType; output: z.ZodType }>;

export const botsEventContract = {
  'bots.onChange': BotsChangeEvent,
  'bots.onReport': BotReportEvent,
} as const satisfies Record<string, z.ZodType>;
