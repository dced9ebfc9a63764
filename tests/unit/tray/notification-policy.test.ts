import { describe, expect, it } from 'vitest';
import type { BotState } from '../../../src-shared/bots.ts';
import { DEFAULT_NOTIFICATION_SETTINGS, NotificationKind, type NotificationSettings } from '../../../src-shared/notifications.ts';
import {
  MUTE_MS,
  NotificationPolicy,
  notificationText,
  type BotRef,
  type PlannedNotification,
  type RateLimit,
  type WatchedEvent,
} from '../../../src-main/services/tray/notification-policy.ts';
import { ManualClock } from './manual-clock.ts';

const LIMIT: RateLimit = { perWindow: 3, windowMs: 60_000 };

function setUp(settings: NotificationSettings = DEFAULT_NOTIFICATION_SETTINGS) {
  const clock = new ManualClock();
  const shown: (PlannedNotification & { at: number })[] = [];
  const policy = new NotificationPolicy(clock, (n) => shown.push({ ...n, at: clock.ms }), { settings, limit: LIMIT });
  return { clock, shown, policy };
}

const ref = (id: string, name = `Bot ${id}`): BotRef => ({ id, name, region: 'sg' });
const state = (id: string, from: BotState | null, to: BotState, reason: string | null = null): WatchedEvent => ({ type: 'bot-state', bot: ref(id), from, to, reason });

/** One event of each kind, for bot `id`. */
const EVERY_KIND: Record<NotificationKind, (id: string) => WatchedEvent> = {
  'bot-online': (id) => state(id, 'deploying', 'online'),
  'bot-offline': (id) => state(id, 'online', 'offline'),
  'bot-error': (id) => state(id, 'online', 'error', 'the exchange refused the key'),
  'bot-stopped': (id) => state(id, 'online', 'stopped'),
  'daily-loss-limit': (id) => ({ type: 'daily-loss-limit', bot: ref(id), pnlToday: { amount: -250, currency: 'USDT' } }),
  'bot-restarted': (id) => ({ type: 'bot-restarted', bot: ref(id), reason: null }),
  'key-check-failed': (id) => ({ type: 'key-check-failed', bot: ref(id), keyLabel: 'main key', reason: 'withdraw permission is on' }),
  'new-sign-in': (id) => ({ type: 'new-sign-in', sessionId: id, deviceLabel: 'Firefox on Linux' }),
};

describe('what each event says and where a click leads', () => {
  it.each(NotificationKind.options)('%s', (kind) => {
    const { shown, policy } = setUp();
    policy.consider(EVERY_KIND[kind]('b1'));
    expect(shown).toHaveLength(1);
    expect(shown[0]!.kind).toBe(kind);
    expect(shown[0]!.opens).toEqual(kind === 'new-sign-in' ? { page: 'security' } : { page: 'bot', botId: 'b1' });
    if (kind !== 'new-sign-in') expect(shown[0]!.title).toContain('Bot b1');
  });

  it('gives the reason of an error, and the loss of a loss limit', () => {
    const { shown, policy } = setUp();
    policy.consider(EVERY_KIND['bot-error']('b1'));
    policy.consider(EVERY_KIND['daily-loss-limit']('b2'));
    policy.consider(EVERY_KIND['key-check-failed']('b3'));
    expect(shown.map((n) => n.body)).toEqual([
      'the exchange refused the key',
      'PnL today: \u2212250.00 USDT.',
      'main key failed its check from Singapore: withdraw permission is on',
    ]);
  });

  it('says nothing when the user creates, resumes, pauses or redeploys a bot', () => {
    const { shown, policy } = setUp();
    for (const event of [state('b0', null, 'stopped'), state('b1', 'paused', 'online'), state('b1', 'online', 'paused'), state('b1', 'stopped', 'deploying'), state('b1', null, 'online')]) {
      policy.consider(event);
    }
    expect(shown).toEqual([]);
  });
});

describe('de-duplication', () => {
  it('tells of the daily loss limit once per UTC day, whether or not the bot changed state', () => {
    const { clock, shown, policy } = setUp();
    const hit = EVERY_KIND['daily-loss-limit']('b1');
    policy.consider(hit);
    policy.consider(hit);
    clock.advance(14 * 60 * 60 * 1000); // 23:00 UTC the same day
    policy.consider(hit);
    expect(shown.map((n) => n.kind)).toEqual(['daily-loss-limit']);
    clock.advance(2 * 60 * 60 * 1000); // the next day
    policy.consider(hit);
    expect(shown.map((n) => n.kind)).toEqual(['daily-loss-limit', 'daily-loss-limit']);
  });

  it('gives one notification per bot and kind until the bot changes state', () => {
    const { shown, policy } = setUp();
    policy.consider(state('b1', 'online', 'offline'));
    policy.consider(state('b1', 'online', 'offline')); // the stream replayed after a reconnect
    policy.consider(state('b1', 'offline', 'offline'));
    expect(shown.map((n) => n.kind)).toEqual(['bot-offline']);

    policy.consider(state('b1', 'offline', 'online')); // back, without news
    policy.consider(state('b1', 'online', 'offline'));
    expect(shown.map((n) => n.kind)).toEqual(['bot-offline', 'bot-offline']);
  });

  it('repeats a failed key check only after a state change, and a loss limit only on another day', () => {
    const { shown, clock, policy } = setUp();
    for (const kind of ['daily-loss-limit', 'key-check-failed'] as const) {
      policy.consider(EVERY_KIND[kind]('b1'));
      policy.consider(EVERY_KIND[kind]('b1'));
    }
    expect(shown.map((n) => n.kind)).toEqual(['daily-loss-limit', 'key-check-failed']);
    clock.advance(LIMIT.windowMs);
    policy.consider(state('b1', 'online', 'paused'));
    policy.consider(EVERY_KIND['key-check-failed']('b1'));
    policy.consider(EVERY_KIND['daily-loss-limit']('b1'));
    expect(shown.map((n) => n.kind)).toEqual(['daily-loss-limit', 'key-check-failed', 'key-check-failed']);
  });

  it('keeps bots apart: the same kind for two bots gives two', () => {
    const { shown, policy } = setUp();
    policy.consider(EVERY_KIND['bot-error']('b1'));
    policy.consider(EVERY_KIND['bot-error']('b2'));
    expect(shown.map((n) => n.opens)).toEqual([
      { page: 'bot', botId: 'b1' },
      { page: 'bot', botId: 'b2' },
    ]);
  });

  it('tells of each sign-in once', () => {
    const { shown, policy } = setUp();
    policy.consider(EVERY_KIND['new-sign-in']('s1'));
    policy.consider(EVERY_KIND['new-sign-in']('s1'));
    policy.consider(EVERY_KIND['new-sign-in']('s2'));
    expect(shown).toHaveLength(2);
  });
});

describe('the user\'s switches', () => {
  it.each(NotificationKind.options)('shows nothing of %s when it is switched off, and every other kind still', (off) => {
    const { shown, clock, policy } = setUp({ off: [off], mutedUntil: null });
    for (const [i, kind] of NotificationKind.options.entries()) {
      policy.consider(EVERY_KIND[kind](`b${i}`));
      clock.advance(LIMIT.windowMs); // one per window, clear of the rate limit
    }
    expect(shown.map((n) => n.kind)).toEqual(NotificationKind.options.filter((kind) => kind !== off));
  });

  it('shows again once switched back on, without replaying what was seen while off', () => {
    const { shown, policy } = setUp({ off: ['bot-offline'], mutedUntil: null });
    policy.consider(state('b1', 'online', 'offline'));
    policy.updateSettings(DEFAULT_NOTIFICATION_SETTINGS);
    policy.consider(state('b1', 'online', 'offline'));
    expect(shown).toEqual([]);
    policy.consider(state('b2', 'online', 'offline'));
    expect(shown.map((n) => n.opens)).toEqual([{ page: 'bot', botId: 'b2' }]);
  });

  it('mutes everything for an hour, then shows again', () => {
    const { shown, clock, policy } = setUp();
    const settings = policy.muteForAnHour();
    expect(Date.parse(settings.mutedUntil!)).toBe(clock.ms + MUTE_MS);
    for (const [i, kind] of NotificationKind.options.entries()) policy.consider(EVERY_KIND[kind](`m${i}`));
    clock.advance(MUTE_MS - 1);
    policy.consider(EVERY_KIND['bot-error']('late'));
    expect(shown).toEqual([]);
    expect(clock.pendingTimers).toBe(0); // nothing saved up for later either
    clock.advance(1);
    policy.consider(EVERY_KIND['bot-error']('after'));
    expect(shown.map((n) => n.opens)).toEqual([{ page: 'bot', botId: 'after' }]);
  });

  it('drops a summary that falls due while muted', () => {
    const { shown, clock, policy } = setUp();
    for (let i = 0; i < 10; i++) policy.consider(EVERY_KIND['bot-offline'](`b${i}`));
    policy.muteForAnHour();
    clock.advance(LIMIT.windowMs * 2);
    expect(shown).toHaveLength(LIMIT.perWindow);
  });
});

describe('the rate limit', () => {
  it('turns a burst of 50 events into a few notifications and one summary', () => {
    const { shown, clock, policy } = setUp();
    for (let i = 0; i < 50; i++) policy.consider(EVERY_KIND[i % 2 === 0 ? 'bot-offline' : 'bot-error'](`b${i}`));
    expect(shown).toHaveLength(LIMIT.perWindow);
    clock.advance(10 * LIMIT.windowMs);
    expect(shown).toHaveLength(LIMIT.perWindow + 1);
    const summary = shown.at(-1)!;
    expect(summary).toMatchObject({ kind: 'summary', title: '47 more events', opens: { page: 'bots' }, urgent: true, at: shown[0]!.at + LIMIT.windowMs });
    expect(summary.body).toBe('24 in error, 23 offline. Open plutarc to see them all.');
  });

  it('points a summary of one bot at that bot, and of sign-ins at the Security page', () => {
    const one = setUp();
    for (const kind of ['bot-error', 'daily-loss-limit', 'key-check-failed', 'bot-restarted'] as const) one.policy.consider(EVERY_KIND[kind]('b1'));
    one.clock.advance(LIMIT.windowMs);
    expect(one.shown.at(-1)).toMatchObject({ kind: 'summary', opens: { page: 'bot', botId: 'b1' } });

    const signIns = setUp();
    for (let i = 0; i < 5; i++) signIns.policy.consider(EVERY_KIND['new-sign-in'](`s${i}`));
    signIns.clock.advance(LIMIT.windowMs);
    expect(signIns.shown.at(-1)).toMatchObject({ kind: 'summary', title: '2 more events', opens: { page: 'security' } });
  });

  it('never shows more than its limit in any window through ten minutes of 200 bots changing state ten times a second', () => {
    const { shown, clock, policy } = setUp();
    const states: BotState[] = ['online', 'offline', 'online', 'error', 'deploying', 'online', 'paused'];
    let step = 0;
    for (let tick = 0; tick < 10 * 60 * 10; tick++) {
      const id = `b${tick % 200}`;
      const from = states[step % states.length]!;
      const to = states[++step % states.length]!;
      policy.consider(state(id, from, to, 'flapping'));
      clock.advance(100);
    }
    clock.advance(10 * LIMIT.windowMs);
    const times = shown.map((n) => n.at);
    for (const [i, at] of times.entries()) {
      expect(times.filter((t) => t >= at && t < at + LIMIT.windowMs).length, `window from notification ${i}`).toBeLessThanOrEqual(LIMIT.perWindow);
    }
    // The storm is summed up rather than lost: every minute says how much happened.
    expect(shown.filter((n) => n.kind === 'summary').length).toBeGreaterThanOrEqual(9);
    expect(shown.filter((n) => n.kind !== 'summary')).toHaveLength(LIMIT.perWindow);
  });

  it('returns to single notifications once a storm has passed', () => {
    const { shown, clock, policy } = setUp();
    for (let i = 0; i < 10; i++) policy.consider(EVERY_KIND['bot-offline'](`b${i}`));
    clock.advance(LIMIT.windowMs); // the summary
    clock.advance(LIMIT.windowMs); // a quiet window
    policy.consider(EVERY_KIND['bot-error']('calm'));
    expect(shown.at(-1)).toMatchObject({ kind: 'bot-error', opens: { page: 'bot', botId: 'calm' } });
  });

  it('shows nothing of one account after a reset for the next: no waiting summary, no memory of its bots', () => {
    const { shown, clock, policy } = setUp();
    for (let i = 0; i < 10; i++) policy.consider(EVERY_KIND['bot-offline'](`b${i}`));
    policy.reset();
    clock.advance(10 * LIMIT.windowMs);
    expect(shown).toHaveLength(LIMIT.perWindow);
    policy.consider(EVERY_KIND['bot-offline']('b0'));
    expect(shown.at(-1)).toMatchObject({ kind: 'bot-offline', opens: { page: 'bot', botId: 'b0' } });
  });

  it('does not hold the last account’s burst against the next: its first notice is shown, not summarised', () => {
    const { shown, policy } = setUp();
    for (let i = 0; i < LIMIT.perWindow; i++) policy.consider(EVERY_KIND['bot-offline'](`b${i}`));
    policy.reset();
    policy.consider({ type: 'new-sign-in', sessionId: 'elsewhere', deviceLabel: 'Firefox on Linux' });
    expect(shown).toHaveLength(LIMIT.perWindow + 1);
    expect(shown.at(-1)).toMatchObject({ kind: 'new-sign-in' });
  });

  it('calls off a waiting summary when disposed', () => {
    const { shown, clock, policy } = setUp();
    for (let i = 0; i < 10; i++) policy.consider(EVERY_KIND['bot-offline'](`b${i}`));
    policy.dispose();
    clock.advance(10 * LIMIT.windowMs);
    expect(shown).toHaveLength(LIMIT.perWindow);
  });
});

describe('text in a notification', () => {
  it('is not read as markup by Linux notification servers', () => {
    expect(notificationText('<a href="x">Tom & Jerry</a>', 'linux')).toBe('&lt;a href="x"&gt;Tom &amp; Jerry&lt;/a&gt;');
    expect(notificationText('Tom & Jerry', 'darwin')).toBe('Tom & Jerry');
    expect(notificationText('Tom & Jerry', 'win32')).toBe('Tom & Jerry');
  });
});
