// The bot process on the exchange simulator: start to first evaluation against a bare `node -e 0`, from source and
// bundled; resident memory of an idle bot against an idle bare node; and decision to order acknowledged against a bare signed
// ccxt createOrder on the same simulator, in the same run.
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadUndici, egressDispatcher } from '../src-bot/egress.ts';
import { ExchangeClient } from '../src-bot/exchange.ts';
import { BOT_NODE_OPTIONS } from '../src-orchestrator/bot-bundle.ts';
import { bundleBot, type BotBundle } from '../tools/bundle-bot.ts';
import { median } from '../src-shared/latency.ts';
import { deployOnSim, startBot, startWorld, type World } from '../tests/integration/bot/world.ts';

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

// The bot as it ships (tools/bundle-bot.ts): everything in one folder, each exchange a chunk of its own, against the
// TypeScript source, the same bundle with every exchange inlined into one file, a one-file bundle of the one exchange
// the bench trades on, and the shipped bundle under the heap caps the drivers start it with (BOT_NODE_OPTIONS).
const bundleDir = join(import.meta.dirname, '..', 'out', 'bot-bench');
const split = await bundleBot({ dir: join(bundleDir, 'split') });
const single = await bundleBot({ dir: join(bundleDir, 'single'), codeSplitting: false });
const binanceOnly = await bundleBot({ dir: join(bundleDir, 'binanceusdm'), onlyExchange: 'binanceusdm' });
const kib = (b: BotBundle) => `${(b.files.reduce((sum, f) => sum + f.bytes, 0) / 1024).toFixed(0)} KiB in ${b.files.length} files`;
console.log(`bundles: split ${kib(split)}, one file ${kib(single)}, binanceusdm only ${kib(binanceOnly)}`);
const VARIANTS = {
  source: { entry: undefined, nodeOptions: '' },
  'bundle, one file': { entry: join(single.dir, 'main.mjs'), nodeOptions: '' },
  'bundle, binanceusdm only': { entry: join(binanceOnly.dir, 'main.mjs'), nodeOptions: '' },
  'bundle, split': { entry: join(split.dir, 'main.mjs'), nodeOptions: '' },
  'bundle, split, capped heap': { entry: join(split.dir, 'main.mjs'), nodeOptions: BOT_NODE_OPTIONS.join(' ') },
} as const;
type Variant = keyof typeof VARIANTS;
const ENTRIES = { bundle: join(split.dir, 'main.mjs') } as const;

/** A world whose simulator clock stands still between the closes the bench makes. */
async function pinnedWorld(): Promise<World> {
  const fresh = await startWorld();
  fresh.sim.clock.set(Math.ceil(fresh.sim.clock.now() / MINUTE) * MINUTE + MINUTE);
  fresh.sim.clock.pin();
  return fresh;
}

const world = await pinnedWorld();
try {
  const { sim } = world;

  // 1. Start to first evaluation, and idle memory once trading; each variant in turn, round after round.
  const bare: number[] = [];
  const figures = Object.fromEntries(Object.keys(VARIANTS).map((k) => [k, { ready: [] as number[], evaluation: [] as number[], rss: [] as number[] }])) as Record<
    Variant,
    { ready: number[]; evaluation: number[]; rss: number[] }
  >;
  for (let round = 0; round < STARTS; round++) {
    bare.push((await bareNode(['-e', '0'])).ms);
    // Each bot is its own user, and the API limits sign-ups per address: a world of its own per round.
    const roundWorld = await pinnedWorld();
    const { sim } = roundWorld;
    for (const kind of Object.keys(VARIANTS) as Variant[]) {
      const { entry, nodeOptions } = VARIANTS[kind];
      const bot = await deployOnSim(roundWorld);
      const started = performance.now();
      const proc = await startBot(roundWorld, bot, { entry, env: { PLUTARC_BOT_POLL_MS: '10', PLUTARC_BOT_HEARTBEAT_MS: '5000', ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}) } });
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
    await roundWorld.close();
  }
  const bareIdle = await bareNode(['-e', 'console.log("up"); setInterval(() => {}, 1000)', '--', '--idle']);
  const bareMs = median(bare)!;
  console.log(`bot start to first evaluation (${STARTS} starts each, medians; simulator on loopback, hand-off on fd 3):`);
  console.log(`  bare node -e 0: ${ms(bareMs)}`);
  for (const kind of Object.keys(VARIANTS) as Variant[]) {
    const f = figures[kind];
    console.log(
      `  ${kind.padEnd(26)}: ready to trade ${ms(median(f.ready)!)}, first evaluation ${ms(median(f.evaluation)!)} (${(median(f.evaluation)! / bareMs).toFixed(1)}× bare node), idle RSS ${(median(f.rss)! / 1024).toFixed(1)} MB`,
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
