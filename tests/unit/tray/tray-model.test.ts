import { describe, expect, it } from 'vitest';
import type { BotState, BotSummary } from '../../../src-shared/bots.ts';
import { BotSummary as BotSummarySchema } from '../../../src-shared/bots.ts';
import {
  formatMoney,
  menuLabel,
  MENU_BOTS,
  trayConnection,
  trayModel,
  type ApiConnection,
  type TrayAction,
  type TrayIcon,
  type TrayInput,
  type TrayMenuItem,
} from '../../../src-main/services/tray/tray-model.ts';
import { BOT_STATES, bot } from './bots-fixture.ts';

const input = (bots: readonly BotSummary[], extra: Partial<TrayInput> = {}): TrayInput => ({
  connection: 'reachable',
  bots,
  unreadAlerts: 0,
  startAtLogin: { supported: true, enabled: false },
  ...extra,
});

/** Every multiset of states with up to two bots per state: 3^6 = 729 fleets. */
function* fleets(): Generator<Map<BotState, number>> {
  for (let code = 0; code < 3 ** BOT_STATES.length; code++) {
    const counts = new Map<BotState, number>();
    let rest = code;
    for (const state of BOT_STATES) {
      counts.set(state, rest % 3);
      rest = Math.floor(rest / 3);
    }
    yield counts;
  }
}

const botsOf = (counts: Map<BotState, number>) =>
  [...counts].flatMap(([state, n]) => Array.from({ length: n }, (_, i) => bot(`${state}-${i}`, state)));

/** The icon as the issue states it, read from the counts. */
function expectedIcon(connection: ApiConnection, counts: Map<BotState, number>): TrayIcon {
  const has = (state: BotState) => (counts.get(state) ?? 0) > 0;
  if (connection === 'unreachable') return 'api-unreachable';
  if (connection === 'signed-out') return 'no-bots';
  if (has('offline') || has('error')) return 'offline-or-error';
  if (has('paused') || has('deploying')) return 'paused-or-deploying';
  if (has('online')) return 'all-online';
  return 'no-bots';
}

const ATTENTION: readonly BotState[] = ['error', 'offline', 'deploying', 'paused', 'online', 'stopped'];

const TOOLTIP_WORDS: Record<string, BotState> = {
  online: 'online',
  deploying: 'deploying',
  paused: 'paused',
  offline: 'offline',
  'in error': 'error',
  stopped: 'stopped',
};

/** Reads "3 online · 1 in error" back into counts. */
function countsInTooltip(tooltip: string): Map<BotState, number> {
  const counts = new Map<BotState, number>();
  for (const match of tooltip.matchAll(/(\d+) (online|deploying|paused|offline|in error|stopped)/g)) {
    counts.set(TOOLTIP_WORDS[match[2]!]!, Number(match[1]));
  }
  return counts;
}

const botMenus = (menu: readonly TrayMenuItem[]) => menu.filter((item): item is Extract<TrayMenuItem, { kind: 'submenu' }> => item.kind === 'submenu');
const actionItem = (items: readonly TrayMenuItem[], type: TrayAction['type']) =>
  items.find((item): item is Extract<TrayMenuItem, { kind: 'action' }> => item.kind === 'action' && item.action.type === type);

describe('the tray model over every fleet', () => {
  it('picks the icon, counts every state in the tooltip and lists every bot, for each connection', () => {
    let checked = 0;
    for (const connection of ['reachable', 'unreachable', 'signed-out'] as const) {
      for (const counts of fleets()) {
        const bots = botsOf(counts);
        const model = trayModel(input(bots, { connection }));
        expect(model.icon, `${connection} ${JSON.stringify([...counts])}`).toBe(expectedIcon(connection, counts));
        if (connection === 'signed-out') {
          expect(botMenus(model.menu)).toHaveLength(0);
          expect(model.tooltip).toBe('plutarc — signed out');
        } else {
          const nonZero = new Map([...counts].filter(([, n]) => n > 0));
          expect(countsInTooltip(model.tooltip)).toEqual(nonZero);
          const listed = botMenus(model.menu).map((item) => item.label.split(' — ')[0]!);
          expect(listed).toHaveLength(Math.min(bots.length, MENU_BOTS));
          expect(new Set(listed).size).toBe(listed.length);
          // Those that need the user come first: no listed bot is in a calmer state than one left out or listed after it.
          const rankOf = (name: string) => ATTENTION.indexOf(bots.find((b) => b.name === name)!.state);
          for (let i = 1; i < listed.length; i++) expect(rankOf(listed[i]!)).toBeGreaterThanOrEqual(rankOf(listed[i - 1]!));
          const left = bots.filter((b) => !listed.includes(b.name));
          for (const b of left) expect(ATTENTION.indexOf(b.state)).toBeGreaterThanOrEqual(rankOf(listed.at(-1)!));
          const more = actionItem(model.menu, 'open-window');
          if (left.length > 0) expect(model.menu).toContainEqual({ kind: 'action', label: `${left.length} more bot${left.length === 1 ? '' : 's'}…`, enabled: true, action: { type: 'open-window' } });
          else expect(more!.label.startsWith('Open plutarc')).toBe(true);
          if (bots.length === 0) expect(model.tooltip).toContain('no bots');
          if (connection === 'unreachable') expect(model.tooltip).toContain('API unreachable');
        }
        checked++;
      }
    }
    expect(checked).toBe(3 * 729);
  });

  it('writes the tooltip in the issue\'s words', () => {
    const bots = [bot('a', 'online'), bot('b', 'online'), bot('c', 'online'), bot('d', 'offline')];
    expect(trayModel(input(bots)).tooltip).toBe('plutarc — 3 online · 1 offline');
    expect(trayModel(input(bots, { unreadAlerts: 2 })).tooltip).toBe('plutarc — 3 online · 1 offline — 2 unread alerts');
    expect(trayModel(input(bots, { connection: 'unreachable' })).tooltip).toBe('plutarc — API unreachable — last known: 3 online · 1 offline');
  });

  it('keeps the tooltip within the 127 characters Windows shows', () => {
    const bots = BOT_STATES.flatMap((state) => Array.from({ length: 1000 }, (_, i) => bot(`${state}${i}`, state)));
    const tooltip = trayModel(input(bots, { connection: 'unreachable', unreadAlerts: 123456 })).tooltip;
    expect(tooltip.length).toBeLessThanOrEqual(127);
  });

  it('is plain data: the same after a JSON round trip, with no callbacks in it', () => {
    const model = trayModel(input(BOT_STATES.map((state) => bot(state, state)), { unreadAlerts: 1 }));
    expect(JSON.parse(JSON.stringify(model))).toEqual(model);
  });
});

describe('each bot in the menu', () => {
  // Pause needs a running bot, Resume a paused one, Stop anything not yet stopped.
  const ALLOWED: Record<BotState, { pause: boolean; resume: boolean; stop: boolean }> = {
    deploying: { pause: false, resume: false, stop: true },
    online: { pause: true, resume: false, stop: true },
    paused: { pause: false, resume: true, stop: true },
    offline: { pause: false, resume: false, stop: true },
    error: { pause: false, resume: false, stop: true },
    stopped: { pause: false, resume: false, stop: false },
  };

  it.each(BOT_STATES)('offers the controls a %s bot allows, each naming the bot', (state) => {
    const [item] = botMenus(trayModel(input([bot('x', state)])).menu);
    const pause = actionItem(item!.items, 'pause-bot')!;
    const resume = actionItem(item!.items, 'resume-bot')!;
    const stop = actionItem(item!.items, 'confirm-stop-bot')!;
    expect({ pause: pause.enabled, resume: resume.enabled, stop: stop.enabled }).toEqual(ALLOWED[state]);
    for (const control of [pause, resume, stop]) expect(control.action).toMatchObject({ botId: 'x' });
    expect(actionItem(item!.items, 'open-bot')).toMatchObject({ enabled: true, action: { botId: 'x' } });
  });

  it('asks for confirmation in the window before a stop', () => {
    const [item] = botMenus(trayModel(input([bot('x', 'online')])).menu);
    const stop = actionItem(item!.items, 'confirm-stop-bot')!;
    expect(stop.label).toBe('Stop…');
    expect(item!.items.some((i) => i.kind === 'action' && (i.action.type as string) === 'stop-bot')).toBe(false);
  });

  it.each(BOT_STATES)('disables every control of a %s bot while the API is unreachable', (state) => {
    const [item] = botMenus(trayModel(input([bot('x', state)], { connection: 'unreachable' })).menu);
    for (const type of ['pause-bot', 'resume-bot', 'confirm-stop-bot'] as const) expect(actionItem(item!.items, type)!.enabled).toBe(false);
    expect(actionItem(item!.items, 'open-bot')!.enabled).toBe(true);
  });

  it('shows state, region and PnL today in the label, and the reason inside', () => {
    const bots = [
      bot('a', 'online', { name: 'BTC trend', region: 'sg', pnlToday: { amount: 12.4, currency: 'USDT' } }),
      bot('b', 'error', { name: 'ETH mean', region: 'us', pnlToday: { amount: -3.1, currency: 'USDT' }, stateReason: 'the key lost its futures permission' }),
      bot('c', 'deploying', { name: 'XBT inverse', pnlToday: null, sandboxed: false }),
    ];
    // Listed by need of attention: the bot in error, the one deploying, the one online.
    const [b, c, a] = botMenus(trayModel(input(bots)).menu);
    expect(a!.label).toBe('BTC trend — online · Singapore · +12.40 USDT');
    expect(b!.label).toBe('ETH mean — in error · US · \u22123.10 USDT');
    expect(c!.label).toBe('XBT inverse — deploying · EU · no PnL yet');
    expect(b!.items[0]).toEqual({ kind: 'text', label: 'the key lost its futures permission' });
    expect(c!.items).toContainEqual({ kind: 'text', label: 'Runs without its sandbox' });
    expect(a!.items).toContainEqual({ kind: 'text', label: 'BTC/USDT:USDT on Bybit (testnet)' });
  });

  it('lists a screenful of a large fleet, those needing attention first, and counts the rest', () => {
    const fleet = Array.from({ length: 40 }, (_, i) => bot(`b${String(i).padStart(2, '0')}`, i === 37 ? 'error' : i === 5 ? 'offline' : 'online'));
    const menu = trayModel(input(fleet)).menu;
    const listed = botMenus(menu).map((item) => item.label.split(' — ')[0]);
    expect(listed).toHaveLength(MENU_BOTS);
    expect(listed.slice(0, 3)).toEqual(['Bot b37', 'Bot b05', 'Bot b00']);
    expect(menu).toContainEqual({ kind: 'action', label: '25 more bots…', enabled: true, action: { type: 'open-window' } });
    expect(trayModel(input(fleet)).tooltip).toBe('plutarc — 38 online · 1 offline · 1 in error');
  });

  it('cuts a long name or reason to one short line', () => {
    const long = bot('a', 'error', { name: 'N'.repeat(100), stateReason: `first line\n${'why '.repeat(100)}` });
    const [item] = botMenus(trayModel(input([long])).menu);
    expect(item!.label.split(' — ')[0]).toHaveLength(40);
    expect(item!.label.split(' — ')[0]!.endsWith('…')).toBe(true);
    const reason = item!.items[0] as { label: string };
    expect(reason.label.length).toBeLessThanOrEqual(80);
    expect(reason.label).not.toContain('\n');
  });
});

describe('the app items', () => {
  it('opens plutarc, counting unread alerts', () => {
    expect(actionItem(trayModel(input([])).menu, 'open-window')!.label).toBe('Open plutarc');
    expect(actionItem(trayModel(input([], { unreadAlerts: 1 })).menu, 'open-window')!.label).toBe('Open plutarc (1 unread alert)');
    expect(actionItem(trayModel(input([], { unreadAlerts: 4 })).menu, 'open-window')!.label).toBe('Open plutarc (4 unread alerts)');
  });

  it('offers Start at login only where the OS supports it, as a checkbox that toggles', () => {
    const find = (model: ReturnType<typeof trayModel>) => model.menu.find((item) => item.kind === 'checkbox');
    expect(find(trayModel(input([], { startAtLogin: { supported: false, enabled: false } })))).toBeUndefined();
    expect(find(trayModel(input([], { startAtLogin: { supported: true, enabled: false } })))).toEqual({
      kind: 'checkbox',
      label: 'Start at login',
      checked: false,
      action: { type: 'set-start-at-login', enabled: true },
    });
    expect(find(trayModel(input([], { startAtLogin: { supported: true, enabled: true } })))).toMatchObject({
      checked: true,
      action: { type: 'set-start-at-login', enabled: false },
    });
  });

  it('says on Quit that bots keep running in their regions while any runs', () => {
    const quit = (bots: BotSummary[]) => actionItem(trayModel(input(bots)).menu, 'quit')!.label;
    for (const state of BOT_STATES.filter((s) => s !== 'stopped')) expect(quit([bot('a', state)])).toContain('bots keep running in their regions');
    expect(quit([bot('a', 'stopped')])).toBe('Quit plutarc');
    expect(quit([])).toBe('Quit plutarc');
  });

  it('ends with Quit in every state, and Open plutarc is always there', () => {
    for (const connection of ['reachable', 'unreachable', 'signed-out'] as const) {
      const menu = trayModel(input([bot('a', 'online')], { connection })).menu;
      expect(menu.at(-1)).toMatchObject({ kind: 'action', action: { type: 'quit' }, enabled: true });
      expect(actionItem(menu, 'open-window')!.enabled).toBe(true);
    }
  });
});

describe('text as platforms show it', () => {
  it('keeps an ampersand literal on Windows and Linux, where it marks a shortcut', () => {
    expect(menuLabel('Long & short', 'win32')).toBe('Long && short');
    expect(menuLabel('Long & short', 'linux')).toBe('Long && short');
    expect(menuLabel('Long & short', 'darwin')).toBe('Long & short');
  });

  it('writes money with cents for dollars and up to eight decimals for coins', () => {
    expect(formatMoney({ amount: 0, currency: 'USDT' })).toBe('0.00 USDT');
    expect(formatMoney({ amount: 1234.5, currency: 'USDC' })).toBe('+1,234.50 USDC');
    expect(formatMoney({ amount: -0.000123, currency: 'BTC' })).toBe('\u22120.000123 BTC');
  });
});

describe('the shared bot summary', () => {
  it('reads a summary as the API will send it', () => {
    const summary = bot('a', 'online');
    expect(BotSummarySchema.parse(summary)).toEqual(summary);
  });

  it('refuses an unknown state, region or exchange, and BitMEX', () => {
    for (const bad of [{ state: 'running' }, { region: 'fra' }, { exchange: 'bitmex' }, { pnlToday: { amount: Number.NaN, currency: 'USDT' } }]) {
      expect(BotSummarySchema.safeParse({ ...bot('a', 'online'), ...bad }).success, JSON.stringify(bad)).toBe(false);
    }
  });
});

describe('the connection the tray shows', () => {
  it('is signed out whatever the API does, unreachable only once a check failed', () => {
    for (const api of ['connecting', 'online', 'offline'] as const) expect(trayConnection(api, false)).toBe('signed-out');
    expect(trayConnection('connecting', true)).toBe('reachable');
    expect(trayConnection('online', true)).toBe('reachable');
    expect(trayConnection('offline', true)).toBe('unreachable');
  });
});
