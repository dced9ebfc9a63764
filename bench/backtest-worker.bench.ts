// Main stays responsive while a backtest runs: main's event-loop delay (p50, p99, max) while the worker
// backtests a year of 1-minute candles through the heaviest system template, against the same figure
// measured with nothing running, in the same process. Also the same run in-process, blocking the loop,
// to show what the worker spares.
import { systemTemplate } from '../src-engine/system-templates.ts';
import { runJob, type BacktestJob } from '../src-main/services/templates/backtest-job.ts';
import { BacktestRunner } from '../src-main/services/templates/backtest-runner.ts';
import { DEFAULT_SERIES_ORIGIN_MS } from '../src-shared/market-series.ts';

const HEAVIEST = 'system-consensus';
const template = systemTemplate(HEAVIEST)?.template;
if (!template) throw new Error(`no system template ${HEAVIEST}`);
const job: Extract<BacktestJob, { kind: 'backtest' }> = {
  kind: 'backtest',
  template,
  symbol: 'BTC',
  timeframe: '1m',
  from: DEFAULT_SERIES_ORIGIN_MS,
  to: DEFAULT_SERIES_ORIGIN_MS + 365 * 86_400_000,
  initialEquity: 10_000,
  contract: 'linear',
  feeBps: 5,
  slippageBps: 2,
};

const TICK_MS = 10;
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

/**
 * Event-loop delay while `work` runs: a 10 ms timer (as a UI's timers and IPC replies would feel it)
 * records how late each tick fires. A loop blocked for seconds shows as one very late tick.
 */
async function delayDuring(label: string, work: () => Promise<unknown>) {
  const lateness: number[] = [];
  let expected = performance.now() + TICK_MS;
  let running = true;
  const tick = () => {
    const now = performance.now();
    lateness.push(Math.max(0, now - expected));
    expected = now + TICK_MS;
    if (running) timer = setTimeout(tick, TICK_MS);
  };
  let timer = setTimeout(tick, TICK_MS);
  const started = performance.now();
  await work();
  const seconds = (performance.now() - started) / 1000;
  running = false;
  clearTimeout(timer);
  tick();
  const sorted = [...lateness].sort((a, b) => a - b);
  const p50 = percentile(sorted, 50);
  const p99 = percentile(sorted, 99);
  const max = sorted.at(-1) ?? 0;
  console.log(
    `${label.padEnd(34)} ${seconds.toFixed(2).padStart(6)} s   ${String(lateness.length).padStart(5)} ticks   delay p50 ${p50.toFixed(2).padStart(7)} ms  p99 ${p99.toFixed(2).padStart(8)} ms  max ${max.toFixed(0).padStart(6)} ms`,
  );
  return { seconds, p99 };
}

const idle = await delayDuring('idle (baseline, 3 s)', () => new Promise((resolve) => setTimeout(resolve, 3000)));
let progressMessages = 0;
const worker = await delayDuring('backtest in the worker', () => new BacktestRunner().backtest(job, { onProgress: () => progressMessages++ }));
const blocking = await delayDuring('same backtest on main (blocking)', async () => runJob(job));
console.log(`progress messages received on main: ${progressMessages}`);
console.log(`p99 ratio, worker run / idle: ${(worker.p99 / Math.max(idle.p99, 0.01)).toFixed(2)}×; blocking run / worker run: ${(blocking.p99 / Math.max(worker.p99, 0.01)).toFixed(0)}×`);
console.log(`target: p99 under 20 ms while a backtest runs: ${worker.p99 < 20 ? 'met' : 'not met'} (${worker.p99.toFixed(2)} ms; idle on this machine: ${idle.p99.toFixed(2)} ms)`);
