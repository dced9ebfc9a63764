// Outages: the simulator failing with 5xx, dropped connections and rate limits, an order accepted whose answer
// is lost, and the API unreachable for a while. The bot keeps trading through all of them, and once the API
// is back every report arrives, in order, exactly once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportBody } from '../../../src-shared/bot-instance.ts';
import { deployOnMarket, MARKETS_UNDER_TEST, startBot, startSwitchableRelay, startWorld, until, type World } from './world.ts';

const MINUTE = 60_000;

describe.each(Object.values(MARKETS_UNDER_TEST))('outages: $exchange $symbol', (market) => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld();
  });
  afterAll(() => world.close());

  it('survives exchange faults and an API outage; every report arrives once, in order', async () => {
    const { sim } = world;
    const relay = await startSwitchableRelay(world.api.url);
    try {
      const t0 = Math.ceil(sim.clock.now() / MINUTE) * MINUTE + MINUTE;
      // Pin first, then set: set-then-pin would pin wherever the wall clock has moved since.
      sim.clock.pin();
      sim.clock.set(t0);
      const bot = await deployOnMarket(world, market);
      const proc = await startBot(world, bot, { apiUrl: relay.url });
      await proc.waitFor((l) => l.msg === 'trading');
      let candle = t0;
      const step = async () => {
        sim.clock.advance(MINUTE);
        await proc.waitFor((l) => l.msg === 'evaluated' && l.candle === candle);
        candle += MINUTE;
      };
      for (let i = 0; i < 5; i++) await step();

      relay.setUp(false);
      // Each kind of exchange failure, on the calls the bot makes every close and on its orders.
      const { exchange, paths } = market;
      sim.faults.add({ exchange, mode: 'server-error', path: paths.candles, count: 3 });
      sim.faults.add({ exchange, mode: 'drop', path: paths.clock, count: 3 });
      sim.faults.add({ exchange, mode: 'rate-limit', method: 'POST', path: paths.order, count: 2 });
      sim.faults.add({ exchange, mode: 'drop-response', method: 'POST', path: paths.order, count: 1 });
      for (let i = 0; i < 40; i++) await step();
      expect(sim.faults.list()).toEqual([]);
      expect(proc.lines.some((l) => l.msg === 'exchange unavailable; will reconcile when it answers again')).toBe(true);
      expect(proc.lines.some((l) => l.msg === 'reports not delivered; keeping them')).toBe(true);

      relay.setUp(true);
      for (let i = 0; i < 3; i++) await step();
      proc.child.kill('SIGTERM');
      expect(await proc.exited).toEqual({ code: 0, signal: null });
      expect(proc.lines.find((l) => l.msg === 'stopped')).toMatchObject({ undelivered: 0, dropped: 0 });

      const history = await world.api.app.botInstances.history(bot.botId);
      expect(history.map((h) => h.seq)).toEqual(history.map((_, i) => i + 1));
      const bodies = history.map((h) => h.body as ReportBody);
      const evaluated = proc.lines.filter((l) => l.msg === 'evaluated').map((l) => Number(l.candle) + MINUTE);
      expect(bodies.filter((b) => b.kind === 'equity').map((b) => b.time)).toEqual(evaluated);
      expect(evaluated).toHaveLength(48);
      // Every order the exchange holds was reported once, and none was sent twice.
      const orders = world.sim.ledgers[market.exchange].orders(bot.apiKey);
      const reportedOrders = bodies.filter((b) => b.kind === 'order' && b.status !== 'refused');
      expect(reportedOrders.map((o) => (o.kind === 'order' ? o.clientOrderId : '')).sort()).toEqual(orders.map((o) => o.clientId).sort());
      expect(reportedOrders.some((o) => o.kind === 'order' && o.status === 'found')).toBe(true);
      await until(async () => (await world.api.app.botInstances.instance(proc.instanceId))?.status === 'stopped', 'the stopped status');
    } finally {
      await relay.close();
    }
  }, 300_000);
});
