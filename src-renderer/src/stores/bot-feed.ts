// The pure parts of the bots store: applying main's changes to the list, merging a bot's reports, filtering,
// and the words the bots pages use. No bridge, no React, so they are tested on their own.
import type { ReportBody } from '../../../src-shared/bot-instance.ts';
import type { BotHistoryItem, BotSettings, BotState, BotSummary, Money } from '../../../src-shared/bots.ts';
import type { BotsChangeEvent } from '../../../src-shared/ipc-bots.ts';

/** The list as main's model changed it; a change to a bot keeps its place, a new bot joins in name order. */
export function applyBotsChange(bots: readonly BotSummary[], change: BotsChangeEvent): BotSummary[] {
  switch (change.kind) {
    case 'reset':
      return sortByName(change.bots);
    case 'removed':
      return bots.filter((b) => b.id !== change.botId);
    case 'updated': {
      const at = bots.findIndex((b) => b.id === change.bot.id);
      if (at === -1) return sortByName([...bots, change.bot]);
      const next = [...bots];
      next[at] = change.bot;
      return next;
    }
  }
}

const sortByName = (bots: readonly BotSummary[]): BotSummary[] => [...bots].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));

export const STATE_WORDS: Readonly<Record<BotState, string>> = {
  deploying: 'Deploying',
  online: 'Online',
  paused: 'Paused',
  offline: 'Offline',
  error: 'Error',
  stopped: 'Stopped',
};

export type StateFilter = BotState | 'all';

/** The bots whose name, symbol, key or template holds `query` (any case), in `state` unless it is `all`. */
export function filterBots(bots: readonly BotSummary[], query: string, state: StateFilter): BotSummary[] {
  const needle = query.trim().toLocaleLowerCase();
  return bots.filter(
    (b) =>
      (state === 'all' || b.state === state) &&
      (needle === '' || [b.name, b.symbol, b.keyLabel, b.templateName].some((field) => field.toLocaleLowerCase().includes(needle))),
  );
}

/** One report of a bot, from its history page or live from the stream, keyed by instance and sequence. */
export interface BotReport {
  instanceId: string;
  seq: number;
  report: ReportBody;
}

/** Reports of every kind the bot page holds while reports arrive live (older pages the user asks for are added). */
export const MAX_REPORTS_HELD = 3_000;

/**
 * Adds reports to what the bot page holds, newest first, each once: a report heard live and again in the
 * history page (or twice after the stream resumed) shows once. Live reports push the oldest out past a bound;
 * older pages the user asked for are kept whole (`keepAll`).
 */
export function mergeReports(held: readonly BotReport[], incoming: readonly BotReport[], { keepAll = false } = {}): BotReport[] {
  const key = (r: BotReport) => `${r.instanceId}:${r.seq}`;
  const seen = new Set(held.map(key));
  const fresh = incoming.filter((r) => {
    const k = key(r);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  if (fresh.length === 0) return [...held];
  const merged = [...fresh, ...held].sort((a, b) => b.report.time - a.report.time || b.seq - a.seq);
  return keepAll ? merged : merged.slice(0, Math.max(MAX_REPORTS_HELD, held.length));
}

export const reportsFromHistory = (items: readonly BotHistoryItem[]): BotReport[] =>
  items.map((item) => ({ instanceId: item.instanceId, seq: item.seq, report: item.report }));

/** The reports of one kind, newest first. */
export function reportsOf<K extends ReportBody['kind']>(reports: readonly BotReport[], kind: K): (BotReport & { report: Extract<ReportBody, { kind: K }> })[] {
  return reports.filter((r): r is BotReport & { report: Extract<ReportBody, { kind: K }> } => r.report.kind === kind);
}

/** "12 s ago", "3 min ago", "2 h ago", "4 d ago"; "no heartbeat yet" before the first. A clock a little ahead of ours reads "just now". */
export function formatAgo(iso: string | null, nowMs: number): string {
  if (!iso) return 'no heartbeat yet';
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return 'unknown';
  const seconds = Math.floor((nowMs - then) / 1000);
  if (seconds < 1) return 'just now';
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.floor(hours / 24)} d ago`;
}

/** The last-heartbeat line of a bot: its age while an instance runs; a stopped bot has none to wait for. */
export function heartbeatWords(bot: Pick<BotSummary, 'state' | 'lastHeartbeatAt'>, nowMs: number): string {
  if (bot.state === 'stopped') return bot.lastHeartbeatAt ? `last ${formatAgo(bot.lastHeartbeatAt, nowMs)}, not running now` : 'not running';
  return formatAgo(bot.lastHeartbeatAt, nowMs);
}

/** A signed amount with its currency: "+12.34 USDT", "−0.0012 BTC"; coins get more decimals than dollars. */
export function formatMoney(money: Money): string {
  const decimals = Math.abs(money.amount) >= 1 || money.amount === 0 ? 2 : 6;
  const sign = money.amount > 0 ? '+' : money.amount < 0 ? '−' : '';
  return `${sign}${Math.abs(money.amount).toFixed(decimals)} ${money.currency}`;
}

/** What stopping does to the bot's position, per its on-stop policy: the Stop and Delete dialogs say it. */
export function onStopWords(policy: 'close' | 'keep'): string {
  return policy === 'close'
    ? 'The bot closes its open position at market before its instance is destroyed.'
    : 'The bot leaves its open position on the exchange for you to manage; nothing closes it.';
}

export interface EquityPoint {
  /** ms since the epoch. */
  time: number;
  equity: number;
}

/**
 * The equity chart's series: one point per second at most (its time in seconds), oldest first; the last report of each second wins.
 */
export function equitySeries(points: readonly EquityPoint[]): { time: number; value: number }[] {
  const bySecond = new Map<number, number>();
  for (const p of [...points].sort((a, b) => a.time - b.time)) bySecond.set(Math.floor(p.time / 1000), p.equity);
  return [...bySecond].map(([time, value]) => ({ time, value }));
}


/** The settings that differ from the bot's: what an edit sends. */
export function changedSettings(before: BotSettings, after: BotSettings): Partial<BotSettings> {
  const changes: Partial<Record<keyof BotSettings, unknown>> = {};
  for (const field of Object.keys(after) as (keyof BotSettings)[]) {
    if (JSON.stringify(after[field]) !== JSON.stringify(before[field])) changes[field] = after[field];
  }
  return changes as Partial<BotSettings>;
}

