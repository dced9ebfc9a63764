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
  z.object({ page: z.literal('bot'), botId: z.string().min(1).max(100) }),
  z.object({ page: z.literal('security') }),
]);
export type WindowTarget = z.infer<typeof WindowTarget>;
