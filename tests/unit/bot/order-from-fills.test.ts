// Where Kraken Futures' order status no longer lists an order (finished more than 5 s ago), the bot reads the order
// from the account's fills by its client id before it may send it again.
import { describe, expect, it } from 'vitest';
import { averageFillPrice, orderFromFills, type AccountFill } from '../../../src-bot/exchange.ts';

const fill = (over: Partial<AccountFill>): AccountFill => ({ orderId: 'o-1', clientOrderId: 'run-enter-1', size: 1000, price: 90_000, fee: 0.00001, time: 1_000, ...over });

describe('orderFromFills', () => {
  it('finds nothing when no fill carries the client id: the order was never carried out', () => {
    const fills = [fill({ clientOrderId: 'run-enter-0' }), fill({ clientOrderId: null })];
    expect(orderFromFills('run-enter-1', fills, { kind: 'inverse', contractSize: 1 })).toBeNull();
    expect(orderFromFills('run-enter-1', [], { kind: 'linear', contractSize: 1 })).toBeNull();
  });

  it('adds up the order’s own fills into a done order: size, average price, fee and its first fill’s time', () => {
    const own = [fill({ size: 1000, price: 80_000, fee: 0.1, time: 2_000 }), fill({ size: 3000, price: 100_000, fee: 0.3, time: 1_500 })];
    const other = fill({ orderId: 'o-0', clientOrderId: 'run-enter-0', size: 7000, price: 50_000, fee: 9 });
    const order = orderFromFills('run-enter-1', [other, ...own], { kind: 'inverse', contractSize: 1 });
    expect(order).toEqual({ id: 'o-1', clientOrderId: 'run-enter-1', filled: 4000, averagePrice: averageFillPrice('inverse', own), fee: 0.4, time: 1_500, done: true });
  });

  it('gives the filled size in engine units (contracts times the contract size) and weighs linear fills by size', () => {
    const own = [fill({ size: 2, price: 100 }), fill({ size: 6, price: 200 })];
    const order = orderFromFills('run-enter-1', own, { kind: 'linear', contractSize: 0.001 });
    expect(order?.filled).toBeCloseTo(0.008, 12);
    expect(order?.averagePrice).toBe(175);
  });
});
