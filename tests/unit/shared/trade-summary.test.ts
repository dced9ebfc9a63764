import { describe, expect, it } from 'vitest';
import { bucketKeepingDeepest } from '../../../src-shared/curve-buckets.ts';
import { summarizeTrades } from '../../../src-shared/trade-summary.ts';
import { TradeSummary } from '../../../src-shared/trades.ts';
import { trade } from '../../support/trade.ts';

const DAY = 86_400_000;
const day1 = Date.UTC(2026, 10, 1, 12);

describe('summarizeTrades', () => {
  it('nets PnL after fees, draws the curve and its drawdown from the running peak (which starts at 0)', () => {
    const [usdt] = summarizeTrades([
      trade(1, { time: day1, realizedPnl: null, fee: 1, action: 'enter', side: 'buy' }),
      trade(2, { time: day1 + 1, realizedPnl: 21 }),
      trade(3, { time: day1 + 2, realizedPnl: -10.5 }),
      trade(4, { time: day1 + 3, realizedPnl: 5.5 }),
    ]);
    expect(usdt).toMatchObject({ currency: 'USDT', trades: 4, closingTrades: 3, netPnl: 13.5, fees: 2.5, maxDrawdown: 11 });
    expect(usdt!.curve).toEqual([
      { time: day1, pnl: -1, drawdown: 1 },
      { time: day1 + 1, pnl: 19.5, drawdown: 0 },
      { time: day1 + 2, pnl: 8.5, drawdown: 11 },
      { time: day1 + 3, pnl: 13.5, drawdown: 6 },
    ]);
    expect(TradeSummary.parse(usdt)).toEqual(usdt);
  });

  it('counts win rate and profit factor over fills that realised PnL, by their net', () => {
    const [s] = summarizeTrades([
      trade(1, { realizedPnl: null, fee: 3, action: 'enter' }),
      trade(2, { realizedPnl: 30, fee: 0 }),
      trade(3, { realizedPnl: 10, fee: 0 }),
      trade(4, { realizedPnl: -20, fee: 0 }),
      // Realised a little, but the fee makes it a loss.
      trade(5, { realizedPnl: 1, fee: 6 }),
    ]);
    expect(s!.closingTrades).toBe(4);
    expect(s!.winRatePercent).toBe(50);
    expect(s!.profitFactor).toBeCloseTo(40 / 25);
  });

  it('has no win rate without closing fills, and no profit factor without a losing one', () => {
    expect(summarizeTrades([trade(1, { realizedPnl: null })])[0]).toMatchObject({ winRatePercent: null, profitFactor: null, closingTrades: 0 });
    expect(summarizeTrades([trade(1, { realizedPnl: 5, fee: 0 })])[0]).toMatchObject({ winRatePercent: 100, profitFactor: null });
  });

  it('never adds two currencies: one summary each, in alphabetical order', () => {
    const summaries = summarizeTrades([trade(1, { currency: 'USDT', realizedPnl: 100, fee: 0 }), trade(2, { currency: 'BTC', realizedPnl: 0.01, fee: 0 })]);
    expect(summaries.map((s) => [s.currency, s.netPnl])).toEqual([
      ['BTC', 0.01],
      ['USDT', 100],
    ]);
  });

  it('orders by fill time whatever order the trades come in, and splits PnL by bot and by UTC day', () => {
    const [s] = summarizeTrades([
      trade(3, { time: day1 + DAY, botId: 'b2', botName: 'Mean ETH', realizedPnl: -4, fee: 0 }),
      trade(1, { time: day1, botId: 'b1', botName: 'Old name', realizedPnl: 10, fee: 0 }),
      trade(2, { time: Date.UTC(2026, 10, 1, 23, 59, 59, 999), botId: 'b1', botName: 'Trend BTC', realizedPnl: 2, fee: 0 }),
    ]);
    expect(s!.curve.map((p) => p.pnl)).toEqual([10, 12, 8]);
    expect(s!.byBot).toEqual([
      { botId: 'b1', botName: 'Trend BTC', netPnl: 12, trades: 2 },
      { botId: 'b2', botName: 'Mean ETH', netPnl: -4, trades: 1 },
    ]);
    expect(s!.byDay).toEqual([
      { day: '2026-11-01', netPnl: 12, trades: 2 },
      { day: '2026-11-02', netPnl: -4, trades: 1 },
    ]);
  });

  it('buckets a long curve to at most the point limit, keeping the deepest drawdown and the final PnL', () => {
    // 1000 winning fills, one deep loss in the middle, then winners again.
    const trades = Array.from({ length: 1001 }, (_, i) => trade(i + 1, { realizedPnl: i === 500 ? -300 : 1, fee: 0 }));
    const [s] = summarizeTrades(trades, 100);
    expect(s!.curve.length).toBeLessThanOrEqual(100);
    expect(Math.max(...s!.curve.map((p) => p.drawdown))).toBe(300);
    expect(s!.maxDrawdown).toBe(300);
    expect(s!.curve.at(-1)!.pnl).toBe(s!.netPnl);
  });

  it('is empty for no trades', () => {
    expect(summarizeTrades([])).toEqual([]);
  });
});

describe('bucketKeepingDeepest', () => {
  it('keeps each bucket’s last point and deepest value, and every point when they fit', () => {
    const points = [1, 5, 2, 0, 3, 4, 1];
    expect(bucketKeepingDeepest(points, (p) => p, 3)).toEqual([
      { last: 2, deepest: 5 },
      { last: 4, deepest: 4 },
      { last: 1, deepest: 1 },
    ]);
    expect(bucketKeepingDeepest(points, (p) => p, 10).map((b) => b.last)).toEqual(points);
  });
});
