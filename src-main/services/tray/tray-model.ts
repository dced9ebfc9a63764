// The tray as plain data: which icon, which tooltip, which menu. `src-main/electron/tray.ts` only
// renders what this returns, so every decision about the tray is here and tested without Electron.
import type { BotState, BotSummary, Money } from '../../../src-shared/bots.ts';
import { EXCHANGE_FACTS, type ExchangeId } from '../../../src-shared/exchanges.ts';
import { TrayIconName } from '../../../src-shared/ipc-tray.ts';
import type { RegionId } from '../../../src-shared/regions.ts';

/** How main stands with the API: the tray can only vouch for bot states while the API answers. */
export type ApiConnection = 'reachable' | 'unreachable' | 'signed-out';

/**
 * The tray's connection from main's API watch (`api.onStatus`) and the session: signed out comes first;
 * while the first health check is still out, the API counts as reachable rather than flash a failure.
 */
export function trayConnection(apiState: 'connecting' | 'online' | 'offline', signedIn: boolean): ApiConnection {
  if (!signedIn) return 'signed-out';
  return apiState === 'offline' ? 'unreachable' : 'reachable';
}

export interface StartAtLogin {
  /** False where the OS offers no way to start the app at login. */
  supported: boolean;
  enabled: boolean;
}

export interface TrayInput {
  connection: ApiConnection;
  bots: readonly BotSummary[];
  unreadAlerts: number;
  startAtLogin: StartAtLogin;
}

/** The icon variants; `resources/tray/` holds each one for every platform. */
export const TRAY_ICONS = TrayIconName.options;
export type TrayIcon = TrayIconName;

/** What a click on a menu item asks for; the adapter hands it back to main, which acts on it. */
export type TrayAction =
  | { type: 'open-window' }
  | { type: 'open-bot'; botId: string }
  | { type: 'pause-bot'; botId: string }
  | { type: 'resume-bot'; botId: string }
  /** Stopping closes positions by the bot's exit rules: the window asks the user to confirm first. */
  | { type: 'confirm-stop-bot'; botId: string }
  | { type: 'set-start-at-login'; enabled: boolean }
  | { type: 'quit' };

export type TrayMenuItem =
  | { kind: 'text'; label: string }
  | { kind: 'separator' }
  | { kind: 'action'; label: string; enabled: boolean; action: TrayAction }
  | { kind: 'checkbox'; label: string; checked: boolean; action: TrayAction }
  | { kind: 'submenu'; label: string; items: readonly TrayMenuItem[] };

export interface TrayModel {
  icon: TrayIcon;
  tooltip: string;
  menu: readonly TrayMenuItem[];
}

/** The order states are counted in, most reassuring first. */
const STATE_ORDER: readonly BotState[] = ['online', 'deploying', 'paused', 'offline', 'error', 'stopped'];

const STATE_WORDS: Readonly<Record<BotState, string>> = {
  deploying: 'deploying',
  online: 'online',
  paused: 'paused',
  offline: 'offline',
  error: 'in error',
  stopped: 'stopped',
};

const REGION_WORDS: Readonly<Record<RegionId, string>> = { eu: 'EU', us: 'US', sg: 'Singapore' };
const EXCHANGE_NAMES = new Map<ExchangeId, string>(EXCHANGE_FACTS.map((facts) => [facts.id, facts.name]));

/** Which controls a bot's state allows: a bot must be running to pause, paused to resume, and not yet stopped to stop. */
export function allowedControls(state: BotState): { pause: boolean; resume: boolean; stop: boolean } {
  return { pause: state === 'online', resume: state === 'paused', stop: state !== 'stopped' };
}

/** The icon for a set of bots: the worst state wins; stopped bots are at rest and count for nothing. */
export function iconFor(connection: ApiConnection, bots: readonly BotSummary[]): TrayIcon {
  if (connection === 'unreachable') return 'api-unreachable';
  const states = new Set(bots.map((bot) => bot.state));
  states.delete('stopped');
  if (connection === 'signed-out' || states.size === 0) return 'no-bots';
  if (states.has('offline') || states.has('error')) return 'offline-or-error';
  if (states.has('paused') || states.has('deploying')) return 'paused-or-deploying';
  return 'all-online';
}

/** "3 online · 1 offline": each state that has bots, in a fixed order. */
export function stateCounts(bots: readonly BotSummary[]): string {
  const counts = new Map<BotState, number>();
  for (const bot of bots) counts.set(bot.state, (counts.get(bot.state) ?? 0) + 1);
  return STATE_ORDER.filter((state) => counts.has(state))
    .map((state) => `${counts.get(state)} ${STATE_WORDS[state]}`)
    .join(' · ');
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

function tooltipFor(input: TrayInput): string {
  const parts = ['plutarc'];
  if (input.connection === 'signed-out') parts.push('signed out');
  else {
    if (input.connection === 'unreachable') parts.push('API unreachable');
    if (input.bots.length === 0) parts.push('no bots');
    // While the API is unreachable the counts are the last ones it sent.
    else parts.push(input.connection === 'unreachable' ? `last known: ${stateCounts(input.bots)}` : stateCounts(input.bots));
    if (input.unreadAlerts > 0) parts.push(plural(input.unreadAlerts, 'unread alert', 'unread alerts'));
  }
  // Windows cuts tray tooltips at 127 characters.
  return shorten(parts.join(' — '), 127);
}

const STABLE_COINS = new Set(['USDT', 'USDC', 'USD', 'BUSD', 'DAI']);

// Made once: building a number format costs far more than using one, and a rebuild formats every bot.
const CENTS = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2, signDisplay: 'exceptZero' });
const COIN = new Intl.NumberFormat('en-US', { maximumFractionDigits: 8, signDisplay: 'exceptZero' });

/** "+12.40 USDT", "−0.00012 BTC": cents for dollars, up to eight decimals for coins. */
export function formatMoney(money: Money): string {
  const number = (STABLE_COINS.has(money.currency) ? CENTS : COIN).format(money.amount);
  return `${number.replace('-', '\u2212')} ${money.currency}`;
}

/** Menu labels stay one short line: long names and reasons are cut with an ellipsis. */
export function shorten(text: string, max: number): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length <= max ? oneLine : `${oneLine.slice(0, max - 1).trimEnd()}…`;
}

function botItem(bot: BotSummary, apiReachable: boolean): TrayMenuItem {
  const pnl = bot.pnlToday ? formatMoney(bot.pnlToday) : 'no PnL yet';
  const controls = allowedControls(bot.state);
  const items: TrayMenuItem[] = [];
  if (bot.stateReason) items.push({ kind: 'text', label: shorten(bot.stateReason, 80) });
  if (!bot.sandboxed) items.push({ kind: 'text', label: 'Runs without its sandbox' });
  items.push(
    { kind: 'text', label: `${bot.symbol} on ${EXCHANGE_NAMES.get(bot.exchange) ?? bot.exchange}${bot.testnet ? ' (testnet)' : ''}` },
    { kind: 'separator' },
    { kind: 'action', label: 'Open', enabled: true, action: { type: 'open-bot', botId: bot.id } },
    // Controls go through the API: while it does not answer they would only fail.
    { kind: 'action', label: 'Pause', enabled: apiReachable && controls.pause, action: { type: 'pause-bot', botId: bot.id } },
    { kind: 'action', label: 'Resume', enabled: apiReachable && controls.resume, action: { type: 'resume-bot', botId: bot.id } },
    { kind: 'action', label: 'Stop…', enabled: apiReachable && controls.stop, action: { type: 'confirm-stop-bot', botId: bot.id } },
  );
  return {
    kind: 'submenu',
    label: `${shorten(bot.name, 40)} — ${STATE_WORDS[bot.state]} · ${REGION_WORDS[bot.region]} · ${pnl}`,
    items,
  };
}

/** The most bots the menu lists; the rest are counted and a click opens the window. */
export const MENU_BOTS = 15;

/** Bots that need the user come first (error, offline), then those on their way; by name within a state. */
const ATTENTION_ORDER: readonly BotState[] = ['error', 'offline', 'deploying', 'paused', 'online', 'stopped'];

/**
 * The bots the menu lists. A tray menu is not a fleet view: past a screenful it cannot be read, and on
 * Linux every item is sent over D-Bus again at each rebuild.
 */
function botsToShow(bots: readonly BotSummary[]): BotSummary[] {
  return [...bots]
    .sort((a, b) => ATTENTION_ORDER.indexOf(a.state) - ATTENTION_ORDER.indexOf(b.state) || a.name.localeCompare(b.name, 'en') || a.id.localeCompare(b.id))
    .slice(0, MENU_BOTS);
}

/** The tray for this moment. Pure: the same input always gives the same model. */
export function trayModel(input: TrayInput): TrayModel {
  const menu: TrayMenuItem[] = [];
  const signedIn = input.connection !== 'signed-out';
  if (!signedIn) menu.push({ kind: 'text', label: 'Signed out' });
  else {
    if (input.connection === 'unreachable') menu.push({ kind: 'text', label: 'API unreachable: states are the last known' });
    if (input.bots.length === 0) menu.push({ kind: 'text', label: 'No bots yet' });
    const shown = botsToShow(input.bots);
    for (const bot of shown) menu.push(botItem(bot, input.connection === 'reachable'));
    const more = input.bots.length - shown.length;
    if (more > 0) menu.push({ kind: 'action', label: `${plural(more, 'more bot', 'more bots')}…`, enabled: true, action: { type: 'open-window' } });
  }
  menu.push(
    { kind: 'separator' },
    {
      kind: 'action',
      label: signedIn && input.unreadAlerts > 0 ? `Open plutarc (${plural(input.unreadAlerts, 'unread alert', 'unread alerts')})` : 'Open plutarc',
      enabled: true,
      action: { type: 'open-window' },
    },
  );
  if (input.startAtLogin.supported) {
    menu.push({
      kind: 'checkbox',
      label: 'Start at login',
      checked: input.startAtLogin.enabled,
      action: { type: 'set-start-at-login', enabled: !input.startAtLogin.enabled },
    });
  }
  const running = signedIn && input.bots.some((bot) => bot.state !== 'stopped');
  menu.push(
    { kind: 'separator' },
    {
      kind: 'action',
      label: running ? 'Quit plutarc (bots keep running in their regions)' : 'Quit plutarc',
      enabled: true,
      action: { type: 'quit' },
    },
  );
  return { icon: iconFor(input.connection, input.bots), tooltip: tooltipFor(input), menu };
}

/**
 * A label as the platform's menu shows it: Windows and Linux read `&` as a keyboard-access marker, so a
 * bot named "Long & short" would lose its ampersand and underline a letter.
 */
export function menuLabel(label: string, platform: NodeJS.Platform): string {
  return platform === 'darwin' ? label : label.replaceAll('&', '&&');
}
