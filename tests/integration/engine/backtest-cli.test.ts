// `npm run backtest` as a user runs it: a real process reading real files in a temp directory.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { systemTemplate } from '../../../src-engine/system-templates.ts';
import { DEFAULT_SERIES_ORIGIN_MS, defaultSeries, TIMEFRAMES } from '../../../src-shared/market-series.ts';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, '../../../tools/backtest.ts');
const dir = mkdtempSync(join(tmpdir(), 'plutarc-backtest-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function backtest(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { cwd: dir });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Thirty days of the simulator's hourly BTC candles, written as Binance exports them. */
function binanceCsv(): string {
  const candles = defaultSeries('BTC').candles(TIMEFRAMES['1h'], DEFAULT_SERIES_ORIGIN_MS, DEFAULT_SERIES_ORIGIN_MS + 30 * 86_400_000);
  const header = 'open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore';
  return [header, ...candles.map((c) => [c.time, c.open, c.high, c.low, c.close, c.volume, c.time + 3_599_999, c.volume * c.close, 100, c.volume / 2, 0, 0].join(','))].join('\n');
}

const summaryValue = (stdout: string, label: string) => stdout.split('\n').find((l) => l.startsWith(label))?.slice(20).trim();

describe('npm run backtest', () => {
  it('runs a system template over a Binance CSV, prints the summary and writes the trades', async () => {
    writeFileSync(join(dir, 'btc-1h.csv'), binanceCsv());
    const out = join(dir, 'trades.csv');
    const result = await backtest('--template', 'system-trend-following', '--csv', 'btc-1h.csv', '--equity', '5000', '--out', out);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(summaryValue(result.stdout, 'candles')).toBe('720 from btc-1h.csv (binance format, no funding data)');
    expect(summaryValue(result.stdout, 'start equity')).toBe('5000.00 USDT');
    const trades = Number(summaryValue(result.stdout, 'trades'));
    expect(trades).toBeGreaterThan(3);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('side,quantity,entry_time,entry_price,exit_time,exit_price,gross_pnl,fees,funding,net_pnl,exit_by,exit_reason');
    expect(lines).toHaveLength(trades + 1);
    // The first trade is the trend-following template's first: long decided at the 02:00 close on 2026-01-03 (see the system template tests), filled at the
    // open of the next candle, which is that same instant.
    expect(lines[1]).toMatch(/^long,[\d.]+,2026-01-03T02:00:00\.000Z,/);
  });

  it('runs a template file over the simulated series, inverse contract', async () => {
    const file = join(dir, 'mine.json');
    writeFileSync(file, JSON.stringify({ ...systemTemplate('system-consensus')!.template, name: 'My consensus' }));
    const result = await backtest('--template', file, '--series', 'BTC', '--from', '2026-01-01', '--to', '2026-01-15', '--contract', 'inverse', '--equity', '1');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^My consensus: inverse contract, fees 5 bps, slippage 2 bps per side/);
    expect(summaryValue(result.stdout, 'start equity')).toBe('1.00000000 coin');
    expect(summaryValue(result.stdout, 'candles')).toBe('336 from simulated plutarc:BTC series');
  });

  it('two separate processes on the same input write byte-identical trades', async () => {
    const args = ['--template', 'system-funding-rate-fade', '--series', 'ETH', '--from', '2026-02-01', '--to', '2026-02-20'];
    const first = await backtest(...args, '--out', join(dir, 'first.csv'));
    const second = await backtest(...args, '--out', join(dir, 'second.csv'));
    expect(second.stdout.replace('second.csv', 'first.csv')).toBe(first.stdout);
    const trades = readFileSync(join(dir, 'first.csv'));
    expect(trades.toString().split('\n').length).toBeGreaterThan(5);
    expect(readFileSync(join(dir, 'second.csv')).equals(trades)).toBe(true);
  });

  it('refuses a CSV with a bad row, naming the line and the reason', async () => {
    const lines = binanceCsv().split('\n');
    lines[3] = lines[3]!.replace(/^(\d+),([\d.]+),([\d.]+),/, '$1,$2,oops,');
    writeFileSync(join(dir, 'bad.csv'), lines.join('\n'));
    const result = await backtest('--template', 'system-trend-following', '--csv', 'bad.csv');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('line 4: high "oops" is not a number');
  });

  it('refuses an invalid template file with the path of each problem', async () => {
    writeFileSync(join(dir, 'broken.json'), JSON.stringify({ ...systemTemplate('system-consensus')!.template, sides: 'sideways' }));
    const result = await backtest('--template', 'broken.json', '--series', 'BTC', '--from', '2026-01-01', '--to', '2026-01-02');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/broken\.json is not a valid template:\n\s+sides:/);
  });

  it('refuses unclear arguments', async () => {
    expect((await backtest('--template', 'system-consensus')).stderr).toMatch(/give either --csv or --series/);
    expect((await backtest('--template', 'nope', '--series', 'BTC', '--from', '2026-01-01', '--to', '2026-01-02')).stderr).toMatch(/neither a system template/);
    expect((await backtest('--bogus')).code).toBe(2);
  });
});
