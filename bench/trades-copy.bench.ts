// The desktop's local copy of trades at 100,000 trades: applying the change feed a page at a time, and what the
// Trades page asks for (a window of rows by offset with its total, the summary), each against the baseline of
// reading every trade and filtering and sorting in JavaScript, measured in the same run. Then main's event-loop delay
// while a summary of all 100,000 runs: summed on main's thread (as before the summary worker), in the summary worker,
// and with nothing running (the baseline).
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import SQLite from 'better-sqlite3';
import { SummaryRunner } from '../src-main/services/trades/summary-runner.ts';
import { TradesCopy } from '../src-main/services/trades/trades-copy.ts';
import { summarizeTrades } from '../src-shared/trade-summary.ts';
import { MAX_TRADES_PAGE, type Trade } from '../src-shared/trades.ts';
import { tempDir } from '../tests/support/temp.ts';

const TRADES = 100_000;
const BOTS = 20;
const START = Date.UTC(2026, 0, 1);

const tradeAt = (n: number): Trade => ({
  id: `trade-${n}`,
  feedSeq: n,
  time: START + n * 30_000,
  botId: `bot-${n % BOTS}`,
  botName: `Bot ${n % BOTS}`,
  runId: 'run-1',
  instanceId: 'inst-1',
  exchange: 'binanceusdm',
  symbol: n % 3 === 0 ? 'ETH/USDT:USDT' : 'BTC/USDT:USDT',
  testnet: false,
  side: n % 2 === 0 ? 'buy' : 'sell',
  action: n % 2 === 0 ? 'enter' : 'exit',
  quantity: 0.01 + (n % 7) / 100,
  price: 90_000 + (n % 1000),
  fee: 0.4,
  currency: 'USDT',
  realizedPnl: n % 2 === 0 ? null : ((n * 7919) % 200) - 95,
  clientOrderId: `order-${n}`,
  decision: null,
});

const ms = (work: () => unknown, runs = 5): number => {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    work();
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
};

const dir = tempDir('plutarc-bench-trades-');
try {
  const copy = new TradesCopy(join(dir.path, 'trades.db'), 'bench');
  const start = performance.now();
  for (let from = 1; from <= TRADES; from += MAX_TRADES_PAGE) {
    const trades = Array.from({ length: Math.min(MAX_TRADES_PAGE, TRADES - from + 1) }, (_, i) => tradeAt(from + i));
    copy.apply({ trades, removedBotIds: [], next: trades.at(-1)!.feedSeq, more: from + MAX_TRADES_PAGE <= TRADES }, null);
  }
  const applyMs = performance.now() - start;
  console.log(`apply ${TRADES} trades in pages of ${MAX_TRADES_PAGE}: ${applyMs.toFixed(0)} ms (${((TRADES / applyMs) * 1000).toFixed(0)} trades/s)`);

  // The baseline: every trade read and parsed, then filtered and sorted in JavaScript.
  const everything = () => copy.window({}, { field: 'time', direction: 'asc' }, 0, TRADES).trades;
  const baseline = ms(() => {
    const all = everything().filter((t) => t.botId === 'bot-3');
    all.sort((a, b) => (b.realizedPnl ?? -Infinity) - (a.realizedPnl ?? -Infinity));
    return all.slice(200, 300);
  }, 3);
  console.log(`baseline (read all, filter, sort in JS, take 100): ${baseline.toFixed(1)} ms`);

  const cases: [string, () => unknown][] = [
    ['newest 100 of all', () => copy.window({}, { field: 'time', direction: 'desc' }, 0, 100)],
    ['100 at offset 90,000', () => copy.window({}, { field: 'time', direction: 'desc' }, 90_000, 100)],
    ['one bot, by realised PnL, offset 200', () => copy.window({ botId: 'bot-3' }, { field: 'realizedPnl', direction: 'desc' }, 200, 100)],
    ['one symbol and side, a month', () => copy.window({ symbol: 'ETH/USDT:USDT', side: 'buy', from: START, to: START + 30 * 86_400_000 }, { field: 'time', direction: 'desc' }, 0, 100)],
    ['facets', () => copy.facets()],
    ['summary of all', () => copy.summary({})],
    ['summary of one bot', () => copy.summary({ botId: 'bot-3' })],
  ];
  for (const [label, work] of cases) {
    const t = ms(work);
    console.log(`${label}: ${t.toFixed(2)} ms (${(baseline / t).toFixed(1)}x faster than the baseline)`);
  }
  const parsed = everything();
  console.log(`summarizeTrades alone over ${parsed.length}: ${ms(() => summarizeTrades(parsed)).toFixed(1)} ms`);

  // What the summary's SQL-aggregate alternative would cost in SQLite alone (by bot, by day, totals, and the running
  // PnL of the curve by a window function), against reading the rows the summary reads today.
  const sql = new SQLite(copy.file, { readonly: true });
  const aggregates = () => {
    sql.prepare('select currency, bot_id, count(*), sum(fee), sum(realized_pnl) from trades group by currency, bot_id').all();
    sql.prepare("select currency, date(time / 1000, 'unixepoch') as day, count(*), sum(fee), sum(realized_pnl) from trades group by currency, day").all();
    sql.prepare('select currency, count(*), sum(realized_pnl > 0), sum(case when realized_pnl > 0 then realized_pnl end), sum(case when realized_pnl < 0 then realized_pnl end) from trades group by currency').all();
    sql.prepare('select time, sum(coalesce(realized_pnl, 0) - fee) over (partition by currency order by time, feed_seq) as pnl from trades').all();
  };
  const rowsToday = () => sql.prepare('select time, feed_seq, bot_id, bot_name, currency, fee, realized_pnl from trades order by time, feed_seq').all();
  console.log(`summary rows read as today: ${ms(rowsToday).toFixed(1)} ms; SQL aggregates instead: ${ms(aggregates).toFixed(1)} ms`);
  sql.close();

  // Main's event loop while a summary runs: the delay a timer, an IPC call or a tray click would wait.
  const loopDelay = async (label: string, work: () => Promise<unknown>): Promise<void> => {
    const histogram = monitorEventLoopDelay({ resolution: 5 });
    histogram.enable();
    // The histogram counts from its first sample on: a block before it would go unseen.
    await new Promise((sampled) => setTimeout(sampled, 20));
    const start = performance.now();
    await work();
    const took = performance.now() - start;
    // One more turn so a delay the work caused at its very end is recorded too.
    await new Promise((turned) => setTimeout(turned, 10));
    histogram.disable();
    console.log(`${label}: ${took.toFixed(0)} ms to answer; main's event-loop delay max ${(histogram.max / 1e6).toFixed(1)} ms, p99 ${(histogram.percentile(99) / 1e6).toFixed(1)} ms`);
  };
  const runner = new SummaryRunner();
  await runner.summarize(copy.file, {});
  // Three rounds side by side: on a shared machine one round alone says little.
  for (let round = 1; round <= 3; round++) {
    await loopDelay(`round ${round}, nothing running (baseline, 300 ms)`, () => new Promise((done) => setTimeout(done, 300)));
    await loopDelay(`round ${round}, summary of ${TRADES} on main's thread (before)`, () => new Promise((done) => setImmediate(() => done(copy.summary({})))));
    await loopDelay(`round ${round}, summary of ${TRADES} in the summary worker (after)`, () => runner.summarize(copy.file, {}));
  }
  await runner.stopAll();
  copy.close();
} finally {
  dir.cleanup();
}
