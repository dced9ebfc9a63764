// kill -9 the bot at its worst moments and start a new instance of the same run: the exchange never holds a
// doubled position, no order is sent twice, and the new instance's position is the exchange's. On Binance's linear
// contract and on the inverse contracts of Bybit (an order answered with its ids only, looked up on its own endpoint)
// and Kraken Futures (looked up by client id through the order status, priced from its fills).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportBody } from '../../../src-shared/bot-instance.ts';
import { deployOnMarket, MARKETS_UNDER_TEST, startBot, startWorld, until, type BotProcess, type DeployedBot, type World } from './world.ts';

const MINUTE = 60_000;

describe.each(Object.values(MARKETS_UNDER_TEST))('crash safety: $exchange $symbol', (market) => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld();
  });
  afterAll(() => world.close());

  const ledger = () => world.sim.ledgers[market.exchange];
  const contract = () => ledger().contract(market.contractId)!;
  const heldBy = (bot: DeployedBot) => ledger().position(bot.apiKey, contract()).quantity;

  it('an order accepted whose answer was lost, then kill -9; and kill -9 between closes: never doubled', async () => {
    const { sim } = world;
    const t0 = Math.ceil(sim.clock.now() / MINUTE) * MINUTE + MINUTE;
    // Pin first, then set: set-then-pin would pin wherever the wall clock has moved since.
    sim.clock.pin();
    sim.clock.set(t0);
    const bot = await deployOnMarket(world, market);
    let candle = t0;
    const step = async (proc: BotProcess) => {
      sim.clock.advance(MINUTE);
      await proc.waitFor((l) => l.msg === 'evaluated' && l.candle === candle);
      candle += MINUTE;
    };

    // 1. The first order is accepted and its answer dropped; the bot's look-up of it is held up; kill -9 then.
    const first = await startBot(world, bot);
    await first.waitFor((l) => l.msg === 'trading');
    sim.faults.add({ exchange: market.exchange, mode: 'drop-response', method: 'POST', path: market.paths.order });
    sim.faults.add({ exchange: market.exchange, mode: 'delay', method: 'GET', path: market.paths.lookUp, delayMs: 15_000 });
    while (sim.faults.list().length === 2) {
      sim.clock.advance(MINUTE);
      await until(() => sim.faults.list().length < 2 || first.lines.some((l) => l.msg === 'evaluated' && l.candle === candle), 'a close evaluated or an order sent');
      candle += MINUTE;
    }
    await until(() => sim.faults.list().length === 0, 'the look-up of the unanswered order');
    first.child.kill('SIGKILL');
    await first.exited;
    const afterCrash = heldBy(bot);
    expect(afterCrash).not.toBe(0);
    expect(ledger().orders(bot.apiKey)).toHaveLength(1);

    // 2. A new instance of the run adopts what the exchange holds, and does not enter again.
    const second = await startBot(world, bot);
    await second.waitFor((l) => l.msg === 'trading');
    expect(heldBy(bot)).toBe(afterCrash);
    for (let i = 0; i < 25; i++) await step(second);

    // 3. kill -9 right after a close was evaluated, and start again.
    second.child.kill('SIGKILL');
    await second.exited;
    const beforeThird = heldBy(bot);
    const third = await startBot(world, bot);
    await third.waitFor((l) => l.msg === 'trading');
    expect(heldBy(bot)).toBe(beforeThird);
    for (let i = 0; i < 25; i++) await step(third);
    third.child.kill('SIGTERM');
    expect(await third.exited).toEqual({ code: 0, signal: null });
    // Stopping with on-stop "close": flat.
    expect(heldBy(bot)).toBe(0);

    // Never more than one entry's size at any moment, and every order of the run has its own client id.
    const orders = ledger().orders(bot.apiKey);
    expect(new Set(orders.map((o) => o.clientId)).size).toBe(orders.length);
    const largest = Math.max(...orders.map((o) => o.quantity));
    let position = 0;
    for (const fill of ledger().fills(bot.apiKey)) {
      position += fill.side === 'buy' ? fill.quantity : -fill.quantity;
      expect(Math.abs(position)).toBeLessThanOrEqual(largest + 1e-9);
    }
    expect(orders.length).toBeGreaterThan(3);

    // Each new instance reported the exchange's position as the one it adopted.
    const history = await world.api.app.botInstances.history(bot.botId);
    const adopted = history.filter((h) => (h.body as ReportBody).kind === 'position' && (h.body as { origin: string }).origin === 'adopted');
    expect(adopted.map((h) => h.instanceId)).toEqual(expect.arrayContaining([second.instanceId]));
    const adoptedBySecond = adopted.find((h) => h.instanceId === second.instanceId)!.body as { quantity: number; side: string };
    expect(adoptedBySecond.quantity * (adoptedBySecond.side === 'long' ? 1 : -1)).toBeCloseTo(afterCrash, 9);
  }, 300_000);

  it('kill -9 between an order request and its answer: the restart adopts the order’s position, never doubled', async () => {
    const { sim } = world;
    const t0 = Math.ceil(sim.clock.now() / MINUTE) * MINUTE + MINUTE;
    sim.clock.pin();
    sim.clock.set(t0);
    const bot = await deployOnMarket(world, market);
    let candle = t0;
    const first = await startBot(world, bot);
    await first.waitFor((l) => l.msg === 'trading');
    // The exchange carries the order out and holds its answer back: the bot is killed while it waits for it.
    sim.faults.add({ exchange: market.exchange, mode: 'delay-response', method: 'POST', path: market.paths.order, delayMs: 10_000 });
    while (ledger().orders(bot.apiKey).length === 0) {
      sim.clock.advance(MINUTE);
      await until(() => ledger().orders(bot.apiKey).length > 0 || first.lines.some((l) => l.msg === 'evaluated' && l.candle === candle), 'a close evaluated or an order placed');
      candle += MINUTE;
    }
    first.child.kill('SIGKILL');
    await first.exited;
    expect(sim.faults.list()).toEqual([]);
    expect(first.lines.some((l) => l.msg === 'order acknowledged')).toBe(false);
    expect(ledger().orders(bot.apiKey)).toHaveLength(1);
    const held = heldBy(bot);
    expect(held).not.toBe(0);

    const second = await startBot(world, bot);
    await second.waitFor((l) => l.msg === 'adopted the position found on the exchange');
    await second.waitFor((l) => l.msg === 'trading');
    expect(heldBy(bot)).toBe(held);
    for (let i = 0; i < 15; i++) {
      sim.clock.advance(MINUTE);
      await second.waitFor((l) => l.msg === 'evaluated' && l.candle === candle);
      candle += MINUTE;
    }
    second.child.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });
    expect(heldBy(bot)).toBe(0);
    const orders = ledger().orders(bot.apiKey);
    expect(new Set(orders.map((o) => o.clientId)).size).toBe(orders.length);
    let position = 0;
    for (const fill of ledger().fills(bot.apiKey)) {
      position += fill.side === 'buy' ? fill.quantity : -fill.quantity;
      expect(Math.abs(position)).toBeLessThanOrEqual(Math.max(...orders.map((o) => o.quantity)) + 1e-9);
    }
  }, 300_000);
});
