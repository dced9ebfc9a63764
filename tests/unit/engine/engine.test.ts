// The engine's evaluation order on hand-made series: signals, then sessions, filters, entry guards,
// risk gates and bot limits, each able to block with a recorded reason; exits in template order.
// The signal throughout is an EMA2/EMA3 cross: after 90, 90, 90 a close of 100 gives EMA2 96.67 over
// EMA3 95, so the combination says long at the close of the fourth bar (Monday 04:00 UTC).
import { describe, expect, it } from 'vitest';
import type { Decision, EngineConfig } from '../../../src-engine/engine.ts';
import { Engine } from '../../../src-engine/engine.ts';
import type { Bar } from '../../../src-engine/types.ts';
import type { BotLimits, Component, TemplateBody } from '../../../src-shared/templates.ts';
import { bars, emaCross, HOUR, MONDAY, stopLoss, takeProfit, templateWith } from './support.ts';

const LONG_AT_BAR_4 = [90, 90, 90, 100];
const config = (template: TemplateBody, limits: BotLimits | null = null): EngineConfig => ({ template, timeframeMs: HOUR, contract: 'linear', limits });
const NO_LIMITS: BotLimits = { maxOpenPositionsPerSymbol: 1, maxOpenPositionsTotal: 10, maxDailyLossPercent: 50, maxLeverage: 10 };

/** Steps every bar; returns the decisions of each. */
function run(engine: Engine, list: Bar[]): Decision[][] {
  return list.map((bar) => engine.step(bar));
}

describe('entries', () => {
  it('enters at the close the signals agree, sized from equity, and waits for the fill', () => {
    const engine = Engine.create(config(templateWith([emaCross(), stopLoss(5)])), 10_000);
    const decisions = run(engine, bars(LONG_AT_BAR_4));
    expect(decisions.slice(0, 3)).toEqual([[], [], []]);
    expect(decisions[3]).toEqual([
      { type: 'enter', time: MONDAY + 4 * HOUR, side: 'long', quantity: 100, price: 100, reason: expect.stringContaining('cross +1 (EMA2 96.67 vs EMA3 95.00)') },
    ]);
    // While the order waits for its fill, nothing more is decided.
    expect(engine.step(bars([100], MONDAY + 4 * HOUR)[0]!)).toEqual([]);
    engine.fill({ time: MONDAY + 5 * HOUR, price: 100, quantity: 100, fee: 0 });
    expect(engine.position).toMatchObject({ side: 'long', quantity: 100, entryPrice: 100 });
  });

  it('warm-up history feeds the indicators without deciding', () => {
    const engine = Engine.create(config(templateWith([emaCross(), stopLoss(5)])), 10_000);
    const list = bars([110, 110, 110, 100, 100]);
    // Stepped live, the fourth bar would go short (EMA2 103.33 under EMA3 105); as history it decides nothing.
    engine.warmUp(list.slice(0, 4));
    expect(engine.pendingOrder).toBeNull();
    // The first live close, 100, decides on the warm indicators: EMA2 101.11 under EMA3 102.50.
    expect(engine.step(list[4]!)).toEqual([
      { type: 'enter', time: MONDAY + 5 * HOUR, side: 'short', quantity: 100, price: 100, reason: 'cross -1 (EMA2 101.11 vs EMA3 102.50)' },
    ]);
    expect(() => engine.warmUp([])).toThrow(/no position and no order/);
  });

  it('a refused order is forgotten and the engine decides again at the next close', () => {
    const engine = Engine.create(config(templateWith([emaCross(), stopLoss(5)])), 10_000);
    run(engine, bars(LONG_AT_BAR_4));
    engine.rejectOrder();
    expect(engine.step(bars([101], MONDAY + 4 * HOUR)[0]!)).toMatchObject([{ type: 'enter', side: 'long' }]);
  });

  it('a long-only template ignores short signals', () => {
    const engine = Engine.create(config(templateWith([emaCross(), stopLoss(5)], { sides: 'longOnly' })), 10_000);
    // 110, 110, 110, 100: EMA2 103.33 under EMA3 105 → short, which this template does not take.
    expect(run(engine, bars([110, 110, 110, 100])).flat()).toEqual([]);
  });

  it('sessions: entries only when the close is inside a window', () => {
    const outside = Engine.create(config(templateWith([emaCross(), stopLoss(5)], { sessions: [{ days: ['mon'], from: '00:00', to: '04:00' }] })), 10_000);
    expect(run(outside, bars(LONG_AT_BAR_4))[3]).toEqual([
      { type: 'blocked', time: MONDAY + 4 * HOUR, side: 'long', role: 'session', by: 'sessions', reason: 'outside the trading sessions' },
    ]);
    const inside = Engine.create(config(templateWith([emaCross(), stopLoss(5)], { sessions: [{ days: ['mon'], from: '04:00', to: '05:00' }] })), 10_000);
    expect(run(inside, bars(LONG_AT_BAR_4))[3]).toMatchObject([{ type: 'enter' }]);
    // Sunday 22:00 to 06:00 covers Monday 04:00; the same window on Tuesday does not.
    const overnight = (day: 'sun' | 'tue') => Engine.create(config(templateWith([emaCross(), stopLoss(5)], { sessions: [{ days: [day], from: '22:00', to: '06:00' }] })), 10_000);
    expect(run(overnight('sun'), bars(LONG_AT_BAR_4))[3]).toMatchObject([{ type: 'enter' }]);
    expect(run(overnight('tue'), bars(LONG_AT_BAR_4))[3]).toMatchObject([{ type: 'blocked', role: 'session' }]);
  });

  it('a failing filter blocks the entry and is recorded; filters are asked before entry guards and risk gates', () => {
    const heavyVolume: Component = { id: 'heavy', role: 'filter', kind: 'volume', params: { period: 2, minRatio: 2 } };
    const fundingCost: Component = { id: 'cost', role: 'riskGate', kind: 'fundingRateGate', params: { maxPayPercent: 0.01 } };
    const specs = LONG_AT_BAR_4.map((close) => ({ close, volume: 1, funding: 0.0002 }));
    const both = Engine.create(config(templateWith([emaCross(), fundingCost, heavyVolume, stopLoss(5)])), 10_000);
    expect(run(both, bars(specs))[3]).toEqual([
      { type: 'blocked', time: MONDAY + 4 * HOUR, side: 'long', role: 'filter', by: 'heavy', reason: 'volume 1.00× its average, below 2.00×' },
    ]);
    const gateOnly = Engine.create(config(templateWith([emaCross(), fundingCost, stopLoss(5)])), 10_000);
    expect(run(gateOnly, bars(specs))[3]).toEqual([
      { type: 'blocked', time: MONDAY + 4 * HOUR, side: 'long', role: 'riskGate', by: 'cost', reason: 'a long would pay 0.0200% funding, more than 0.0100%' },
    ]);
  });

  it('an entry guard refuses to chase', () => {
    // SMA3 of 90, 90, 100 is 93.33: 100 is 7.14 % away.
    const guard: Component = { id: 'near', role: 'entryGuard', kind: 'maxDistanceFromMa', params: { average: 'sma', period: 3, maxPercent: 5 } };
    const engine = Engine.create(config(templateWith([emaCross(), guard, stopLoss(5)])), 10_000);
    expect(run(engine, bars(LONG_AT_BAR_4))[3]).toMatchObject([{ type: 'blocked', role: 'entryGuard', by: 'near', reason: 'close is 7.14% from its SMA3, more than 5.00%' }]);
  });
});

describe('bot limits override the template', () => {
  const template = templateWith([emaCross(), stopLoss(5)], { sizing: { equityPercent: 100, leverage: 5 } });

  it('leverage is capped by the bot', () => {
    // 10,000 × 100 % × min(5, 2) / 100 = 200.
    const engine = Engine.create(config(template, { ...NO_LIMITS, maxLeverage: 2 }), 10_000);
    expect(run(engine, bars(LONG_AT_BAR_4))[3]).toMatchObject([{ type: 'enter', quantity: 200 }]);
  });

  it('positions per symbol and in total', () => {
    const none = Engine.create(config(template, { ...NO_LIMITS, maxOpenPositionsPerSymbol: 0 }), 10_000);
    expect(run(none, bars(LONG_AT_BAR_4))[3]).toMatchObject([{ type: 'blocked', role: 'limit', by: 'maxOpenPositionsPerSymbol' }]);
    const full = Engine.create(config(template, { ...NO_LIMITS, maxOpenPositionsTotal: 2 }), 10_000);
    const list = bars(LONG_AT_BAR_4);
    list.slice(0, 3).forEach((bar) => full.step(bar, { otherOpenPositions: 2 }));
    expect(full.step(list[3]!, { otherOpenPositions: 2 })).toEqual([
      { type: 'blocked', time: MONDAY + 4 * HOUR, side: 'long', role: 'limit', by: 'maxOpenPositionsTotal', reason: '2 positions open, the bot allows 2' },
    ]);
    const room = Engine.create(config(template, { ...NO_LIMITS, maxOpenPositionsTotal: 2 }), 10_000);
    list.slice(0, 3).forEach((bar) => room.step(bar, { otherOpenPositions: 1 }));
    expect(room.step(list[3]!, { otherOpenPositions: 1 })).toMatchObject([{ type: 'enter' }]);
  });

  it('max daily loss closes the position and blocks entries for the rest of the UTC day', () => {
    const engine = Engine.create(config(templateWith([emaCross(), stopLoss(50)]), { ...NO_LIMITS, maxDailyLossPercent: 5 }), 10_000);
    const list = bars([...LONG_AT_BAR_4, { open: 100, close: 94 }, { open: 94, close: 94 }]);
    run(engine, list.slice(0, 4));
    engine.fill({ time: list[4]!.candle.time, price: 100, quantity: 100, fee: 0 });
    // 100 × (94 − 100) = −600: down 6 % since the day began, past 5 %.
    expect(engine.step(list[4]!)).toEqual([
      { type: 'exit', time: MONDAY + 5 * HOUR, side: 'long', quantity: 100, price: 94, by: 'maxDailyLoss', reason: 'down 6.00% today, the limit is 5%' },
    ]);
    const trade = engine.fill({ time: list[5]!.candle.time, price: 94, quantity: 100, fee: 0 });
    expect(trade).toMatchObject({ netPnl: -600, exitBy: 'maxDailyLoss' });
    // EMA2 94.30 is still over EMA3 94.25, but the day's loss blocks the entry.
    expect(engine.step(list[5]!)).toMatchObject([{ type: 'blocked', role: 'limit', by: 'maxDailyLoss' }]);
  });
});

it('an account with nothing left does not trade', () => {
  // 100 units long at 100, exited at 1 with a fee that takes the rest: nothing left to size an entry from.
  const engine = Engine.create(config(templateWith([emaCross(), stopLoss(50)])), 10_000);
  run(engine, bars(LONG_AT_BAR_4));
  engine.fill({ time: MONDAY + 4 * HOUR, price: 100, quantity: 100, fee: 0 });
  engine.requestExit(MONDAY + 5 * HOUR, 'botStopped', 'stop');
  engine.fill({ time: MONDAY + 5 * HOUR, price: 1, quantity: 100, fee: 100 });
  expect(engine.balance).toBe(0);
  expect(engine.step(bars([120], MONDAY + 4 * HOUR)[0]!)).toMatchObject([{ type: 'blocked', role: 'limit', by: 'noEquity' }]);
});

describe('exits', () => {
  const atEntry = (components: Component[]) => {
    const engine = Engine.create(config(templateWith([emaCross(), ...components])), 10_000);
    run(engine, bars(LONG_AT_BAR_4));
    engine.fill({ time: MONDAY + 4 * HOUR, price: 100, quantity: 100, fee: 0 });
    return engine;
  };
  const timeStop: Component = { id: 'time', role: 'exitRule', kind: 'timeStop', params: { candles: 1 } };

  it('the first rule in the template that fires closes the position', () => {
    // At 103 both the 2 % target and the one-candle time stop fire; the one listed first wins.
    const next = bars([103], MONDAY + 4 * HOUR)[0]!;
    expect(atEntry([takeProfit(2), timeStop]).step(next)).toMatchObject([{ type: 'exit', by: 'target', reason: 'profit 3.00% reached the 2.00% target' }]);
    expect(atEntry([timeStop, takeProfit(2)]).step(next)).toMatchObject([{ type: 'exit', by: 'time', reason: 'held 1 candles' }]);
  });

  it('closing on request (a stopping bot) goes through the same fill', () => {
    const engine = atEntry([stopLoss(5)]);
    expect(engine.requestExit(MONDAY + 5 * HOUR, 'botStopped', 'the user stopped the bot')).toMatchObject({ type: 'exit', by: 'botStopped' });
    expect(engine.fill({ time: MONDAY + 5 * HOUR, price: 101, quantity: 100, fee: 0 })).toMatchObject({ grossPnl: 100, exitBy: 'botStopped' });
    expect(engine.position).toBeNull();
    expect(engine.balance).toBe(10_100);
  });
});

describe('refusals', () => {
  it('a candle that is not after the last one is refused', () => {
    const engine = Engine.create(config(templateWith([emaCross(), stopLoss(5)])), 10_000);
    const list = bars([1, 2]);
    engine.step(list[1]!);
    expect(() => engine.step(list[0]!)).toThrow(RangeError);
  });

  it('a snapshot is not continued under another template', () => {
    const engine = Engine.create(config(templateWith([emaCross(), stopLoss(5)])), 10_000);
    run(engine, bars(LONG_AT_BAR_4));
    const snapshot = JSON.parse(JSON.stringify(engine.snapshot()));
    expect(() => Engine.restore(config(templateWith([emaCross(), stopLoss(6)])), snapshot)).toThrow(/another template/);
    expect(() => Engine.restore(config(templateWith([emaCross(), stopLoss(5)])), { ...snapshot, balance: 'lots' })).toThrow();
    expect(Engine.restore(config(templateWith([emaCross(), stopLoss(5)])), snapshot).pendingOrder).toMatchObject({ action: 'enter', quantity: 100 });
  });

  it('an exit fill must close the whole position', () => {
    const engine = Engine.create(config(templateWith([emaCross(), stopLoss(5)])), 10_000);
    run(engine, bars(LONG_AT_BAR_4));
    engine.fill({ time: MONDAY + 4 * HOUR, price: 100, quantity: 100, fee: 0 });
    engine.requestExit(MONDAY + 5 * HOUR, 'botStopped', 'stop');
    expect(() => engine.fill({ time: MONDAY + 5 * HOUR, price: 100, quantity: 50, fee: 1 })).toThrow(RangeError);
    // Refused without a trace: the order still waits, the balance is untouched.
    expect(engine.pendingOrder).toMatchObject({ action: 'exit' });
    expect(engine.balance).toBe(10_000);
  });
});
