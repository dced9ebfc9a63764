// Which bot and account events become native notifications, and what they say. Every decision is
// here, on an injected clock, so it is tested without Electron: the user's switches, "mute all for an
// hour", one notification per bot and kind until the bot's state changes, and a rate limit that turns
// a burst into a few notifications and one summary.
import type { BotState, Money } from '../../../src-shared/bots.ts';
import type { NotificationKind, NotificationSettings, WindowTarget } from '../../../src-shared/notifications.ts';
import type { RegionId } from '../../../src-shared/regions.ts';
import type { Cancellable, Clock } from '../ports.ts';
import { formatMoney, shorten } from './tray-model.ts';

/** Enough of a bot to name it and say where it runs. */
export interface BotRef {
  id: string;
  name: string;
  region: RegionId;
}

/** What main learns from the account's event stream that may deserve a notification. */
export type WatchedEvent =
  /** `from` is null when the stream does not say what the bot was before. */
  | { type: 'bot-state'; bot: BotRef; from: BotState | null; to: BotState; reason: string | null }
  | { type: 'bot-restarted'; bot: BotRef; reason: string | null }
  /** `reason` is the bot's own account of the limit ("down 10.20% today, the limit is 10%"); PnL is null before the bot's first equity report of the day. */
  | { type: 'daily-loss-limit'; bot: BotRef; pnlToday: Money | null; reason?: string | null }
  | { type: 'key-check-failed'; bot: BotRef; keyLabel: string; reason: string }
  /** A sign-in on another device (the stream's own session is left out by the caller). */
  | { type: 'new-sign-in'; sessionId: string; deviceLabel: string };

export interface PlannedNotification {
  id: string;
  kind: NotificationKind | 'summary';
  title: string;
  body: string;
  /** Where a click opens the window. */
  opens: WindowTarget;
  /** Something the user should act on (offline, error, a failed key, a sign-in they may not know). */
  urgent: boolean;
}

export interface RateLimit {
  /** At most this many notifications, summaries included, in any window. */
  perWindow: number;
  windowMs: number;
}

export const DEFAULT_RATE_LIMIT: RateLimit = { perWindow: 3, windowMs: 60_000 };
export const MUTE_MS = 60 * 60 * 1000;

const REGION_NAMES: Readonly<Record<RegionId, string>> = { eu: 'the EU', us: 'the US', sg: 'Singapore' };

/** The kind of notification an event would give, or null when it gives none. */
export function kindOf(event: WatchedEvent): NotificationKind | null {
  if (event.type !== 'bot-state') return event.type;
  switch (event.to) {
    case 'online':
      // Resuming a paused bot is the user's own doing; only the end of a deploy is news.
      return event.from === 'deploying' ? 'bot-online' : null;
    case 'offline':
      return 'bot-offline';
    case 'error':
      return 'bot-error';
    case 'stopped':
      // A new bot starts stopped (from nothing): that is the user's own doing, not news.
      return event.from === 'stopped' || event.from === null ? null : 'bot-stopped';
    case 'paused':
    case 'deploying':
      return null;
  }
}

const reasonText = (reason: string | null, fallback: string) => (reason ? shorten(reason, 200) : fallback);

function dailyLossText(reason: string | null, pnlToday: Money | null): string {
  const sentences: string[] = [];
  if (reason) {
    const said = shorten(reason, 160);
    sentences.push(`${said.charAt(0).toUpperCase()}${said.slice(1)}${/[.…]$/.test(said) ? '' : '.'}`);
  }
  if (pnlToday) sentences.push(`PnL today: ${formatMoney(pnlToday)}.`);
  return sentences.length > 0 ? sentences.join(' ') : 'It opens no new positions until the day ends (UTC).';
}

/** The words and click target of one event's notification. */
function notificationFor(event: WatchedEvent, kind: NotificationKind): Omit<PlannedNotification, 'id'> {
  if (event.type === 'new-sign-in') {
    return {
      kind,
      title: 'New sign-in on another device',
      body: `${shorten(event.deviceLabel, 80)} signed in to your account. If this was not you, sign it out on the Security page.`,
      opens: { page: 'security' },
      urgent: true,
    };
  }
  const name = shorten(event.bot.name, 60);
  const where = REGION_NAMES[event.bot.region];
  const opens: WindowTarget = { page: 'bot', botId: event.bot.id };
  switch (event.type) {
    case 'bot-restarted':
      return { kind, opens, urgent: false, title: `${name} restarted after a crash`, body: reasonText(event.reason, `Its instance in ${where} crashed and was started again.`) };
    case 'daily-loss-limit':
      return { kind, opens, urgent: true, title: `${name} hit its daily loss limit`, body: dailyLossText(event.reason ?? null, event.pnlToday) };
    case 'key-check-failed':
      return {
        kind,
        opens,
        urgent: true,
        title: `Key check failed for ${name}`,
        body: `${shorten(event.keyLabel, 40)} failed its check from ${where}: ${shorten(event.reason, 160)}`,
      };
    case 'bot-state':
      switch (kind) {
        case 'bot-online':
          return { kind, opens, urgent: false, title: `${name} is online`, body: `It trades from ${where}.` };
        case 'bot-offline':
          return { kind, opens, urgent: true, title: `${name} went offline`, body: reasonText(event.reason, `Its instance in ${where} stopped reporting.`) };
        case 'bot-error':
          return { kind, opens, urgent: true, title: `${name} is in error`, body: reasonText(event.reason, 'It cannot run until you act.') };
        default:
          return { kind, opens, urgent: false, title: `${name} stopped`, body: `Its instance in ${where} is gone; its settings and trades are kept.` };
      }
  }
}

const SUMMARY_WORDS: Readonly<Record<NotificationKind, string>> = {
  'bot-online': 'online',
  'bot-offline': 'offline',
  'bot-error': 'in error',
  'bot-stopped': 'stopped',
  'daily-loss-limit': 'at their loss limit',
  'bot-restarted': 'restarted',
  'key-check-failed': 'failed key checks',
  'new-sign-in': 'new sign-ins',
};

interface Pending {
  count: number;
  byKind: Map<NotificationKind, number>;
  targets: Map<string, WindowTarget>;
}

const targetKey = (target: WindowTarget) => (target.page === 'bot' ? `bot:${target.botId}` : target.page);

export class NotificationPolicy {
  private settings: NotificationSettings;
  private readonly limit: RateLimit;
  /** Per bot: the last state seen, and the kinds already notified (or summarised) since it was entered. */
  private readonly bots = new Map<string, { state: BotState | null; notified: Set<NotificationKind>; lossLimitDay: string | null }>();
  private readonly signIns = new Set<string>();
  /** When each recent notification was shown, oldest first (the rate limit's sliding window). */
  private shownAt: number[] = [];
  private pending: Pending | null = null;
  private summaryTimer: Cancellable | null = null;
  private lastSummaryAt: number | null = null;
  private sequence = 0;

  private readonly clock: Clock;
  private readonly show: (notification: PlannedNotification) => void;

  constructor(clock: Clock, show: (notification: PlannedNotification) => void, options: { settings: NotificationSettings; limit?: RateLimit }) {
    this.clock = clock;
    this.show = show;
    this.settings = options.settings;
    this.limit = options.limit ?? DEFAULT_RATE_LIMIT;
  }

  get currentSettings(): NotificationSettings {
    return this.settings;
  }

  updateSettings(settings: NotificationSettings): void {
    this.settings = settings;
  }

  /** Silences everything for an hour from now; returns the settings to keep. */
  muteForAnHour(): NotificationSettings {
    this.settings = { ...this.settings, mutedUntil: new Date(this.clock.now().getTime() + MUTE_MS).toISOString() };
    return this.settings;
  }

  isMuted(): boolean {
    const until = this.settings.mutedUntil;
    return until !== null && Date.parse(until) > this.clock.now().getTime();
  }

  consider(event: WatchedEvent): void {
    const kind = kindOf(event);
    // Seen states are remembered even when nothing is shown, so a muted or switched-off stretch does
    // not make the next event look new.
    if (!this.isFirst(event, kind) || kind === null) return;
    if (this.isMuted() || this.settings.off.includes(kind)) return;
    const notification = notificationFor(event, kind);
    const now = this.clock.now().getTime();
    this.shownAt = this.shownAt.filter((at) => at > now - this.limit.windowMs);
    const stormGoesOn = this.lastSummaryAt !== null && now - this.lastSummaryAt < this.limit.windowMs;
    if (this.pending !== null || stormGoesOn || this.shownAt.length >= this.limit.perWindow) {
      this.hold(notification, now);
      return;
    }
    this.emit(notification, now);
  }

  /** Calls off a summary still waiting (the app is quitting). */
  dispose(): void {
    this.summaryTimer?.cancel();
    this.summaryTimer = null;
  }

  /**
   * Forgets the account's bots, sign-ins, any summary still waiting and what it was shown lately: on sign-out, the
   * next account starts afresh (the last account's burst does not make the next one's first notice a summary).
   */
  reset(): void {
    this.dispose();
    this.pending = null;
    this.bots.clear();
    this.signIns.clear();
    this.shownAt = [];
    this.lastSummaryAt = null;
  }

  /**
   * True the first time this bot (or session) gives this kind since its state last changed. The daily loss
   * limit is a day's: a bot that stays online across days is told of again on the next day it hits it.
   */
  private isFirst(event: WatchedEvent, kind: NotificationKind | null): boolean {
    if (event.type === 'new-sign-in') {
      if (this.signIns.has(event.sessionId)) return false;
      this.signIns.add(event.sessionId);
      return true;
    }
    let seen = this.bots.get(event.bot.id);
    if (!seen) {
      seen = { state: null, notified: new Set(), lossLimitDay: null };
      this.bots.set(event.bot.id, seen);
    }
    if (kind === 'daily-loss-limit') {
      const day = this.clock.now().toISOString().slice(0, 10);
      if (seen.lossLimitDay === day) return false;
      seen.lossLimitDay = day;
      return true;
    }
    if (event.type === 'bot-state' && event.to !== seen.state) {
      seen.state = event.to;
      seen.notified.clear();
    }
    if (kind === null || seen.notified.has(kind)) return false;
    seen.notified.add(kind);
    return true;
  }

  private emit(notification: Omit<PlannedNotification, 'id'>, now: number): void {
    this.shownAt.push(now);
    this.sequence += 1;
    this.show({ id: `${notification.kind}-${this.sequence}`, ...notification });
  }

  /** Counts a notification into the coming summary, and makes sure the summary is scheduled. */
  private hold(notification: Omit<PlannedNotification, 'id'>, now: number): void {
    const pending = (this.pending ??= { count: 0, byKind: new Map(), targets: new Map() });
    pending.count += 1;
    const kind = notification.kind as NotificationKind;
    pending.byKind.set(kind, (pending.byKind.get(kind) ?? 0) + 1);
    pending.targets.set(targetKey(notification.opens), notification.opens);
    if (this.summaryTimer) return;
    // The summary waits until it fits the rate limit, and until a window has passed since the last summary.
    const slotFree = this.shownAt.length >= this.limit.perWindow ? this.shownAt[this.shownAt.length - this.limit.perWindow]! + this.limit.windowMs : now;
    const afterLastSummary = this.lastSummaryAt === null ? now : this.lastSummaryAt + this.limit.windowMs;
    const due = Math.max(slotFree, afterLastSummary, now);
    this.summaryTimer = this.clock.setTimeout(() => this.showSummary(), due - now);
  }

  private showSummary(): void {
    this.summaryTimer = null;
    const pending = this.pending;
    this.pending = null;
    if (!pending || this.isMuted()) return;
    const now = this.clock.now().getTime();
    this.shownAt = this.shownAt.filter((at) => at > now - this.limit.windowMs);
    this.lastSummaryAt = now;
    const parts = [...pending.byKind].map(([kind, count]) => `${count} ${SUMMARY_WORDS[kind]}`);
    const targets = [...pending.targets.values()];
    this.emit(
      {
        kind: 'summary',
        title: pending.count === 1 ? '1 more event' : `${pending.count} more events`,
        body: `${parts.join(', ')}. Open plutarc to see them all.`,
        // One bot, or only sign-ins, have a page of their own; anything wider opens the bots list.
        opens: targets.length === 1 ? targets[0]! : { page: 'bots' },
        urgent: [...pending.byKind.keys()].some((kind) => kind !== 'bot-online' && kind !== 'bot-stopped' && kind !== 'bot-restarted'),
      },
      now,
    );
  }
}

/**
 * Text as the platform's notification shows it: Linux notification servers read a subset of HTML in the
 * body, so a bot named `<b>…</b>` or a reason with `&` would be rendered as markup rather than read.
 */
export function notificationText(text: string, platform: NodeJS.Platform): string {
  if (platform !== 'linux') return text;
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}
