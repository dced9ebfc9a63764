// What plutarc tells the user outside its window: the kinds of native notification, the user's
// switches for them (the Settings page), and where a click on one leads.
import { z } from 'zod';

/** Each kind can be switched off on its own. */
export const NotificationKind = z.enum([
  'bot-online',
  'bot-offline',
  'bot-error',
  'bot-stopped',
  'daily-loss-limit',
  'bot-restarted',
  'key-check-failed',
  'new-sign-in',
]);
export type NotificationKind = z.infer<typeof NotificationKind>;

/** The Settings page's words for each kind. */
export const NOTIFICATION_KIND_LABELS: Readonly<Record<NotificationKind, string>> = {
  'bot-online': 'A bot is online after deploy',
  'bot-offline': 'A bot went offline',
  'bot-error': 'A bot is in error',
  'bot-stopped': 'A bot stopped',
  'daily-loss-limit': 'A bot hit its daily loss limit',
  'bot-restarted': 'A bot was restarted after a crash',
  'key-check-failed': "A key failed its check in the bot's region",
  'new-sign-in': 'A new sign-in on another device',
};

export const NotificationSettings = z
  .object({
    /** Kinds the user switched off; every other kind is on. */
    off: z.array(NotificationKind).max(NotificationKind.options.length),
    /** While set and in the future, nothing is shown ("mute all for an hour"). */
    mutedUntil: z.iso.datetime().nullable(),
  })
  .strict();
export type NotificationSettings = z.infer<typeof NotificationSettings>;

export const DEFAULT_NOTIFICATION_SETTINGS: NotificationSettings = { off: [], mutedUntil: null };

/** Where the window opens when the user clicks a notification or a tray item. */
export const WindowTarget = z.discriminatedUnion('page', [
  z.object({ page: z.literal('home') }),
  z.object({ page: z.literal('bots') }),
  /** `confirmStop`: the tray's Stop: the bot's page asks the user to confirm before anything stops. */
  z.object({ page: z.literal('bot'), botId: z.string().min(1).max(100), confirmStop: z.boolean().optional() }),
  z.object({ page: z.literal('security') }),
  z.object({ page: z.literal('settings') }),
]);
export type WindowTarget = z.infer<typeof WindowTarget>;

/** The window's address for a target: `#/bots/<id>`, `#/bots/<id>/stop`, `#/security`, … */
export function windowHash(target: WindowTarget): string {
  if (target.page === 'bot') return `#/bots/${encodeURIComponent(target.botId)}${target.confirmStop ? '/stop' : ''}`;
  return `#/${target.page}`;
}

/** The target an address names, or null for one the app does not know (it then shows its first page). */
export function parseWindowHash(hash: string): WindowTarget | null {
  const parts = hash.replace(/^#\/?/, '').split('/');
  const [page, id, intent] = parts;
  if (page === 'bots' && id) {
    let botId: string;
    try {
      botId = decodeURIComponent(id);
    } catch {
      return null;
    }
    const target = WindowTarget.safeParse({ page: 'bot', botId, ...(intent === 'stop' ? { confirmStop: true } : {}) });
    return target.success && parts.length <= (intent === 'stop' ? 3 : 2) ? target.data : null;
  }
  const target = WindowTarget.safeParse({ page });
  return target.success && parts.length === 1 ? target.data : null;
}

// ---------------------------------------------------------------------------------------------------------
// The signals in the account's event stream that mean more than a state change. Named here, once, so the
// bot, the orchestrator and main's notifications agree on them.
// ---------------------------------------------------------------------------------------------------------

/**
 * The `by` of a bot's decision when its daily loss limit acted: the engine's exit that closes the position
 * (`maxDailyLoss`) and the bot's report of an entry it blocked for that limit (`limit:maxDailyLoss`, role and
 * component as src-bot/trader.ts writes every blocked decision).
 */
export const DAILY_LOSS_LIMIT_BY = 'maxDailyLoss';
const DAILY_LOSS_LIMIT_BLOCK = `limit:${DAILY_LOSS_LIMIT_BY}`;

/** True when a report says the bot hit its daily loss limit (an exit or a blocked entry for that limit). */
export function reportsDailyLossLimit(report: { kind: string; by?: string | null }): boolean {
  return report.kind === 'decision' && (report.by === DAILY_LOSS_LIMIT_BY || report.by === DAILY_LOSS_LIMIT_BLOCK);
}

/** The codes of a bot's `error` report when the exchange key failed its check from the bot's own region. */
export const KEY_CHECK_FAILURE_CODES: readonly string[] = ['key_can_withdraw', 'key_cannot_trade', 'key_refused'];

/**
 * The orchestrator marks a bot `deploying` with "restarting after crash <n>" when it starts a crashed bot's
 * instance again (src-orchestrator/reconciler.ts); a first deploy says "starting an instance".
 */
const RESTART_AFTER_CRASH = /^restarting after crash \d+/;

/** True for the move to `deploying` that restarts a crashed bot, as opposed to the user's own deploy. */
export function isRestartAfterCrash(to: string, reason: string | null): boolean {
  return to === 'deploying' && reason !== null && RESTART_AFTER_CRASH.test(reason);
}
