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
});
