// The same bot on Bybit and Kraken Futures, linear and inverse, through the simulator: it trades, every order it
// placed is one the exchange holds under the client id it reported, and on stop it leaves the account flat.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportBody } from '../../../src-shared/bot-instance.ts';
import { deployOnSim, startBot, startWorld, type World } from './world.ts';

const MINUTE = 60_000;

describe('other exchanges', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld();
    const t0 = Math.ceil(world.sim.clock.now() / MINUTE) * MINUTE + MINUTE;
    // Pin first, then set: set-then-pin would pin wherever the wall clock has moved since.
    world.sim.clock.pin();
    world.sim.clock.set(t0);
  });
  afterAll(() => world.close());

  it.each([
    { exchange: 'bybit', symbol: 'BTC/USDT:USDT', contract: 'BTCUSDT' },
    { exchange: 'krakenfutures', symbol: 'BTC/USD:USD', contract: 'PF_XBTUSD' },
    { exchange: 'bybit', symbol: 'BTC/USD:BTC', contract: 'BTCUSD', inverse: true },
    // Kraken keeps an inverse contract's coin in the contract's own margin account (fi_xbtusd).
    { exchange: 'krakenfutures', symbol: 'BTC/USD:BTC', contract: 'PI_XBTUSD', inverse: true },
  ] as const)('$exchange $symbol: trades, reports each order once, ends flat', async (market) => {
    const { exchange, symbol, contract } = market;
    const { sim } = world;
    const inverse = 'inverse' in market;
    const bot = await deployOnSim(world, {
      exchange,
      config: { symbol, contract: inverse ? 'inverse' : 'linear' },
      ...(inverse ? { key: { balances: { BTC: 1 } } } : {}),
    });
    const proc = await startBot(world, bot);
    await proc.waitFor((l) => l.msg === 'trading');
    let candle = Math.floor(sim.clock.now() / MINUTE) * MINUTE;
    for (let i = 0; i < 40; i++) {
      sim.clock.advance(MINUTE);
      await proc.waitFor((l) => l.msg === 'evaluated' && l.candle === candle);
      candle += MINUTE;
    }
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toEqual({ code: 0, signal: null });
    expect(proc.output()).not.toMatch(/"level":"(warn|error)"/);

    const ledger = sim.ledgers[exchange];
    const orders = ledger.orders(bot.apiKey);
    expect(orders.length).toBeGreaterThan(3);
    const reported = (await world.api.app.botInstances.history(bot.botId))
      .map((h) => h.body as ReportBody)
      .filter((b) => b.kind === 'order' && b.status !== 'refused')
      .map((b) => (b.kind === 'order' ? b.clientOrderId : ''));
    expect(reported.sort()).toEqual(orders.map((o) => o.clientId).sort());
    expect(ledger.position(bot.apiKey, ledger.contract(contract)!).quantity).toBe(0);
    if (inverse) {
      // Equity in the coin: the last report is the account's BTC, about the 1 BTC it started with, not dollars.
      const equities = (await world.api.app.botInstances.history(bot.botId)).map((h) => h.body as ReportBody).filter((b) => b.kind === 'equity');
      const last = equities.at(-1)!;
      const held = ledger.balance(bot.apiKey, 'BTC');
      expect(last.kind === 'equity' && last.equity).toBeGreaterThan(0.9);
      expect(last.kind === 'equity' && Math.abs(last.equity - held.equity) / held.equity).toBeLessThan(0.01);
    }
  }, 120_000);
});
