// How fills become trades, without a database: the order report gives side and action, the decision reported
// just before the order is its cause, and only what the bot reported is used.
import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from '../../../src-api/modules/trades/service.ts';
import { deriveTrades, LOOKBACK_REPORTS, settlementOf, type HistoryEntry } from '../../../src-api/modules/trades/derive.ts';
import type { ReportBody } from '../../../src-shared/bot-instance.ts';

const decision = (time: number, type: 'enter' | 'exit' | 'blocked', side: 'long' | 'short' = 'long'): ReportBody => ({ kind: 'decision', time, type, side, quantity: 1, price: 100, by: type === 'exit' ? 'stop-loss' : null, reason: `${type} ${time}` });
const order = (time: number, id: string, action: 'enter' | 'exit', side: 'buy' | 'sell', status: 'placed' | 'found' | 'refused' = 'placed'): ReportBody => ({ kind: 'order', time, clientOrderId: id, exchangeOrderId: null, action, side, quantity: 1, reduceOnly: action === 'exit', status, detail: null });
const fill = (time: number, id: string, extra: { side?: 'buy' | 'sell'; realizedPnl?: number | null } = {}): ReportBody => ({ kind: 'fill', time, clientOrderId: id, price: 101, quantity: 1, fee: 0.1, ...extra });
const numbered = (bodies: ReportBody[], from = 1): HistoryEntry[] => bodies.map((body, i) => ({ seq: from + i, body }));

describe('deriveTrades', () => {
  it('takes action and side from the order and the decision reported just before it', () => {
    const trades = deriveTrades(numbered([decision(1, 'enter', 'short'), order(2, 'a', 'enter', 'sell'), fill(3, 'a', { side: 'sell', realizedPnl: null })]));
    expect(trades).toEqual([
      { seq: 3, time: 3, side: 'sell', action: 'enter', quantity: 1, price: 101, fee: 0.1, realizedPnl: null, clientOrderId: 'a', decision: { time: 1, type: 'enter', side: 'short', by: null, reason: 'enter 1' } },
    ]);
  });

  it('gives no decision to an order no decision preceded, nor one of another kind', () => {
    const trades = deriveTrades(numbered([decision(1, 'blocked'), order(2, 'a', 'exit', 'sell'), fill(3, 'a', { side: 'sell', realizedPnl: 4 }), decision(4, 'enter'), order(5, 'b', 'exit', 'sell'), fill(6, 'b')]));
    expect(trades.map((t) => [t.clientOrderId, t.action, t.realizedPnl, t.decision])).toEqual([
      ['a', 'exit', 4, null],
      ['b', 'exit', null, null],
    ]);
  });

  it('finds the order and decision among the reports stored before the batch', () => {
    const earlier = numbered([decision(1, 'exit'), order(2, 'a', 'exit', 'sell')]);
    const [trade] = deriveTrades(numbered([fill(3, 'a')], 3), earlier);
    expect(trade).toMatchObject({ side: 'sell', action: 'exit', decision: { type: 'exit', by: 'stop-loss' } });
  });

  it('leaves out a fill whose side nobody reported: its order refused, missing or too far back', () => {
    expect(deriveTrades(numbered([order(1, 'a', 'enter', 'buy', 'refused'), fill(2, 'a')]))).toEqual([]);
    expect(deriveTrades(numbered([fill(1, 'a')]))).toEqual([]);
    const far = numbered([order(1, 'a', 'enter', 'buy'), ...Array.from({ length: LOOKBACK_REPORTS }, (_, i): ReportBody => ({ kind: 'equity', time: i, equity: 1, balance: 1 })), fill(99, 'a')]);
    expect(deriveTrades(far)).toEqual([]);
    // A newer bot's fill says its side itself; with PnL and no order, it closed something.
    expect(deriveTrades(numbered([fill(1, 'a', { side: 'buy', realizedPnl: -2 })]))).toMatchObject([{ side: 'buy', action: 'exit', realizedPnl: -2 }]);
  });

  it('settles a linear contract in its quote and an inverse one in its coin', () => {
    expect(settlementOf('BTC/USDT:USDT')).toBe('USDT');
    expect(settlementOf('BTC/USD:BTC')).toBe('BTC');
  });
});

describe('the trades cursor', () => {
  it('names a position in the order, and refuses anything it did not give out', () => {
    expect(decodeCursor(encodeCursor({ time: 1_700_000_000_000, feedSeq: 42 }))).toEqual({ time: 1_700_000_000_000, feedSeq: 42 });
    for (const bad of ['x', Buffer.from('[1]').toString('base64url'), Buffer.from('[-1,2]').toString('base64url'), Buffer.from('{"t":1}').toString('base64url')]) {
      expect(() => decodeCursor(bad)).toThrow(expect.objectContaining({ code: 'trade_cursor_invalid' }));
    }
  });
});
