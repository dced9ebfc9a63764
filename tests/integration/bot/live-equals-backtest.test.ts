// The bot on the simulator, its clock stepped through one-minute closes, and the engine's backtest on the
// same candles: the same decisions at the same closes, and the same trades.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBacktest } from '../../../src-engine/index.ts';
import type { ReportBody } from '../../../src-shared/bot-instance.ts';
import { ccxtForSim } from '../../support/ccxt-sim.ts';
import { botConfig } from './harness.ts';
import { deployOnSim, startBot, startWorld, type World } from './world.ts';

const MINUTE = 60_000;
const STEPS = 90;

describe('live equals backtest', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld();
  });
  afterAll(() => world.close());

  it('makes the backtest’s decisions and trades, close by close', async () => {
    const { sim } = world;
    const t0 = Math.ceil(sim.clock.now() / MINUTE) * MINUTE + MINUTE;
    // Pin first, then set: set-then-pin would pin wherever the wall clock has moved since.
    sim.clock.pin();
    sim.clock.set(t0);
    const bot = await deployOnSim(world);
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

    const reports = (await world.api.app.botInstances.history(bot.botId)).map((h) => h.body as ReportBody);
    const liveDecisions = reports.filter((r) => r.kind === 'decision').map((d) => ({ time: d.time, type: d.type, side: d.side }));
    const liveFills = reports.filter((r) => r.kind === 'fill');

    // The backtest: the same candles (warm-up and live), as the simulator serves them to anyone.
    const client = ccxtForSim('binanceusdm', sim.urls.binanceusdm, { now: () => sim.clock.now() });
    const rows = await client.fetchOHLCV('BTC/USDT:USDT', '1m', t0 - warmCandles * MINUTE, warmCandles + STEPS);
    const candles = rows.map(([time, open, high, low, close, volume]) => ({ time: Number(time), open: Number(open), high: Number(high), low: Number(low), close: Number(close), volume: Number(volume) }));
    expect(candles).toHaveLength(warmCandles + STEPS);
    const config = botConfig();
    const result = runBacktest({
      engine: { template: { ...config.template, sizing: { ...config.template.sizing, leverage: config.leverage } }, timeframeMs: MINUTE, contract: 'linear', limits: config.limits },
      history: candles.slice(0, warmCandles),
      candles: candles.slice(warmCandles),
      fundingRates: [],
      initialEquity: 10_000,
      feeBps: 5,
      slippageBps: 0,
    });
    // The backtest warms up on the bot's warm-up candles, then decides on the same closes.
    const backtestDecisions = result.decisions.map((d) => ({ time: d.time, type: d.type, side: d.side }));
    expect(liveDecisions.length).toBeGreaterThan(3);
    expect(liveDecisions).toEqual(backtestDecisions);

    // Trades: each backtest entry and exit is a live fill at the next candle's open, at the simulator's price.
    const backtestFills = result.trades.flatMap((t) => [
      { time: t.entryTime, price: t.entryPrice },
      { time: t.exitTime, price: t.exitPrice },
    ]);
    expect(result.trades.length).toBeGreaterThan(1);
    expect(liveFills.slice(0, backtestFills.length).map((f) => ({ time: f.time, price: f.price }))).toEqual(backtestFills);

    // Trade history: each exit realised the PnL the backtest booked for it (for the quantity the exchange could
    // trade, the backtest's rounded to the lot size); entries realised none.
    const trades = await world.api.app.database.db.selectFrom('bot_trades').select(['time', 'action', 'quantity', 'realized_pnl']).where('bot_id', '=', bot.botId).orderBy('feed_seq').execute();
    expect(trades.slice(0, backtestFills.length).map((t) => ({ time: Number(t.time), action: t.action }))).toEqual(
      result.trades.flatMap((t) => [{ time: t.entryTime, action: 'enter' }, { time: t.exitTime, action: 'exit' }]),
    );
    result.trades.forEach((t, i) => {
      expect(trades[i * 2]!.realized_pnl).toBeNull();
      expect(trades[i * 2 + 1]!.realized_pnl).toBeCloseTo((t.grossPnl * trades[i * 2 + 1]!.quantity) / t.quantity, 6);
    });
  }, 240_000);
});
