// The tray and notifications part of the IPC contract: the Settings page's switches (persisted by main),
// the tray's state as the app's header shows it, and, where the host has no OS notifications (the browser
// host), the notifications main decided on, for the page to show through the web Notification API.
import { z } from 'zod';
import { BotSummary } from './bots.ts';
import { NotificationKind, NotificationSettings, WindowTarget } from './notifications.ts';

const NoInput = z.undefined();

/** "Start at login": `supported` is false where the host cannot start plutarc at login (the browser host). */
export const StartAtLoginSetting = z.object({ supported: z.boolean(), enabled: z.boolean() });
export type StartAtLoginSetting = z.infer<typeof StartAtLoginSetting>;

/** Everything the Settings page shows. */
export const AppSettings = z.object({
  notifications: NotificationSettings,
  startAtLogin: StartAtLoginSetting,
});
export type AppSettings = z.infer<typeof AppSettings>;

/** The tray's icon variants: every bot online, something paused or deploying, something offline or in error, the API out of reach, nothing running. */
export const TrayIconName = z.enum(['all-online', 'paused-or-deploying', 'offline-or-error', 'api-unreachable', 'no-bots']);
export type TrayIconName = z.infer<typeof TrayIconName>;

/** One bot as the header's status panel lists it. */
export const TrayBot = BotSummary.pick({ id: true, name: true, state: true, stateReason: true, region: true, pnlToday: true });
export type TrayBot = z.infer<typeof TrayBot>;

/** The tray's state, for the header's status panel: the same model the desktop's tray draws. */
export const TrayStatus = z.object({
  icon: TrayIconName,
  connection: z.enum(['reachable', 'unreachable', 'signed-out']),
  /** "3 online · 1 offline"; empty with no bots. */
  counts: z.string().max(200),
  tooltip: z.string().max(200),
  bots: z.array(TrayBot).max(10_000),
});
export type TrayStatus = z.infer<typeof TrayStatus>;

/** A notification main decided to show; `summary` stands for a burst held back by the rate limit. */
export const ShownNotification = z.object({
  id: z.string().min(1).max(100),
  kind: z.union([NotificationKind, z.literal('summary')]),
  title: z.string().max(300),
  body: z.string().max(1000),
  opens: WindowTarget,
  urgent: z.boolean(),
});
export type ShownNotification = z.infer<typeof ShownNotification>;

export const trayInvokeContract = {
  'settings.get': { input: NoInput, output: AppSettings },
  'settings.setNotificationKind': { input: z.strictObject({ kind: NotificationKind, enabled: z.boolean() }), output: AppSettings },
  'settings.muteForAnHour': { input: NoInput, output: AppSettings },
  'settings.unmute': { input: NoInput, output: AppSettings },
  'settings.setStartAtLogin': { input: z.strictObject({ enabled: z.boolean() }), output: AppSettings },
  'tray.status': { input: NoInput, output: TrayStatus },
} as const satisfies Record<string, { input: z.ZodType; output: z.ZodType }>;

export const trayEventContract = {
  'settings.onChange': AppSettings,
  /** At most once per 250 ms, with the tray's own redraw. */
  'tray.onStatus': TrayStatus,
  /** Only where the host shows no OS notifications itself: the page shows these. */
  'notifications.onShow': ShownNotification,
  /** The desktop's tray or a notification asks the open window to show a page. */
  'window.onOpen': WindowTarget,
} as const satisfies Record<string, z.ZodType>;
