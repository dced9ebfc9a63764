// Kraken Futures shows a finished order in its order status for 5 seconds only, and takes a finished order's client
// id again. An order whose answer was lost, looked up after that window (a long outage, a restart), finds nothing
// there: the bot must find it in the account's fills and never send it a second time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportBody } from '../../../src-shared/bot-instance.ts';
import { KRAKEN_FUTURES_ORDER_STATUS_WINDOW_MS } from '../../../src-exchange-sim/kraken-futures-trading.ts';
import { deployOnMarket, MARKETS_UNDER_TEST, startBot, startWorld, until, type DeployedBot, type World } from './world.ts';

const MINUTE = 60_000;
const market = MARKETS_UNDER_TEST.krakenInverse;

describe('Kraken Futures order status window', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld();
  });
  afterAll(() => world.close());

  const ledger = () => world.sim.ledgers.krakenfutures;
  const heldBy = (bot: DeployedBot) => ledger().position(bot.apiKey, ledger().contract(market.contractId)!).quantity;

  it('an order whose answer was lost and whose look-up comes after the window is found in the fills, never sent again', async () => {
    const { sim } = world;
    const t0 = Math.ceil(sim.clock.now() / MINUTE) * MINUTE + MINUTE;
    sim.clock.pin();
    sim.clock.set(t0);
    const bot = await deployOnMarket(world, market);
    const proc = await startBot(world, bot);
    await proc.waitFor((l) => l.msg === 'trading');

    // The order is carried out and its answer dropped; the look-up is held while the exchange's clock moves past the
    // window, so the order status no longer lists the (filled) order when the look-up is read.
    sim.faults.add({ exchange: 'krakenfutures', mode: 'drop-response', method: 'POST', path: market.paths.order });
    sim.faults.add({ exchange: 'krakenfutures', mode: 'delay', method: 'GET', path: market.paths.lookUp, delayMs: 1_000 });
    let candle = t0;
    while (sim.faults.list().length === 2) {
      sim.clock.advance(MINUTE);
      await until(() => sim.faults.list().length < 2 || proc.lines.some((l) => l.msg === 'evaluated' && l.candle === candle), 'a close evaluated or an order sent');
      candle += MINUTE;
    }
    await until(() => sim.faults.list().length === 0, 'the look-up of the unanswered order');
    sim.clock.advance(2 * KRAKEN_FUTURES_ORDER_STATUS_WINDOW_MS);

    const acknowledged = await proc.waitFor((l) => l.msg === 'order acknowledged');
    const orders = ledger().orders(bot.apiKey);
    expect(orders).toHaveLength(1);
    const [order] = orders;
    expect(acknowledged.clientOrderId).toBe(order!.clientId);
    expect(Math.abs(heldBy(bot))).toBe(order!.quantity);

    // The bot's own record of the position is the exchange's.
    await until(async () => (await world.api.app.botInstances.history(bot.botId)).some((h) => (h.body as ReportBody).kind === 'position'), 'the position report');
    const history = await world.api.app.botInstances.history(bot.botId);
    const reported = history.map((h) => h.body as ReportBody).filter((b) => b.kind === 'order' || b.kind === 'position');
    expect(reported.find((b) => b.kind === 'order')).toMatchObject({ clientOrderId: order!.clientId, status: 'found' });
    const position = reported.find((b) => b.kind === 'position') as { side: string; quantity: number };
    expect(position.quantity * (position.side === 'long' ? 1 : -1)).toBeCloseTo(heldBy(bot), 9);

    // Stopping with on-stop "close": flat, and no client id was ever used twice.
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toEqual({ code: 0, signal: null });
    expect(heldBy(bot)).toBe(0);
    const all = ledger().orders(bot.apiKey);
    expect(new Set(all.map((o) => o.clientId)).size).toBe(all.length);
  }, 300_000);

  it('kill -9 while the order’s answer is held, restart after the window: the restart adopts the position and never sends the order again', async () => {
    const { sim } = world;
    const t0 = Math.ceil(sim.clock.now() / MINUTE) * MINUTE + MINUTE;
    sim.clock.pin();
    sim.clock.set(t0);
    const bot = await deployOnMarket(world, market);
    const first = await startBot(world, bot);
    await first.waitFor((l) => l.msg === 'trading');
    sim.faults.add({ exchange: 'krakenfutures', mode: 'delay-response', method: 'POST', path: market.paths.order, delayMs: 10_000 });
    let candle = t0;
    while (ledger().orders(bot.apiKey).length === 0) {
      sim.clock.advance(MINUTE);
      await until(() => ledger().orders(bot.apiKey).length > 0 || first.lines.some((l) => l.msg === 'evaluated' && l.candle === candle), 'a close evaluated or an order placed');
      candle += MINUTE;
    }
    first.child.kill('SIGKILL');
    await first.exited;
    const held = heldBy(bot);
    expect(held).not.toBe(0);

    // The new instance starts after the order has left the order status.
    sim.clock.advance(2 * KRAKEN_FUTURES_ORDER_STATUS_WINDOW_MS);
    const second = await startBot(world, bot);
    await second.waitFor((l) => l.msg === 'trading');
    for (let i = 0; i < 5; i++) {
      sim.clock.advance(MINUTE);
      await second.waitFor((l) => l.msg === 'evaluated' && l.candle === candle);
      candle += MINUTE;
    }
    // Every order under its own client id, and never more than one order's size held at any moment.
    const orders = ledger().orders(bot.apiKey);
    expect(new Set(orders.map((o) => o.clientId)).size).toBe(orders.length);
    const largest = Math.max(...orders.map((o) => o.quantity));
    let position = 0;
    for (const fill of ledger().fills(bot.apiKey)) {
      position += fill.side === 'buy' ? fill.quantity : -fill.quantity;
      expect(Math.abs(position)).toBeLessThanOrEqual(largest);
    }
    second.child.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });
    expect(heldBy(bot)).toBe(0);
  }, 300_000);
});
