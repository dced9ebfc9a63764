// The tray coordinator with a fake bots feed and event stream on a manual clock: which bot and account
// events become which notifications, what the switches and the mute do, where clicks lead, and that a
// fleet in turmoil redraws the tray at most once per 250 ms.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { z } from 'zod';
import { afterEach, describe, expect, it } from 'vitest';
import type { BotState, BotSummary } from '../../../src-shared/bots.ts';
import type { AccountEvent } from '../../../src-shared/events.ts';
import type { AppSettings, TrayStatus } from '../../../src-shared/ipc-tray.ts';
import { NotificationKind } from '../../../src-shared/notifications.ts';
import type { BotsChange, BotsFeed } from '../../../src-main/services/ports.ts';
import type { PlannedNotification } from '../../../src-main/services/tray/notification-policy.ts';
import { SettingsFile } from '../../../src-main/services/tray/settings-file.ts';
import { NO_START_AT_LOGIN, TrayCoordinator, windowTargetOf, type AccountEvents, type StartAtLoginPort } from '../../../src-main/services/tray/tray-coordinator.ts';
import type { TrayModel } from '../../../src-main/services/tray/tray-model.ts';
import { ServiceError } from '../../../src-main/services/errors.ts';
import { bot } from './bots-fixture.ts';
import { ManualClock } from './manual-clock.ts';
import { signedInState } from '../../support/signed-in.ts';

class FakeFeed implements BotsFeed {
  bots = new Map<string, BotSummary>();
  listeners = new Set<(change: BotsChange) => void>();
  paused: string[] = [];
  resumed: string[] = [];
  current() {
    return [...this.bots.values()];
  }
  subscribe(listener: (change: BotsChange) => void) {
    this.listeners.add(listener);
    listener({ kind: 'reset', bots: this.current() });
    return () => void this.listeners.delete(listener);
  }
  async pause(botId: string) {
    this.paused.push(botId);
  }
  async resume(botId: string) {
    this.resumed.push(botId);
  }
  reset(bots: BotSummary[]) {
    this.bots = new Map(bots.map((b) => [b.id, b]));
    for (const listener of this.listeners) listener({ kind: 'reset', bots });
  }
  /** The bot moves to `state`, as the bots service reports a `bot.state` event. */
  move(id: string, state: BotState, reason: string | null = null, extra: Partial<BotSummary> = {}) {
    const before = this.bots.get(id);
    const next = bot(id, state, { ...before, state, stateReason: reason, ...extra });
    this.bots.set(id, next);
    for (const listener of this.listeners) listener({ kind: 'updated', bot: next, from: before?.state ?? null, reason });
  }
}

/** The account's stream as AccountEventStream hands events out: each subscriber's schema parses what it hears. */
class FakeStream implements AccountEvents {
  subscribers = new Set<{ schema: z.ZodType; listener: (event: never) => void }>();
  subscribe<S extends z.ZodType>(schema: S, listener: (event: z.output<S>) => void) {
    const subscriber = { schema, listener: listener as (event: never) => void };
    this.subscribers.add(subscriber);
    return () => void this.subscribers.delete(subscriber);
  }
  send(event: AccountEvent) {
    for (const { schema, listener } of this.subscribers) {
      const parsed = schema.safeParse(JSON.parse(JSON.stringify(event)));
      if (parsed.success) listener(parsed.data as never);
    }
  }
}

const signedIn = (sessionId = 'own-session') => signedInState('u1', { sessionId, email: 'trader@example.com' });

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function setUp(options: { bots?: BotSummary[]; settingsPath?: string | null; startAtLogin?: StartAtLoginPort } = {}) {
  const clock = new ManualClock();
  const feed = new FakeFeed();
  const stream = new FakeStream();
  for (const b of options.bots ?? []) feed.bots.set(b.id, b);
  const shown: (PlannedNotification & { at: number })[] = [];
  const draws: { at: number; model: TrayModel; status: TrayStatus }[] = [];
  const announced: AppSettings[] = [];
  const settings = new SettingsFile(options.settingsPath ?? null);
  const coordinator = new TrayCoordinator({
    clock,
    feed,
    accountEvents: stream,
    settings,
    startAtLogin: options.startAtLogin ?? NO_START_AT_LOGIN,
    draw: (model, status) => draws.push({ at: clock.ms, model, status }),
    show: (n) => shown.push({ ...n, at: clock.ms }),
    settingsChanged: (s) => announced.push(s),
    // Generous, so the tests of kinds see every notification; the policy's own tests cover the limit.
    limit: { perWindow: 1000, windowMs: 60_000 },
  });
  coordinator.identityChanged(signedIn());
  coordinator.apiStatusChanged('online');
  coordinator.start();
  return { clock, feed, stream, shown, draws, announced, coordinator, settings };
}

const report = (botId: string, body: Extract<AccountEvent, { type: 'bot.report' }>['report']): AccountEvent => ({
  type: 'bot.report',
  botId,
  instanceId: 'i1',
  seq: 1,
  report: body,
  at: '2026-11-30T09:00:00.000Z',
});

describe('each kind of notification, from what the feed and the stream say', () => {
  it('a bot online after deploy, and nothing for the deploy itself', () => {
    const { feed, shown } = setUp({ bots: [bot('b1', 'stopped')] });
    feed.move('b1', 'deploying', 'starting an instance');
    expect(shown).toEqual([]);
    feed.move('b1', 'online');
    expect(shown).toMatchObject([{ kind: 'bot-online', title: 'Bot b1 is online', opens: { page: 'bot', botId: 'b1' } }]);
  });

  it('offline, error with its reason, stopped', () => {
    const { feed, shown } = setUp({ bots: [bot('b1', 'online'), bot('b2', 'online'), bot('b3', 'online')] });
    feed.move('b1', 'offline', 'no heartbeat for 45 s');
    feed.move('b2', 'error', 'Bybit refused the key from this bot’s address');
    feed.move('b3', 'stopped', 'stopped by the user');
    expect(shown.map((n) => [n.kind, n.title, n.body])).toEqual([
      ['bot-offline', 'Bot b1 went offline', 'no heartbeat for 45 s'],
      ['bot-error', 'Bot b2 is in error', 'Bybit refused the key from this bot’s address'],
      ['bot-stopped', 'Bot b3 stopped', 'Its instance in the EU is gone; its settings and trades are kept.'],
    ]);
  });

  it('a restart after a crash, from online or offline, but not a user’s deploy or the same restart heard again', () => {
    const { feed, shown } = setUp({ bots: [bot('b1', 'online'), bot('b2', 'stopped')] });
    feed.move('b1', 'deploying', 'restarting after crash 1');
    feed.move('b1', 'deploying', 'restarting after crash 1'); // a heartbeat while it starts
    feed.move('b2', 'deploying', 'starting an instance');
    expect(shown.map((n) => n.kind)).toEqual(['bot-restarted']);
    expect(shown[0]).toMatchObject({ title: 'Bot b1 restarted after a crash', body: 'restarting after crash 1', opens: { page: 'bot', botId: 'b1' } });

    feed.move('b1', 'online');
    feed.move('b1', 'offline', 'no heartbeat for 45 s');
    feed.move('b1', 'deploying', 'restarting after crash 2');
    expect(shown.map((n) => n.kind)).toEqual(['bot-restarted', 'bot-online', 'bot-offline', 'bot-restarted']);
  });

  it('the daily loss limit, from the decision the bot reports when the limit acts', () => {
    const { stream, shown } = setUp({ bots: [bot('b1', 'online', { pnlToday: { amount: -104.5, currency: 'USDT' } })] });
    stream.send(report('b1', { kind: 'decision', time: 1, type: 'enter', side: 'long', quantity: 1, price: 100, by: null, reason: 'signals agree' }));
    expect(shown).toEqual([]);
    stream.send(report('b1', { kind: 'decision', time: 2, type: 'exit', side: 'long', quantity: 1, price: 90, by: 'maxDailyLoss', reason: 'down 10.45% today, the limit is 10%' }));
    // Each later entry it blocks for the same limit says it again: the policy keeps it to one.
    stream.send(report('b1', { kind: 'decision', time: 3, type: 'blocked', side: 'long', quantity: null, price: null, by: 'limit:maxDailyLoss', reason: 'down 10.45% today, the limit is 10%' }));
    expect(shown).toMatchObject([
      { kind: 'daily-loss-limit', title: 'Bot b1 hit its daily loss limit', body: 'Down 10.45% today, the limit is 10%. PnL today: \u2212104.50 USDT.', opens: { page: 'bot', botId: 'b1' } },
    ]);
  });

  it('a blocked entry for the limit is enough on its own (the bot held no position when it was hit)', () => {
    const { stream, shown } = setUp({ bots: [bot('b1', 'online', { pnlToday: null })] });
    stream.send(report('b1', { kind: 'decision', time: 3, type: 'blocked', side: 'short', quantity: null, price: null, by: 'limit:maxDailyLoss', reason: 'down 12.00% today, the limit is 10%' }));
    expect(shown.map((n) => n.body)).toEqual(['Down 12.00% today, the limit is 10%.']);
  });

  it('a key that failed its check in the bot’s region, not other errors', () => {
    const { stream, shown } = setUp({ bots: [bot('b1', 'online', { keyLabel: 'Bybit main' })] });
    stream.send(report('b1', { kind: 'error', time: 1, code: 'exchange_unavailable', message: 'Could not check the key with the exchange' }));
    stream.send(report('b1', { kind: 'error', time: 2, code: 'key_can_withdraw', message: 'This Bybit key can move funds out of your account' }));
    expect(shown).toMatchObject([{ kind: 'key-check-failed', body: 'Bybit main failed its check from the EU: This Bybit key can move funds out of your account' }]);
  });

  it('ignores reports about a bot the feed does not know', () => {
    const { stream, shown } = setUp();
    stream.send(report('ghost', { kind: 'error', time: 2, code: 'key_refused', message: 'refused' }));
    expect(shown).toEqual([]);
  });

  it('a sign-in on another device opens Security; this device’s own sign-in says nothing', () => {
    const { stream, shown } = setUp();
    const created = (sessionId: string): AccountEvent => ({ type: 'session.created', sessionId, deviceLabel: 'Firefox on Windows', method: 'password', ip: '203.0.113.9', at: '2026-11-30T09:00:00.000Z' });
    stream.send(created('own-session'));
    stream.send(created('other-session'));
    stream.send(created('other-session')); // replayed after a reconnect
    expect(shown).toMatchObject([{ kind: 'new-sign-in', title: 'New sign-in on another device', opens: { page: 'security' } }]);
  });

  it('a bot that moved while the list was away is news after the reset; a bot seen for the first time is not', () => {
    const { feed, shown } = setUp({ bots: [bot('b1', 'online')] });
    feed.reset([bot('b1', 'offline', { stateReason: 'no heartbeat for 60 s' }), bot('b2', 'error')]);
    expect(shown.map((n) => [n.kind, n.opens])).toEqual([['bot-offline', { page: 'bot', botId: 'b1' }]]);
  });
});

describe('the user’s switches', () => {
  it('one notification per bot and kind until its state changes', () => {
    const { feed, shown } = setUp({ bots: [bot('b1', 'online')] });
    feed.move('b1', 'offline');
    feed.move('b1', 'offline', 'still no heartbeat');
    expect(shown).toHaveLength(1);
    feed.move('b1', 'online');
    feed.move('b1', 'offline');
    expect(shown.map((n) => n.kind)).toEqual(['bot-offline', 'bot-offline']);
  });

  it('the same session heard again (a reverification) keeps what was already said; another account starts afresh', () => {
    const { feed, shown, coordinator } = setUp({ bots: [bot('b1', 'online')] });
    feed.move('b1', 'offline');
    coordinator.identityChanged(signedIn());
    feed.move('b1', 'offline');
    expect(shown).toHaveLength(1);
    coordinator.identityChanged(signedIn('next-session'));
    feed.reset([bot('b1', 'online')]);
    feed.move('b1', 'offline');
    expect(shown).toHaveLength(2);
  });

  it('a kind switched off gives nothing, and the switch is kept in the settings file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'plutarc-tray-'));
    dirs.push(dir);
    const path = join(dir, 'settings.json');
    const { feed, shown, coordinator, announced } = setUp({ bots: [bot('b1', 'online'), bot('b2', 'online')], settingsPath: path });
    const after = coordinator.setNotificationKind('bot-offline', false);
    expect(after.notifications.off).toEqual(['bot-offline']);
    expect(announced.at(-1)).toEqual(after);
    feed.move('b1', 'offline');
    feed.move('b2', 'error', 'refused');
    expect(shown.map((n) => n.kind)).toEqual(['bot-error']);

    // Only the owner may read it, and a new start of the app reads the same switches.
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(new SettingsFile(path).read().notifications.off).toEqual(['bot-offline']);
    const restarted = setUp({ bots: [bot('b3', 'online')], settingsPath: path });
    restarted.feed.move('b3', 'offline');
    expect(restarted.shown).toEqual([]);

    coordinator.setNotificationKind('bot-offline', true);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ version: 1, notifications: { off: [] } });
  });

  it('mute all for an hour silences every kind, and an hour later they come again', () => {
    const { clock, feed, stream, shown, coordinator } = setUp({ bots: [bot('b1', 'online'), bot('b2', 'online')] });
    const muted = coordinator.muteForAnHour();
    expect(muted.notifications.mutedUntil).toBe('2026-11-30T10:00:00.000Z');
    feed.move('b1', 'offline');
    stream.send({ type: 'session.created', sessionId: 's2', deviceLabel: 'Safari on macOS', method: 'passkey', ip: '198.51.100.2', at: '2026-11-30T09:01:00.000Z' });
    expect(shown).toEqual([]);
    clock.advance(60 * 60 * 1000);
    feed.move('b2', 'error', 'refused');
    expect(shown.map((n) => n.kind)).toEqual(['bot-error']);
  });

  it('unmute lets notifications through at once', () => {
    const { feed, shown, coordinator } = setUp({ bots: [bot('b1', 'online')] });
    coordinator.muteForAnHour();
    expect(coordinator.unmute().notifications.mutedUntil).toBeNull();
    feed.move('b1', 'offline');
    expect(shown).toHaveLength(1);
  });

  it('a settings file that cannot be written: the switch is refused with the reason, and nothing changes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'plutarc-tray-'));
    dirs.push(dir);
    // Its folder is a file: nothing can be written there.
    writeFileSync(join(dir, 'not-a-folder'), '');
    const { feed, shown, coordinator } = setUp({ bots: [bot('b1', 'online'), bot('b2', 'online')], settingsPath: join(dir, 'not-a-folder', 'settings.json') });
    expect(() => coordinator.setNotificationKind('bot-offline', false)).toThrow(/Could not save the settings in .*not-a-folder/);
    expect(() => coordinator.muteForAnHour()).toThrow(ServiceError);
    expect(coordinator.settings().notifications).toEqual({ off: [], mutedUntil: null });
    feed.move('b1', 'offline');
    expect(shown.map((n) => n.kind)).toEqual(['bot-offline']);
  });

  it('a settings file that is not ours gives the defaults', () => {
    const dir = mkdtempSync(join(tmpdir(), 'plutarc-tray-'));
    dirs.push(dir);
    const path = join(dir, 'settings.json');
    for (const text of ['{"version":1,"notifications":{"off":["bot-exploded"],"mutedUntil":null}}', '{"version":1', 'null']) {
      writeFileSync(path, text);
      expect(new SettingsFile(path).read().notifications).toEqual({ off: [], mutedUntil: null });
    }
  });
});

describe('the tray and its menu', () => {
  it('pause and resume go through the feed; menu items open the window where they say', async () => {
    const { feed, coordinator } = setUp({ bots: [bot('b1', 'online')] });
    await coordinator.act({ type: 'pause-bot', botId: 'b1' });
    await coordinator.act({ type: 'resume-bot', botId: 'b1' });
    expect([feed.paused, feed.resumed]).toEqual([['b1'], ['b1']]);
    expect(windowTargetOf({ type: 'confirm-stop-bot', botId: 'b1' })).toEqual({ page: 'bot', botId: 'b1', confirmStop: true });
    expect(windowTargetOf({ type: 'open-bot', botId: 'b1' })).toEqual({ page: 'bot', botId: 'b1' });
    expect(windowTargetOf({ type: 'open-window' })).toEqual({ page: 'home' });
    expect(windowTargetOf({ type: 'pause-bot', botId: 'b1' })).toBeNull();
  });

  it('start at login where the host has it, refused where it does not', () => {
    let enabled = false;
    const login: StartAtLoginPort = { read: () => ({ supported: true, enabled }), set: (on) => (enabled = on) };
    const { coordinator, clock, draws } = setUp({ startAtLogin: login });
    expect(coordinator.setStartAtLogin(true).startAtLogin).toEqual({ supported: true, enabled: true });
    clock.advance(250);
    expect(draws.at(-1)!.model.menu).toContainEqual(expect.objectContaining({ kind: 'checkbox', label: 'Start at login', checked: true }));

    const without = setUp();
    expect(() => without.coordinator.setStartAtLogin(true)).toThrow(ServiceError);
  });

  it('shows the bots with their states, the API out of reach, and nothing of the account once signed out', () => {
    const { feed, clock, draws, coordinator } = setUp({ bots: [bot('b1', 'online'), bot('b2', 'paused')] });
    feed.move('b1', 'offline');
    clock.advance(250);
    expect(draws.at(-1)!.status).toMatchObject({ icon: 'offline-or-error', connection: 'reachable', counts: '1 paused · 1 offline' });
    coordinator.apiStatusChanged('offline');
    clock.advance(250);
    expect(draws.at(-1)!.status).toMatchObject({ icon: 'api-unreachable', connection: 'unreachable' });
    coordinator.identityChanged({ state: 'signedOut', reason: null });
    clock.advance(250);
    expect(draws.at(-1)!.status).toEqual({ icon: 'no-bots', connection: 'signed-out', counts: '', tooltip: 'plutarc — signed out', bots: [] });
    expect(coordinator.status()).toEqual(draws.at(-1)!.status);
  });

  it('counts notifications as unread alerts until the window is seen', () => {
    const { feed, clock, draws, coordinator } = setUp({ bots: [bot('b1', 'online'), bot('b2', 'online')] });
    feed.move('b1', 'offline');
    feed.move('b2', 'offline');
    clock.advance(250);
    expect(draws.at(-1)!.model.tooltip).toContain('2 unread alerts');
    coordinator.windowSeen();
    clock.advance(250);
    expect(draws.at(-1)!.model.tooltip).not.toContain('unread');
  });

  it('gives the close hint once', () => {
    const { coordinator } = setUp();
    expect([coordinator.takeCloseHint(), coordinator.takeCloseHint()]).toEqual([true, false]);
  });

  it('200 bots changing state 10 times a second redraw the tray at most once per 250 ms, the last state always shown', () => {
    const states: BotState[] = ['deploying', 'online', 'paused', 'online', 'offline', 'deploying', 'online', 'error', 'stopped'];
    const bots = Array.from({ length: 200 }, (_, i) => bot(`b${i}`, 'online'));
    const { feed, clock, draws } = setUp({ bots });
    const start = draws.length;
    const seconds = 10;
    for (let tick = 0; tick < seconds * 10; tick++) {
      for (let i = 0; i < 200; i++) feed.move(`b${i}`, states[(tick + i) % states.length]!);
      clock.advance(100);
    }
    clock.advance(250);
    const redraws = draws.slice(start);
    const gaps = redraws.slice(1).map((d, i) => d.at - redraws[i]!.at);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(250);
    expect(redraws.length).toBeLessThanOrEqual((seconds * 1000) / 250 + 2);
    expect(redraws.length).toBeGreaterThan(0);
    expect(redraws.at(-1)!.status.bots.map((b) => b.state)).toEqual([...feed.bots.values()].map((b) => b.state));
  });
});

describe('every kind has a switch the coordinator honours', () => {
  it.each(NotificationKind.options)('%s', (kind) => {
    const { coordinator } = setUp();
    expect(coordinator.setNotificationKind(kind, false).notifications.off).toEqual([kind]);
    expect(coordinator.setNotificationKind(kind, false).notifications.off).toEqual([kind]);
    expect(coordinator.setNotificationKind(kind, true).notifications.off).toEqual([]);
  });
});
