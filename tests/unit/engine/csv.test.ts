// Kline files as Binance and Bybit export them, and the bad rows a user's file can hold.
import { describe, expect, it } from 'vitest';
import { parseKlineCsv } from '../../../src-engine/csv.ts';

const BINANCE_HEADER = 'open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore';
const binanceRow = (time: number, open: number, high: number, low: number, close: number, volume = 12.5) =>
  [time, open, high, low, close, volume, time + 59_999, volume * close, 42, volume / 2, (volume * close) / 2, 0].join(',');
const T0 = 1_767_225_600_000; // 2026-01-01T00:00Z

describe('Binance futures kline export', () => {
  it('with its header: candles in order and the timeframe from the spacing', () => {
    const text = [BINANCE_HEADER, binanceRow(T0, 100, 101, 99, 100.5), binanceRow(T0 + 60_000, 100.5, 102, 100, 101.5, 20), ''].join('\n');
    expect(parseKlineCsv(text)).toEqual({
      ok: true,
      format: 'binance',
      timeframeMs: 60_000,
      candles: [
        { time: T0, open: 100, high: 101, low: 99, close: 100.5, volume: 12.5 },
        { time: T0 + 60_000, open: 100.5, high: 102, low: 100, close: 101.5, volume: 20 },
      ],
    });
  });

  it('without a header, with Windows line ends, and with microsecond times', () => {
    const text = [binanceRow(T0 * 1000, 100, 101, 99, 100.5), binanceRow((T0 + 3_600_000) * 1000, 100.5, 102, 100, 101.5)].join('\r\n');
    const parsed = parseKlineCsv(text);
    expect(parsed.ok && parsed.candles.map((c) => c.time)).toEqual([T0, T0 + 3_600_000]);
    expect(parsed.ok && parsed.timeframeMs).toBe(3_600_000);
  });

  it('a missing candle (an outage) is fine; a candle off the grid is not', () => {
    const gap = [binanceRow(T0, 1, 1, 1, 1), binanceRow(T0 + 60_000, 1, 1, 1, 1), binanceRow(T0 + 180_000, 1, 1, 1, 1)].join('\n');
    expect(parseKlineCsv(gap).ok).toBe(true);
    const off = [binanceRow(T0, 1, 1, 1, 1), binanceRow(T0 + 60_000, 1, 1, 1, 1), binanceRow(T0 + 150_000, 1, 1, 1, 1)].join('\n');
    expect(parseKlineCsv(off)).toEqual({ ok: false, problems: [{ line: 3, reason: 'time is off the 1-minute grid of the other candles' }] });
  });
});

describe('Bybit v5 kline rows', () => {
  it('newest first, as Bybit lists them, come out oldest first', () => {
    const text = ['startTime,openPrice,highPrice,lowPrice,closePrice,volume,turnover', `${T0 + 300_000},101,102,100,101.5,3,303`, `${T0},100,101,99,101,2,202`].join('\n');
    const parsed = parseKlineCsv(text);
    expect(parsed).toMatchObject({ ok: true, format: 'bybit', timeframeMs: 300_000 });
    expect(parsed.ok && parsed.candles).toEqual([
      { time: T0, open: 100, high: 101, low: 99, close: 101, volume: 2 },
      { time: T0 + 300_000, open: 101, high: 102, low: 100, close: 101.5, volume: 3 },
    ]);
  });
});

describe('bad files are refused with the line and the reason', () => {
  const good = binanceRow(T0, 100, 101, 99, 100.5);
  const cases: [string, string, { line: number; reason: string }][] = [
    ['a short row', `${good}\n${T0 + 60_000},100,101,99`, { line: 2, reason: '4 columns, a binance kline row has 12' }],
    ['a word for a price', `${good}\n${binanceRow(T0 + 60_000, 100, 101, 99, 100).replace(',101,', ',abc,')}`, { line: 2, reason: 'high "abc" is not a number' }],
    ['a high below the close', `${good}\n${binanceRow(T0 + 60_000, 100, 100.2, 99, 100.5)}`, { line: 2, reason: 'high and low do not contain open and close' }],
    ['a zero price', `${good}\n${binanceRow(T0 + 60_000, 0, 101, 99, 100.5)}`, { line: 2, reason: 'prices must be positive' }],
    ['a negative volume', `${good}\n${binanceRow(T0 + 60_000, 100, 101, 99, 100.5, -1)}`, { line: 2, reason: 'volume is negative' }],
    ['a fractional time', `${good}\n${binanceRow(T0 + 60_000.5, 100, 101, 99, 100.5)}`, { line: 2, reason: 'time is not a whole number of milliseconds' }],
    ['the same time twice', `${good}\n${good}`, { line: 2, reason: 'a second candle with the same time' }],
    ['another file altogether', 'date,price\n2026-01-01,5', { line: 2, reason: '2 columns: not a Binance (12) or Bybit (7) kline file' }],
  ];
  it.each(cases)('%s', (_name, text, problem) => {
    expect(parseKlineCsv(text)).toEqual({ ok: false, problems: [problem] });
  });

  it('a single candle is not a series', () => {
    expect(parseKlineCsv(good)).toMatchObject({ ok: false, problems: [{ reason: 'fewer than two candles' }] });
  });

  it('reports at most 20 problems', () => {
    const text = [good, ...Array.from({ length: 30 }, () => 'x,1,2,3,4,5,6,7,8,9,10,11')].join('\n');
    const parsed = parseKlineCsv(text);
    expect(parsed.ok === false && parsed.problems.length).toBe(20);
  });
});
