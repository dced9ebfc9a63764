// Backtests and previews in a real worker thread: the same numbers as the engine in-process, progress
// as the run goes, and a cancel that stops a year of 1-minute candles part way.
import { describe, expect, it } from 'vitest';
import { systemTemplate } from '../../../src-engine/system-templates.ts';
import { runJob, type BacktestJob } from '../../../src-main/services/templates/backtest-job.ts';
import { BacktestRunner } from '../../../src-main/services/templates/backtest-runner.ts';

const template = systemTemplate('system-trend-following')!.template;
const DAY = 86_400_000;
const JAN = Date.UTC(2026, 0, 1);

const job = (overrides: Partial<Extract<BacktestJob, { kind: 'backtest' }>> = {}): Extract<BacktestJob, { kind: 'backtest' }> => ({
  kind: 'backtest',
  template,
  symbol: 'BTC',
  timeframe: '1h',
  from: JAN,
  to: JAN + 60 * DAY,
  initialEquity: 10_000,
  contract: 'linear',
  feeBps: 5,
  slippageBps: 2,
  ...overrides,
});

describe('the backtest worker', () => {
  it('gives exactly what the engine gives in-process, and reports progress up to the whole run', async () => {
    const runner = new BacktestRunner();
    const progress: [number, number][] = [];
    const report = await runner.backtest(job(), { onProgress: (done, total) => progress.push([done, total]) });
    expect(report).toEqual(runJob(job()));
    expect(report.cancelled).toBe(false);
    expect(report.summary.candles).toBe(60 * 24);
    expect(report.summary.trades).toBeGreaterThan(0);
    expect(progress.at(-1)).toEqual([60 * 24, 60 * 24]);
    expect(progress.map(([done]) => done)).toEqual([...progress.map(([done]) => done)].sort((a, b) => a - b));
  });

  it('stops a year of 1-minute candles when cancelled, with what it had, marked cancelled', async () => {
    const runner = new BacktestRunner();
    const controller = new AbortController();
    let total = 0;
    const report = await runner.backtest(job({ timeframe: '1m', to: JAN + 365 * DAY }), {
      signal: controller.signal,
      onProgress: (_done, all) => {
        total = all;
        controller.abort();
      },
    });
    expect(total).toBe(525_600);
    expect(report.cancelled).toBe(true);
    expect(report.summary.candles).toBeGreaterThan(0);
    expect(report.summary.candles).toBeLessThan(total);
  });

  it('refuses a period with no candles in words the user can act on', async () => {
    const runner = new BacktestRunner();
    await expect(runner.backtest(job({ from: JAN - 10 * DAY, to: JAN - DAY }))).rejects.toMatchObject({ code: 'no_candles' });
  });

  it('a worker that cannot start fails the run in our words, with its kind in main’s log', async () => {
    const lines: string[] = [];
    const runner = new BacktestRunner({ workerUrl: new URL('./no-such-worker.ts', import.meta.url), log: (line) => lines.push(line) });
    await expect(runner.backtest(job())).rejects.toMatchObject({ code: 'backtest_failed', message: 'The backtest stopped on an error inside plutarc. Try again.' });
    expect(lines).toEqual([expect.stringMatching(/^backtest worker: backtest crashed \(\w+\)$/)]);
  });

  it('previews the last candles: decisions only inside the shown window, on warm indicators', async () => {
    const runner = new BacktestRunner();
    const to = JAN + 90 * DAY + 30 * 60_000;
    const preview = await runner.preview({ kind: 'preview', template, symbol: 'ETH', timeframe: '1h', candles: 300, to });
    expect(preview.candles).toHaveLength(300);
    const first = preview.candles[0]!.time;
    // The last candle shown is the last one closed by `to`.
    expect(preview.candles.at(-1)!.time).toBe(JAN + 90 * DAY - 3_600_000);
    expect(preview.decisions.length).toBeGreaterThan(0);
    for (const d of preview.decisions) expect(d.time).toBeGreaterThan(first);
  });
});
