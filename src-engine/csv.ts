import type { Candle } from './types.ts';

/**
 * Kline files a trader downloads, parsed without touching the disk (the caller reads the file).
 *
 * - binance: the futures kline export (data.binance.vision): 12 columns, open_time, open, high, low,
 *   close, volume, close_time, quote_volume, count, taker_buy_volume, taker_buy_quote_volume, ignore;
 *   with or without the header line; times in ms (µs in newer spot files, recognised by size).
 * - bybit: the v5 kline columns: startTime, openPrice, highPrice, lowPrice, closePrice, volume,
 *   turnover; with or without a header; newest first as Bybit lists them, or oldest first.
 *
 * Every row must be a whole, consistent candle; the first bad rows are reported with their line
 * number and why, and nothing is returned from a file with any bad row.
 */

export type KlineFormat = 'binance' | 'bybit';

export interface CsvProblem {
  line: number;
  reason: string;
}

export type KlineParse =
  | { ok: true; format: KlineFormat; candles: Candle[]; timeframeMs: number }
  | { ok: false; problems: CsvProblem[] };

const COLUMNS: Record<KlineFormat, number> = { binance: 12, bybit: 7 };
const MAX_PROBLEMS = 20;
/** Anything past 1e14 is microseconds (year 5138 in ms). */
const MICROSECONDS_FROM = 1e14;

const isNumber = (field: string) => field.trim() !== '' && Number.isFinite(Number(field));

export function parseKlineCsv(text: string, format?: KlineFormat): KlineParse {
  const problems: CsvProblem[] = [];
  const rows: { line: number; candle: Candle }[] = [];
  const lines = text.split(/\r?\n/);
  let detected: KlineFormat | undefined = format;
  for (let i = 0; i < lines.length && problems.length < MAX_PROBLEMS; i++) {
    const raw = lines[i] ?? '';
    const line = i + 1;
    if (raw.trim() === '') continue;
    const fields = raw.split(',').map((f) => f.trim());
    // A header is a first line whose first field is not a number.
    if (rows.length === 0 && problems.length === 0 && !isNumber(fields[0] ?? '') && /[a-z]/i.test(fields[0] ?? '')) {
      if (detected === undefined) detected = fields.length === COLUMNS.binance ? 'binance' : fields.length === COLUMNS.bybit ? 'bybit' : undefined;
      continue;
    }
    if (detected === undefined) {
      detected = fields.length === COLUMNS.binance ? 'binance' : fields.length === COLUMNS.bybit ? 'bybit' : undefined;
      if (detected === undefined) {
        return { ok: false, problems: [{ line, reason: `${fields.length} columns: not a Binance (12) or Bybit (7) kline file` }] };
      }
    }
    if (fields.length !== COLUMNS[detected]) {
      problems.push({ line, reason: `${fields.length} columns, a ${detected} kline row has ${COLUMNS[detected]}` });
      continue;
    }
    const bad = fields.slice(0, 6).findIndex((f) => !isNumber(f));
    if (bad >= 0) {
      problems.push({ line, reason: `${['time', 'open', 'high', 'low', 'close', 'volume'][bad]} "${fields[bad]}" is not a number` });
      continue;
    }
    const [time, open, high, low, close, volume] = fields.slice(0, 6).map(Number) as [number, number, number, number, number, number];
    const ms = time >= MICROSECONDS_FROM ? Math.floor(time / 1000) : time;
    const reason =
      !Number.isInteger(ms) || ms < 0
        ? 'time is not a whole number of milliseconds'
        : !(open > 0 && high > 0 && low > 0 && close > 0)
          ? 'prices must be positive'
          : high < Math.max(open, close, low) || low > Math.min(open, close)
            ? 'high and low do not contain open and close'
            : volume < 0
              ? 'volume is negative'
              : null;
    if (reason) {
      problems.push({ line, reason });
      continue;
    }
    rows.push({ line, candle: { time: ms, open, high, low, close, volume } });
  }
  if (problems.length > 0) return { ok: false, problems };
  if (rows.length < 2 || detected === undefined) return { ok: false, problems: [{ line: lines.length, reason: 'fewer than two candles' }] };

  rows.sort((a, b) => a.candle.time - b.candle.time);
  let timeframeMs = Infinity;
  for (let i = 1; i < rows.length; i++) {
    const gap = (rows[i] as (typeof rows)[number]).candle.time - (rows[i - 1] as (typeof rows)[number]).candle.time;
    if (gap === 0) problems.push({ line: (rows[i] as (typeof rows)[number]).line, reason: 'a second candle with the same time' });
    else timeframeMs = Math.min(timeframeMs, gap);
    if (problems.length >= MAX_PROBLEMS) break;
  }
  if (problems.length > 0) return { ok: false, problems };
  // Missing candles (an exchange outage) are fine; a candle off the timeframe's grid is not.
  for (let i = 1; i < rows.length && problems.length < MAX_PROBLEMS; i++) {
    const row = rows[i] as (typeof rows)[number];
    if ((row.candle.time - (rows[0] as (typeof rows)[number]).candle.time) % timeframeMs !== 0) {
      problems.push({ line: row.line, reason: `time is off the ${timeframeMs / 60_000}-minute grid of the other candles` });
    }
  }
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, format: detected, candles: rows.map((r) => r.candle), timeframeMs };
}
