// Main's watch over the account's bots for the tray and notifications: it takes the bots from the
// BotsFeed, bot reports and sign-ins from the account's event stream, and the connection from the API
// watch and the session, and drives the tray (at most one redraw per 250 ms) and the notification policy
// (switches, mute, de-duplication, rate limit). Hosts hand in how to draw the tray and show a notification.
import type { z } from 'zod';
import type { BotState, BotSummary } from '../../../src-shared/bots.ts';
import { AccountEvent, type AccountEventOf } from '../../../src-shared/events.ts';
import type { ApiStatus } from '../../../src-shared/ipc.ts';
import type { IdentityState } from '../../../src-shared/ipc-identity.ts';
import type { AppSettings, TrayStatus } from '../../../src-shared/ipc-tray.ts';
import {
  isRestartAfterCrash,
  KEY_CHECK_FAILURE_CODES,
  reportsDailyLossLimit,
  type NotificationKind,
  type NotificationSettings,
  type WindowTarget,
} from '../../../src-shared/notifications.ts';
import { ServiceError } from '../errors.ts';
import type { BotsChange, BotsFeed, Clock } from '../ports.ts';
import { NotificationPolicy, type BotRef, type PlannedNotification, type RateLimit } from './notification-policy.ts';
import type { SettingsFile } from './settings-file.ts';
import { stateCounts, trayConnection, type StartAtLogin, type TrayAction, type TrayModel } from './tray-model.ts';
import { TrayState } from './tray-state.ts';

/** The host's "Start at login" (Electron's login item, an XDG autostart file), or none. */
export interface StartAtLoginPort {
  read(): StartAtLogin;
  set(enabled: boolean): void;
}

export const NO_START_AT_LOGIN: StartAtLoginPort = { read: () => ({ supported: false, enabled: false }), set: () => undefined };

/** Hears the events of the account's stream that one schema accepts (AccountEventStream.subscribe). */
export interface AccountEvents {
  subscribe<S extends z.ZodType>(schema: S, listener: (event: z.output<S>) => void): () => void;
}

export interface TrayCoordinatorOptions {
  clock: Clock;
  feed: BotsFeed;
  accountEvents: AccountEvents;
  settings: SettingsFile;
  startAtLogin: StartAtLoginPort;
  /** Draws the tray and tells the page: at most once per 250 ms, always with the latest state. */
  draw: (model: TrayModel, status: TrayStatus) => void;
  /** Shows a notification the policy let through. */
  show: (notification: PlannedNotification) => void;
  /** The Settings page's state changed (a switch, the mute, start at login). */
  settingsChanged?: (settings: AppSettings) => void;
  limit?: RateLimit;
}

/** The tray actions main carries out itself; the others open the window or quit, which only the host can do. */
export type BotControlAction = Extract<TrayAction, { type: 'pause-bot' | 'resume-bot' | 'set-start-at-login' }>;

export const isBotControl = (action: TrayAction): action is BotControlAction =>
  action.type === 'pause-bot' || action.type === 'resume-bot' || action.type === 'set-start-at-login';

/** Where a tray action opens the window, or null when it is not about the window. */
export function windowTargetOf(action: TrayAction): WindowTarget | null {
  switch (action.type) {
    case 'open-window':
      return { page: 'home' };
    case 'open-bot':
      return { page: 'bot', botId: action.botId };
    case 'confirm-stop-bot':
      return { page: 'bot', botId: action.botId, confirmStop: true };
    default:
      return null;
  }
}

const ref = (bot: BotSummary): BotRef => ({ id: bot.id, name: bot.name, region: bot.region });

export class TrayCoordinator {
  private readonly options: TrayCoordinatorOptions;
  private readonly tray: TrayState;
  private readonly policy: NotificationPolicy;
  /** The bots as last heard, to name a bot a report is about and to know the state it leaves. */
  private readonly bots = new Map<string, BotSummary>();
  private api: ApiStatus['state'] = 'connecting';
  /** This device's session while signed in: a sign-in event with another id is another device. */
  private ownSessionId: string | null = null;
  private unread = 0;
  private latest: TrayStatus | null = null;
  private readonly unsubscribes: (() => void)[] = [];

  constructor(options: TrayCoordinatorOptions) {
    this.options = options;
    this.policy = new NotificationPolicy(options.clock, (notification) => this.shown(notification), {
      settings: options.settings.read().notifications,
      ...(options.limit ? { limit: options.limit } : {}),
    });
    this.tray = new TrayState(options.clock, (model) => this.draw(model), options.startAtLogin.read());
  }

  /** Starts listening: the feed answers at once with the bots it has. */
  start(): void {
    this.unsubscribes.push(
      this.options.feed.subscribe((change) => this.botsChanged(change)),
      this.options.accountEvents.subscribe(AccountEvent, (event) => this.accountEvent(event)),
    );
  }

  stop(): void {
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
    this.tray.dispose();
    this.policy.dispose();
  }

  apiStatusChanged(state: ApiStatus['state']): void {
    this.api = state;
    this.tray.setConnection(this.connection());
  }

  identityChanged(identity: IdentityState): void {
    const session = identity.state === 'signedIn' ? identity.session.id : null;
    if (session === this.ownSessionId) return;
    if (session === null || this.ownSessionId !== null) {
      // Another account (or none) from here on: nothing of this one's bots, sign-ins or alerts carries over.
      this.bots.clear();
      this.policy.reset();
      this.unread = 0;
      this.tray.setUnreadAlerts(0);
    }
    this.ownSessionId = session;
    this.tray.setConnection(this.connection());
  }

  /** The window was seen: the tray's unread count starts again. */
  windowSeen(): void {
    if (this.unread === 0) return;
    this.unread = 0;
    this.tray.setUnreadAlerts(0);
  }

  /** True once per install: the first time the window closes, the host says plutarc keeps running in the tray. */
  takeCloseHint(): boolean {
    const settings = this.options.settings.read();
    if (settings.closeHintShown) return false;
    try {
      this.options.settings.write({ ...settings, closeHintShown: true });
    } catch {
      // Not kept: the hint comes again next time, which is better than never.
    }
    return true;
  }

  status(): TrayStatus {
    return this.latest ?? this.statusOf(this.tray.model());
  }

  settings(): AppSettings {
    return { notifications: this.policy.currentSettings, startAtLogin: this.options.startAtLogin.read() };
  }

  setNotificationKind(kind: NotificationKind, enabled: boolean): AppSettings {
    const { off } = this.policy.currentSettings;
    const next = enabled ? off.filter((k) => k !== kind) : off.includes(kind) ? off : [...off, kind];
    return this.saveNotifications({ ...this.policy.currentSettings, off: next });
  }

  muteForAnHour(): AppSettings {
    const before = this.policy.currentSettings;
    return this.saveNotifications(this.policy.muteForAnHour(), before);
  }

  unmute(): AppSettings {
    return this.saveNotifications({ ...this.policy.currentSettings, mutedUntil: null });
  }

  setStartAtLogin(enabled: boolean): AppSettings {
    if (!this.options.startAtLogin.read().supported) {
      throw new ServiceError('start_at_login_unsupported', 'This system cannot start plutarc at login.');
    }
    this.options.startAtLogin.set(enabled);
    this.tray.setStartAtLogin(this.options.startAtLogin.read());
    return this.announce();
  }

  /** Carries out a tray menu action that main can do itself. */
  async act(action: BotControlAction): Promise<void> {
    switch (action.type) {
      case 'pause-bot':
        return this.options.feed.pause(action.botId);
      case 'resume-bot':
        return this.options.feed.resume(action.botId);
      case 'set-start-at-login':
        this.setStartAtLogin(action.enabled);
        return;
    }
  }

  private connection() {
    return trayConnection(this.api, this.ownSessionId !== null);
  }

  /** Keeps the switches in the settings file, then follows them; a file that cannot be written leaves them as they were. */
  private saveNotifications(notifications: NotificationSettings, before = this.policy.currentSettings): AppSettings {
    try {
      this.options.settings.write({ ...this.options.settings.read(), notifications });
    } catch (error) {
      this.policy.updateSettings(before);
      throw error;
    }
    this.policy.updateSettings(notifications);
    return this.announce();
  }

  private announce(): AppSettings {
    const settings = this.settings();
    this.options.settingsChanged?.(settings);
    return settings;
  }

  private shown(notification: PlannedNotification): void {
    this.unread += 1;
    this.tray.setUnreadAlerts(this.unread);
    this.options.show(notification);
  }

  private draw(model: TrayModel): void {
    const status = this.statusOf(model);
    this.latest = status;
    this.options.draw(model, status);
  }

  private statusOf(model: TrayModel): TrayStatus {
    const connection = this.connection();
    const bots = connection === 'signed-out' ? [] : [...this.bots.values()];
    return {
      icon: model.icon,
      connection,
      counts: stateCounts(bots),
      tooltip: model.tooltip,
      bots: bots.map((bot) => ({ id: bot.id, name: bot.name, state: bot.state, stateReason: bot.stateReason, region: bot.region, pnlToday: bot.pnlToday })),
    };
  }

  private botsChanged(change: BotsChange): void {
    switch (change.kind) {
      case 'reset': {
        const before = new Map(this.bots);
        this.bots.clear();
        for (const bot of change.bots) this.bots.set(bot.id, bot);
        this.tray.setBots(change.bots);
        // A bot that moved while the list was away (a reconnect) is news; one seen for the first time is not.
        for (const bot of change.bots) {
          const was = before.get(bot.id)?.state;
          if (was !== undefined && was !== bot.state) this.consider(bot, was, bot.stateReason);
        }
        return;
      }
      case 'updated': {
        const was = change.from ?? this.bots.get(change.bot.id)?.state ?? null;
        this.bots.set(change.bot.id, change.bot);
        this.tray.updateBot(change.bot);
        this.consider(change.bot, was, change.reason ?? change.bot.stateReason);
        return;
      }
      case 'removed':
        this.bots.delete(change.botId);
        this.tray.removeBot(change.botId);
        return;
    }
  }

  private consider(bot: BotSummary, from: BotState | null, reason: string | null): void {
    if (from !== 'deploying' && isRestartAfterCrash(bot.state, reason)) this.policy.consider({ type: 'bot-restarted', bot: ref(bot), reason });
    this.policy.consider({ type: 'bot-state', bot: ref(bot), from, to: bot.state, reason });
  }

  private accountEvent(event: AccountEvent): void {
    if (event.type === 'bot.report') this.botReported(event);
    else if (event.type === 'session.created' && this.ownSessionId !== null && event.sessionId !== this.ownSessionId) {
      this.policy.consider({ type: 'new-sign-in', sessionId: event.sessionId, deviceLabel: event.deviceLabel });
    }
  }

  private botReported(event: AccountEventOf<'bot.report'>): void {
    const bot = this.bots.get(event.botId);
    // A report about a bot the feed does not (yet) know has nobody to name: the bot's state will follow.
    if (!bot) return;
    const { report } = event;
    if (report.kind === 'decision' && reportsDailyLossLimit(report)) {
      this.policy.consider({ type: 'daily-loss-limit', bot: ref(bot), pnlToday: bot.pnlToday, reason: report.reason });
    } else if (report.kind === 'error' && KEY_CHECK_FAILURE_CODES.includes(report.code)) {
      this.policy.consider({ type: 'key-check-failed', bot: ref(bot), keyLabel: bot.keyLabel, reason: report.message });
    }
  }
}
