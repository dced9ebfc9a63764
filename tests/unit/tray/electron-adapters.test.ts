// The tray and notification adapters against small fakes of Electron's classes (Electron cannot run
// here): one long-lived Tray, the whole menu set again on every redraw, clicks handed back as typed
// actions, and notifications held until clicked and opening where they say.
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { TrayAction, TrayModel } from '../../../src-main/services/tray/tray-model.ts';
import { menuLabel, trayModel } from '../../../src-main/services/tray/tray-model.ts';
import { trayIconFileName } from '../../../src-main/services/tray/icon-files.ts';
import type { PlannedNotification } from '../../../src-main/services/tray/notification-policy.ts';
import type { WindowTarget } from '../../../src-shared/notifications.ts';
import { bot } from './bots-fixture.ts';

interface FakeItem {
  label?: string;
  type?: string;
  enabled?: boolean;
  checked?: boolean;
  click?: () => void;
  submenu?: FakeItem[];
}

const fake = vi.hoisted(() => {
  class FakeTray {
    static created: FakeTray[] = [];
    image: unknown;
    tooltip = '';
    menus: { items: FakeItem[] }[] = [];
    images: unknown[] = [];
    handlers = new Map<string, () => void>();
    constructor(image: unknown) {
      this.image = image;
      FakeTray.created.push(this);
    }
    on(event: string, handler: () => void) {
      this.handlers.set(event, handler);
    }
    setImage(image: unknown) {
      this.image = image;
      this.images.push(image);
    }
    setToolTip(tooltip: string) {
      this.tooltip = tooltip;
    }
    setContextMenu(menu: { items: FakeItem[] }) {
      this.menus.push(menu);
    }
  }
  const loaded: string[] = [];
  class FakeWindow {
    static made: FakeWindow[] = [];
    url = '';
    constructor() {
      FakeWindow.made.push(this);
    }
    once() {}
    loadURL(url: string) {
      this.url = url;
      return Promise.resolve();
    }
  }
  return {
    FakeTray,
    FakeWindow,
    loaded,
    electron: {
      BrowserWindow: FakeWindow,
      Tray: FakeTray,
      Menu: { buildFromTemplate: (items: FakeItem[]) => ({ items }) },
      nativeImage: {
        createFromPath: (path: string) => {
          loaded.push(path);
          return { path };
        },
      },
    },
  };
});
vi.mock('electron', () => fake.electron);

const { showTray } = await import('../../../src-main/electron/tray.ts');
const { nativeNotifications } = await import('../../../src-main/electron/notifications.ts');
const { createMainWindow } = await import('../../../src-main/electron/window.ts');

const model = (bots: Parameters<typeof bot>[] = []): TrayModel =>
  trayModel({ connection: 'reachable', bots: bots.map((args) => bot(...args)), unreadAlerts: 0, startAtLogin: { supported: true, enabled: false } });

describe('the tray adapter', () => {
  it('keeps one tray for the app, sets the whole menu again on every redraw and hands clicks back as actions', () => {
    const actions: TrayAction[] = [];
    const render = showTray('/icons', (action) => actions.push(action));
    const again = showTray('/icons', (action) => actions.push(action));
    expect(fake.FakeTray.created).toHaveLength(1);
    const tray = fake.FakeTray.created[0]!;

    render(model([['a', 'online', { name: 'Long & short' }]]));
    again(model([['a', 'paused', { name: 'Long & short' }]]));
    expect(tray.menus).toHaveLength(2);
    expect(tray.menus[0]).not.toBe(tray.menus[1]);
    expect(tray.tooltip).toBe('plutarc — 1 paused');

    const botMenu = tray.menus[1]!.items[0]!;
    // Linux and Windows read "&" as a shortcut marker.
    expect(botMenu.label).toBe(`${menuLabel('Long & short', process.platform)} — paused · EU · +12.40 USDT`);
    expect(menuLabel('Long & short', process.platform)).toBe(process.platform === 'darwin' ? 'Long & short' : 'Long && short');
    const resume = botMenu.submenu!.find((item) => item.label === 'Resume')!;
    const pause = botMenu.submenu!.find((item) => item.label === 'Pause')!;
    expect([resume.enabled, pause.enabled]).toEqual([true, false]);
    resume.click!();
    tray.menus[1]!.items.find((item) => item.label === 'Start at login')!.click!();
    tray.handlers.get('click')!();
    expect(actions).toEqual([{ type: 'resume-bot', botId: 'a' }, { type: 'set-start-at-login', enabled: true }, { type: 'open-window' }]);
  });

  it('loads each icon once, by the platform\'s file name, and changes the image only when the icon changes', () => {
    const render = showTray('/icons', () => undefined);
    const tray = fake.FakeTray.created[0]!;
    const before = tray.images.length;
    render(model([['a', 'online']]));
    render(model([['a', 'online'], ['b', 'online']]));
    render(model([['a', 'error']]));
    render(model([['a', 'online']]));
    expect(tray.images.length - before).toBe(3);
    expect(new Set(fake.loaded).size).toBe(fake.loaded.length);
    expect(fake.loaded).toContain(join('/icons', trayIconFileName('all-online', process.platform)));
    expect(fake.loaded).toContain(join('/icons', trayIconFileName('offline-or-error', process.platform)));
  });
});

describe('the window', () => {
  it('opens on the page a notification or the tray names', () => {
    createMainWindow('/preload.cjs', { page: 'bot', botId: 'b 1' });
    createMainWindow('/preload.cjs', { page: 'bot', botId: 'b1', confirmStop: true });
    createMainWindow('/preload.cjs', { page: 'home' });
    expect(fake.FakeWindow.made.map((window) => window.url)).toEqual([
      'app://plutarc/index.html#/bots/b%201',
      'app://plutarc/index.html#/bots/b1/stop',
      'app://plutarc/index.html#/home',
    ]);
  });
});

describe('the notification adapter', () => {
  class FakeNotification extends EventEmitter {
    static supported = true;
    static shown: FakeNotification[] = [];
    static isSupported() {
      return FakeNotification.supported;
    }
    readonly options: { title: string; body: string; urgency: string };
    constructor(options: { title: string; body: string; urgency: string }) {
      super();
      this.options = options;
    }
    show() {
      FakeNotification.shown.push(this);
    }
  }
  const planned = (opens: WindowTarget): PlannedNotification => ({
    id: 'n1',
    kind: 'bot-error',
    title: 'Tom & Jerry is in error',
    body: 'Tom & Jerry <b>failed</b>',
    opens,
    urgent: true,
  });

  it('opens the window where the notification says, and reads no markup in the body on Linux', () => {
    const opened: WindowTarget[] = [];
    const show = nativeNotifications(FakeNotification as never, (target) => opened.push(target));
    show(planned({ page: 'bot', botId: 'b1' }));
    show(planned({ page: 'security' }));
    const body = process.platform === 'linux' ? 'Tom &amp; Jerry &lt;b&gt;failed&lt;/b&gt;' : 'Tom & Jerry <b>failed</b>';
    expect(FakeNotification.shown[0]!.options).toEqual({ title: 'Tom & Jerry is in error', body, urgency: 'normal' });
    FakeNotification.shown[1]!.emit('click');
    FakeNotification.shown[0]!.emit('click');
    expect(opened).toEqual([{ page: 'security' }, { page: 'bot', botId: 'b1' }]);
  });

  it('shows nothing where the OS has no notifications', () => {
    FakeNotification.supported = false;
    const before = FakeNotification.shown.length;
    nativeNotifications(FakeNotification as never, () => undefined)(planned({ page: 'bots' }));
    expect(FakeNotification.shown).toHaveLength(before);
    FakeNotification.supported = true;
  });
});
