// The bot process on the exchange simulator: start to first evaluation against a bare `node -e 0`; resident
// memory of an idle bot against an idle bare node; and decision to order acknowledged against a bare signed
// ccxt createOrder on the same simulator, in the same run.
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'rolldown';
import { loadUndici, egressDispatcher } from '../src-bot/egress.ts';
import { ExchangeClient } from '../src-bot/exchange.ts';
import { median } from '../src-shared/latency.ts';
import { deployOnSim, startBot, startWorld } from '../tests/integration/bot/world.ts';

const STARTS = Number(process.env.BENCH_ROUNDS ?? 5);
const MINUTE = 60_000;
const ms = (n: number) => `${n.toFixed(1)} ms`;

async function bareNode(args: string[]): Promise<{ ms: number; rssKb: number | null }> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'ignore'] });
  let rssKb: number | null = null;
  if (args.includes('--idle')) {
    await new Promise((resolve) => child.stdout.once('data', resolve));
    rssKb = rssOf(child.pid!);
    child.kill('SIGTERM');
  }
  await new Promise((resolve) => child.once('exit', resolve));
  return { ms: performance.now() - started, rssKb };
}

function rssOf(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? Number.NaN);
}

// The bot as it would ship: one ES module bundle of our code (libraries stay in node_modules), so the start
// does not pay for stripping TypeScript types file by file. Both are measured.
const bundleDir = join(import.meta.dirname, '..', 'out', 'bot-bench');
await build({
  input: join(import.meta.dirname, '..', 'src-bot', 'main.ts'),
  platform: 'node',
  external: [/^[^./]/],
  output: { file: join(bundleDir, 'main.mjs'), format: 'esm' },
  logLevel: 'silent',
});
const ENTRIES = { source: undefined, bundle: join(bundleDir, 'main.mjs') } as const;

const world = await startWorld();
try {
  const { sim } = world;
  const t0 = Math.ceil(sim.clock.now() / MINUTE) * MINUTE + MINUTE;
  sim.clock.set(t0);
  sim.clock.pin();

  // 1. Start to first evaluation, and idle memory once trading; the source and the bundle, turn about.
  const bare: number[] = [];
  const figures = { source: { ready: [] as number[], evaluation: [] as number[], rss: [] as number[] }, bundle: { ready: [] as number[], evaluation: [] as number[], rss: [] as number[] } };
  for (let round = 0; round < STARTS; round++) {
    bare.push((await bareNode(['-e', '0'])).ms);
    for (const kind of ['source', 'bundle'] as const) {
      const bot = await deployOnSim(world);
      const started = performance.now();
      const proc = await startBot(world, bot, { entry: ENTRIES[kind], env: { PLUTARC_BOT_POLL_MS: '10', PLUTARC_BOT_HEARTBEAT_MS: '5000' } });
      await proc.waitFor((l) => l.msg === 'trading');
      const ready = performance.now() - started;
      const candle = Math.floor(sim.clock.now() / MINUTE) * MINUTE;
      const advanced = performance.now();
      sim.clock.advance(MINUTE);
      await proc.waitFor((l) => l.msg === 'evaluated' && l.candle === candle);
      figures[kind].ready.push(ready);
      figures[kind].evaluation.push(ready + (performance.now() - advanced));
      // Idle: trading, between closes.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      figures[kind].rss.push(rssOf(proc.child.pid!));
      proc.child.kill('SIGTERM');
      await proc.exited;
    }
  }
  const bareIdle = await bareNode(['-e', 'console.log("up"); setInterval(() => {}, 1000)', '--', '--idle']);
  const bareMs = median(bare)!;
  console.log(`bot start to first evaluation (${STARTS} starts each, medians; simulator on loopback, hand-off on fd 3):`);
  console.log(`  bare node -e 0: ${ms(bareMs)}`);
  for (const kind of ['source', 'bundle'] as const) {
    const f = figures[kind];
    console.log(
      `  ${kind.padEnd(6)}: ready to trade ${ms(median(f.ready)!)}, first evaluation ${ms(median(f.evaluation)!)} (${(median(f.evaluation)! / bareMs).toFixed(1)}× bare node), idle RSS ${(median(f.rss)! / 1024).toFixed(1)} MB`,
    );
  }
  console.log(`  idle bare node RSS: ${((bareIdle.rssKb ?? Number.NaN) / 1024).toFixed(1)} MB`);

  // 2. Decision to order acknowledged, against a bare signed createOrder on the same simulator.
  const bot = await deployOnSim(world);
  const proc = await startBot(world, bot, { entry: ENTRIES.bundle, env: { PLUTARC_BOT_POLL_MS: '10', PLUTARC_BOT_HEARTBEAT_MS: '5000' } });
  await proc.waitFor((l) => l.msg === 'trading');
  let candle = Math.floor(sim.clock.now() / MINUTE) * MINUTE;
  for (let i = 0; i < 240; i++) {
    sim.clock.advance(MINUTE);
    await proc.waitFor((l) => l.msg === 'evaluated' && l.candle === candle);
    candle += MINUTE;
  }
  proc.child.kill('SIGTERM');
  await proc.exited;
  const botOrders = proc.lines.filter((l) => l.msg === 'order acknowledged').map((l) => Number(l.ms));

  const key = sim.keys.create({ exchange: 'binanceusdm', balances: { USDT: 1_000_000 } });
  const undici = await loadUndici();
  const client = await ExchangeClient.open({
    exchange: 'binanceusdm',
    credentials: { apiKey: key.apiKey, secret: key.secret },
    symbol: 'BTC/USDT:USDT',
    testnet: false,
    exchangeUrl: sim.urls.binanceusdm,
    dispatcher: egressDispatcher(undici, undefined),
    timeoutMs: 10_000,
  });
  await client.syncTime();
  await client.loadMarket();
  const bareOrders: number[] = [];
  for (let i = 0; i < Math.max(20, botOrders.length); i++) {
    // The simulator's clock stands still between closes; ours does not: measure the offset (untimed), as the bot does.
    await client.syncTime();
    const started = performance.now();
    await client.placeMarket({ side: i % 2 === 0 ? 'buy' : 'sell', quantity: 0.01, clientOrderId: `bench-${i}`, reduceOnly: false });
    bareOrders.push(performance.now() - started);
  }
  const botMedian = median(botOrders)!;
  const bareMedian = median(bareOrders)!;
  console.log(`decision to order acknowledged (${botOrders.length} bot orders, ${bareOrders.length} bare createOrder calls, medians):`);
  console.log(`  bare signed ccxt createOrder: ${bareMedian.toFixed(3)} ms`);
  console.log(`  bot, decision to ack:         ${botMedian.toFixed(3)} ms  overhead ${(botMedian - bareMedian).toFixed(3)} ms`);
} finally {
  await world.close();
  rmSync(bundleDir, { recursive: true, force: true });
}
