// The renderer's side of the tray: main's notifications shown through the web Notification API, the
// permission asked the first time one would be shown (never before), a click opening the page it names;
// settings switches that move at once and fall back when main refuses.
import { beforeEach, describe, expect, it } from 'vitest';
import type { AppSettings, ShownNotification } from '../../../src-shared/ipc-tray.ts';
import { fail, ok } from '../../../src-shared/result.ts';
import { installFakeMain, until, type FakeMain } from './fake-bridge.ts';

const main: FakeMain = installFakeMain();

/** The browser's side: a Notification API whose permission prompt the test answers. */
class FakeNotification {
  static permission: NotificationPermission = 'default';
  static prompts = 0;
  static answer: NotificationPermission = 'granted';
  static made: FakeNotification[] = [];
  static async requestPermission(): Promise<NotificationPermission> {
    FakeNotification.prompts++;
    FakeNotification.permission = FakeNotification.answer;
    return FakeNotification.permission;
  }
  onclick: (() => void) | null = null;
  onclose: (() => void) | null = null;
  closed = false;
  readonly title: string;
  readonly options: NotificationOptions;
  constructor(title: string, options: NotificationOptions) {
    this.title = title;
    this.options = options;
    FakeNotification.made.push(this);
  }
  close() {
    this.closed = true;
  }
}
const page = { focused: 0 };
Object.assign(globalThis, { Notification: FakeNotification });
Object.assign(globalThis.window, { location: { hash: '' }, focus: () => page.focused++ });

const { useTrayStore } = await import('../../../src-renderer/src/stores/tray.ts');

const SETTINGS: AppSettings = { notifications: { off: [], mutedUntil: null }, startAtLogin: { supported: false, enabled: false } };
const offline = (id: string): ShownNotification => ({
  id,
  kind: 'bot-offline',
  title: 'Trend bot went offline',
  body: 'no heartbeat for 45 s',
  opens: { page: 'bot', botId: 'bot 1' },
  urgent: true,
});

describe('the browser host’s notifications', () => {
  beforeEach(() => {
    FakeNotification.permission = 'default';
    FakeNotification.prompts = 0;
    FakeNotification.made = [];
    main.answer('tray.status', () => ok({ icon: 'no-bots', connection: 'reachable', counts: '', tooltip: 'plutarc — no bots', bots: [] }));
    main.answer('settings.get', () => ok(SETTINGS));
  });

  it('asks for permission the first time one is shown, not when the page connects; then shows each without asking', async () => {
    const disconnect = useTrayStore.getState().connect();
    expect(FakeNotification.prompts).toBe(0);
    main.emit('notifications.onShow', offline('n1'));
    await until(() => FakeNotification.made.length === 1, 'the first notification');
    main.emit('notifications.onShow', offline('n2'));
    await until(() => FakeNotification.made.length === 2, 'the second notification');
    expect(FakeNotification.prompts).toBe(1);
    expect(FakeNotification.made.map((n) => [n.title, n.options.body, n.options.tag])).toEqual([
      ['Trend bot went offline', 'no heartbeat for 45 s', 'n1'],
      ['Trend bot went offline', 'no heartbeat for 45 s', 'n2'],
    ]);

    // A click brings the window forward on the bot's page.
    FakeNotification.made[0]!.onclick!();
    expect(window.location.hash).toBe('#/bots/bot%201');
    expect(page.focused).toBe(1);
    expect(FakeNotification.made[0]!.closed).toBe(true);
    disconnect();
  });

  it('shows nothing once the user said no', async () => {
    FakeNotification.answer = 'denied';
    const disconnect = useTrayStore.getState().connect();
    main.emit('notifications.onShow', offline('n1'));
    await until(() => FakeNotification.prompts === 1, 'the prompt');
    main.emit('notifications.onShow', offline('n2'));
    for (let turn = 0; turn < 100; turn++) await Promise.resolve();
    expect([FakeNotification.prompts, FakeNotification.made.length]).toEqual([1, 0]);
    FakeNotification.answer = 'granted';
    disconnect();
  });

  it('a page main asks to open (the desktop tray) becomes the address', () => {
    const disconnect = useTrayStore.getState().connect();
    main.emit('window.onOpen', { page: 'settings' });
    expect(window.location.hash).toBe('#/settings');
    disconnect();
  });
});

describe('settings', () => {
  it('a switch moves at once, and back with main’s reason when main refuses', async () => {
    main.answer('settings.get', () => ok(SETTINGS));
    const disconnect = useTrayStore.getState().connect();
    await until(() => useTrayStore.getState().settings !== null, 'the settings');
    let release: () => void = () => {};
    main.answer('settings.setNotificationKind', () => new Promise((resolve) => (release = () => resolve(fail('internal', 'Could not save the settings.')))));
    const saving = useTrayStore.getState().setKind('bot-offline', false);
    expect(useTrayStore.getState().settings?.notifications.off).toEqual(['bot-offline']);
    release();
    await saving;
    expect(useTrayStore.getState().settings?.notifications.off).toEqual([]);
    expect(useTrayStore.getState().settingsError).toBe('Could not save the settings.');
    expect(main.callsTo('settings.setNotificationKind')).toEqual([{ kind: 'bot-offline', enabled: false }]);
    disconnect();
  });
});
