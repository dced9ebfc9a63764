// The pure parts of the Trades page: which windows of rows a scroll position needs and which to forget, the filter
// as the date fields show it, the words and numbers in the table, and the summary's curve as the charts take it.
import type { PnlPoint, Trade, TradeFilter, TradeSort } from '../../../src-shared/trades.ts';

/** Rows main sends per ask: a screen is about 20, so one window covers a screen and what is just past it. */
export const WINDOW_ROWS = 100;
/**
 * Windows kept at most (1,200 rows): the screen, what is around it and a little of where the user just was. Far
 * ones are forgotten and asked for again if the user comes back, so 100,000 trades never sit in the page's state.
 */
export const WINDOWS_KEPT = 12;

export const windowOf = (row: number): number => Math.floor(row / WINDOW_ROWS);

/** How many windows past the rows in view are asked for in the direction the table scrolls (one on the other side). */
export const WINDOWS_AHEAD = 3;

/**
 * The windows rows `first`..`last` (inclusive) fall in, and those about to show: WINDOWS_AHEAD past them in the
 * direction of the scroll (`direction` > 0: down, < 0: up), one on the other side (one either side at rest), so a
 * fast scroll finds its rows already asked for. Clamped to the list of `total` rows.
 */
export function windowsFor(first: number, last: number, total: number, direction = 0): number[] {
  if (total <= 0 || last < first) return [];
  const lastWindow = windowOf(total - 1);
  const before = direction < 0 ? WINDOWS_AHEAD : 1;
  const after = direction > 0 ? WINDOWS_AHEAD : 1;
  const from = Math.max(0, windowOf(Math.max(0, first)) - before);
  const to = Math.min(lastWindow, windowOf(Math.min(last, total - 1)) + after);
  const out: number[] = [];
  for (let index = from; index <= to; index++) out.push(index);
  return out;
}

/** Which windows to forget when more than `WINDOWS_KEPT` are held: the farthest from the rows in view first. */
export function windowsToForget(held: Iterable<number>, first: number, last: number, kept = WINDOWS_KEPT): number[] {
  const centre = (windowOf(first) + windowOf(last)) / 2;
  const byDistance = [...held].sort((a, b) => Math.abs(b - centre) - Math.abs(a - centre) || b - a);
  return byDistance.slice(0, Math.max(0, byDistance.length - kept));
}

/** The row at `index` if its window is held. */
export function rowAt(windows: ReadonlyMap<number, { rows: readonly Trade[] }>, index: number): Trade | null {
  return windows.get(windowOf(index))?.rows[index % WINDOW_ROWS] ?? null;
}

/** Sorting by a column: its header again turns the order round; another column starts with the largest first. */
export function nextSort(current: TradeSort, field: TradeSort['field']): TradeSort {
  if (current.field === field) return { field, direction: current.direction === 'desc' ? 'asc' : 'desc' };
  return { field, direction: 'desc' };
}

const DAY_MS = 86_400_000;

/** A date field's day (YYYY-MM-DD, a UTC day as the summary's days are) as the filter's `from`. */
export function fromOfDay(day: string): number | undefined {
  const ms = Date.parse(`${day}T00:00:00Z`);
  return Number.isNaN(ms) ? undefined : ms;
}

/** The "to" day the user picks is included: the filter's `to` is exclusive, so it is the next day's start. */
export function toOfDay(day: string): number | undefined {
  const start = fromOfDay(day);
  return start === undefined ? undefined : start + DAY_MS;
}

/** The day a date field shows for the filter's `from` (or for its exclusive `to`, with `exclusive`). */
export function dayOf(ms: number | undefined, exclusive = false): string {
  if (ms === undefined) return '';
  return new Date(exclusive ? ms - DAY_MS : ms).toISOString().slice(0, 10);
}

/** The filter without its unset fields, so "nothing set" is `{}` and a cleared field does not linger as undefined. */
export function cleanFilter(filter: Partial<Record<keyof TradeFilter, unknown>>): TradeFilter {
  return Object.fromEntries(Object.entries(filter).filter(([, value]) => value !== undefined && value !== '')) as TradeFilter;
}

export const isFiltered = (filter: TradeFilter): boolean => Object.keys(cleanFilter(filter)).length > 0;

// Formatters are made once: making one per cell costs more than drawing the row.
const quantityFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 8 });
const moneyFormat = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 8 });
const percentFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const ratioFormat = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

export const formatQuantity = (value: number): string => quantityFormat.format(value);
/** Money with its sign written out (− for a loss), as PnL is read. */
export function formatSigned(value: number): string {
  const sign = value > 0 ? '+' : value < 0 ? '−' : '';
  return `${sign}${moneyFormat.format(Math.abs(value))}`;
}
export const formatTradeTime = (ms: number): string => timeFormat.format(ms);
export const formatPercent = (value: number | null): string => (value === null ? '—' : `${percentFormat.format(value)}%`);
/** A profit factor; none when nothing was lost (it would be infinite) or nothing closed. */
export const formatRatio = (value: number | null): string => (value === null ? '—' : ratioFormat.format(value));

/** The decision column: what the engine decided and why, or why there was none. */
export function decisionWords(trade: Pick<Trade, 'decision'>): string {
  const d = trade.decision;
  if (!d) return 'no candle decision';
  return `${d.type} ${d.side}${d.by ? ` by ${d.by}` : ''}: ${d.reason}`;
}

/** A run's id is long; its start tells runs apart in a row, the whole id is in the trade's detail. */
export const shortRun = (runId: string): string => runId.slice(0, 8);

/**
 * The summary's curve as the charts take it: seconds, strictly increasing. Trades in the same second become one
 * point with the second's last PnL and its deepest drawdown, so a dip inside the second still shows.
 */
export function curveBySecond(curve: readonly PnlPoint[]): { time: number; pnl: number; drawdown: number }[] {
  const out: { time: number; pnl: number; drawdown: number }[] = [];
  for (const point of curve) {
    const time = Math.floor(point.time / 1000);
    const last = out[out.length - 1];
    if (last && time <= last.time) {
      last.pnl = point.pnl;
      last.drawdown = Math.max(last.drawdown, point.drawdown);
    } else out.push({ time, pnl: point.pnl, drawdown: point.drawdown });
  }
  return out;
}
