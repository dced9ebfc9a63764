// The bot on the simulator, its clock stepped through one-minute closes, and the engine's backtest on the
// same candles: the same decisions at the same closes, and the same trades. Linear on Binance, and inverse on
// Bybit and Kraken Futures, where the account is in the coin and a position counts 1-USD contracts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXCHANGE_FEES, runBacktest } from '../../../src-engine/index.ts';
import type { ReportBody } from '../../../src-shared/bot-instance.ts';
import { ccxtForSim } from '../../support/ccxt-sim.ts';
import { botConfig } from './harness.ts';
import { deployOnSim, startBot, startWorld, type World } from './world.ts';

const MINUTE = 60_000;
const STEPS = 90;

const MARKETS = [
  { exchange: 'binanceusdm', symbol: 'BTC/USDT:USDT', contract: 'linear', balances: { USDT: 10_000 }, equity: 10_000, step: 0.001 },
  { exchange: 'bybit', symbol: 'BTC/USD:BTC', contract: 'inverse', balances: { BTC: 1 }, equity: 1, step: 1 },
  { exchange: 'krakenfutures', symbol: 'BTC/USD:BTC', contract: 'inverse', balances: { BTC: 1 }, equity: 1, step: 1 },
] as const;

describe('live equals backtest', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld();
    // Pinned: the clock moves only when the test steps it, from one close to the next.
    world.sim.clock.pin();
  });
  afterAll(() => world.close());

  it.each(MARKETS)('$exchange $symbol ($contract): makes the backtest’s decisions and trades, close by close', async (market) => {
    const { exchange, symbol, contract } = market;
    const { sim } = world;
    const t0 = Math.ceil(sim.clock.now() / MINUTE) * MINUTE + MINUTE;
    sim.clock.set(t0);
    const bot = await deployOnSim(world, { exchange, config: { symbol, contract }, key: { balances: market.balances } });
    const proc = await startBot(world, bot);
    await proc.waitFor((l) => l.msg === 'trading');
    const warmed = proc.lines.find((l) => l.msg === 'warmed up')!;
    const warmCandles = Number(warmed.candles);

    for (let step = 1; step <= STEPS; step++) {
      sim.clock.advance(MINUTE);
      const candle = t0 + (step - 1) * MINUTE;
      await proc.waitFor((l) => l.msg === 'evaluated' && l.candle === candle);
    }
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toEqual({ code: 0, signal: null });
    expect(proc.output()).not.toMatch(/"level":"(warn|error)"/);

    const reports = (await world.api.app.botInstances.history(bot.botId)).map((h) => h.body as ReportBody);
    const liveDecisions = reports.filter((r) => r.kind === 'decision').map((d) => ({ time: d.time, type: d.type, side: d.side }));
    const liveFills = reports.filter((r) => r.kind === 'fill');

    // The backtest: the same candles of the same contract (warm-up and live), as the simulator serves them to anyone.
    const client = ccxtForSim(exchange, sim.urls[exchange], { now: () => sim.clock.now(), ...(exchange === 'bybit' ? { config: { options: { fetchMarkets: { types: ['linear', 'inverse'] } } } } : {}) });
    const rows = await client.fetchOHLCV(symbol, '1m', t0 - warmCandles * MINUTE, warmCandles + STEPS);
    const candles = rows.map(([time, open, high, low, close, volume]) => ({ time: Number(time), open: Number(open), high: Number(high), low: Number(low), close: Number(close), volume: Number(volume) }));
    expect(candles).toHaveLength(warmCandles + STEPS);
    const config = botConfig();
    const result = runBacktest({
      engine: { template: { ...config.template, sizing: { ...config.template.sizing, leverage: config.leverage } }, timeframeMs: MINUTE, contract, limits: config.limits },
      history: candles.slice(0, warmCandles),
      candles: candles.slice(warmCandles),
      fundingRates: [],
      initialEquity: market.equity,
      feeBps: EXCHANGE_FEES[exchange].takerBps,
      slippageBps: 0,
    });
    // The backtest warms up on the bot's warm-up candles, then decides on the same closes.
    const backtestDecisions = result.decisions.map((d) => ({ time: d.time, type: d.type, side: d.side }));
    expect(liveDecisions.length).toBeGreaterThan(3);
    expect(liveDecisions).toEqual(backtestDecisions);

    // Trades: each backtest entry and exit is a live fill at the next candle's open, at the simulator's price.
    const backtestFills = result.trades.flatMap((t) => [
      { time: t.entryTime, price: t.entryPrice, quantity: t.quantity },
      { time: t.exitTime, price: t.exitPrice, quantity: t.quantity },
    ]);
    expect(result.trades.length).toBeGreaterThan(1);
    const live = liveFills.slice(0, backtestFills.length);
    expect(live.map((f) => ({ time: f.time, price: f.price }))).toEqual(backtestFills.map(({ time, price }) => ({ time, price })));
    // The same size, in the contract's units (coins for linear, 1-USD contracts for inverse): the live order is the
    // backtest's rounded down to the exchange's step, sized from an equity that fees made differ only slightly.
    live.forEach((fill, i) => {
      const expected = backtestFills[i]!.quantity;
      expect(Math.abs(fill.quantity - expected)).toBeLessThanOrEqual(market.step + expected * 0.002);
    });
    // PnL and fees per unit traded, trade by trade, as the simulator booked them: the engine's contract maths (for
    // inverse, coins per 1-USD contract: 1/entry − 1/exit) is the exchange's. Per unit, so the step rounding drops out.
    const booked = sim.ledgers[exchange].fills(bot.apiKey);
    const same = (actual: number, expected: number) => expect(Math.abs(actual - expected)).toBeLessThanOrEqual(Math.abs(expected) * 1e-9);
    result.trades.forEach((trade, i) => {
      const [entry, exit] = [booked[2 * i]!, booked[2 * i + 1]!];
      expect([entry.price, exit.price]).toEqual([trade.entryPrice, trade.exitPrice]);
      same(exit.realisedPnl / exit.quantity, trade.grossPnl / trade.quantity);
      same((entry.fee + exit.fee) / entry.quantity, trade.fees / trade.quantity);
    });

    // Trade history: each exit realised the PnL the backtest booked for it (for the quantity the exchange could
    // trade, the backtest's rounded to the lot size); entries realised none.
    const trades = await world.api.app.database.db.selectFrom('bot_trades').select(['time', 'action', 'quantity', 'realized_pnl']).where('bot_id', '=', bot.botId).orderBy('feed_seq').execute();
    expect(trades.slice(0, backtestFills.length).map((t) => ({ time: Number(t.time), action: t.action }))).toEqual(
      result.trades.flatMap((t) => [{ time: t.entryTime, action: 'enter' }, { time: t.exitTime, action: 'exit' }]),
    );
    result.trades.forEach((t, i) => {
      expect(trades[i * 2]!.realized_pnl).toBeNull();
      same(Number(trades[i * 2 + 1]!.realized_pnl), (t.grossPnl * trades[i * 2 + 1]!.quantity) / t.quantity);
    });
  }, 240_000);
});
