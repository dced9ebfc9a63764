// Decision to order acknowledged, per exchange, with the bot trading the simulator: the time from the engine's
// decision to the order known filled (price and size), as the bot logs it. Bybit answers an order with its ids only,
// so its figure includes the look-up that finds the order filled; Binance's answer is the filled order itself.
import { median } from '../src-shared/latency.ts';
import { deployOnMarket, MARKETS_UNDER_TEST, startBot, startWorld } from '../tests/integration/bot/world.ts';

const CLOSES = Number(process.env.BENCH_ROUNDS ?? 120);
const MINUTE = 60_000;

console.log(`decision to order acknowledged (${CLOSES} one-minute closes each, simulator on loopback; median, p90, count):`);
for (const market of [MARKETS_UNDER_TEST.binanceLinear, MARKETS_UNDER_TEST.bybitInverse, MARKETS_UNDER_TEST.krakenInverse]) {
  const world = await startWorld();
  try {
    const { sim } = world;
    sim.clock.set(Math.ceil(sim.clock.now() / MINUTE) * MINUTE + MINUTE);
    sim.clock.pin();
    const bot = await deployOnMarket(world, market);
    const proc = await startBot(world, bot, { env: { PLUTARC_BOT_POLL_MS: '10', PLUTARC_BOT_HEARTBEAT_MS: '5000' } });
    await proc.waitFor((l) => l.msg === 'trading');
    let candle = Math.floor(sim.clock.now() / MINUTE) * MINUTE;
    for (let i = 0; i < CLOSES; i++) {
      sim.clock.advance(MINUTE);
      await proc.waitFor((l) => l.msg === 'evaluated' && l.candle === candle);
      candle += MINUTE;
    }
    proc.child.kill('SIGTERM');
    await proc.exited;
    const acks = proc.lines.filter((l) => l.msg === 'order acknowledged').map((l) => Number(l.ms));
    const sorted = [...acks].sort((a, b) => a - b);
    const p90 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.9))] ?? Number.NaN;
    console.log(`  ${`${market.exchange} ${market.symbol}`.padEnd(28)}: ${median(acks)?.toFixed(1)} ms, p90 ${p90.toFixed(1)} ms, ${acks.length} orders`);
  } finally {
    await world.close();
  }
}
