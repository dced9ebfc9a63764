// The price the bot books an order at when it reads it from the order's fills: weighted by size for linear contracts,
// harmonic for inverse ones, so that the engine's PnL from the average equals the fills' PnL added up.
import { describe, expect, it } from 'vitest';
import { averageFillPrice } from '../../../src-bot/exchange.ts';
import { grossPnl, positionValue } from '../../../src-engine/ledger.ts';

const fills = [
  { size: 1000, price: 80_000 },
  { size: 3000, price: 100_000 },
];

describe('averageFillPrice', () => {
  it('is the fill’s price for one fill, either kind', () => {
    expect(averageFillPrice('linear', [{ size: 0.01, price: 81_234.5 }])).toBe(81_234.5);
    expect(averageFillPrice('inverse', [{ size: 2000, price: 81_234.5 }])).toBeCloseTo(81_234.5, 8);
  });

  it('weighs linear fills by size', () => {
    expect(averageFillPrice('linear', fills)).toBe((1000 * 80_000 + 3000 * 100_000) / 4000);
  });

  it('takes the harmonic average for inverse fills: the whole size is worth, in the coin, what its parts cost', () => {
    const average = averageFillPrice('inverse', fills);
    expect(average).toBeCloseTo(4000 / (1000 / 80_000 + 3000 / 100_000), 8);
    expect(average).not.toBeCloseTo(95_000, 0);
    const parts = fills.reduce((sum, f) => sum + positionValue('inverse', f.size, f.price), 0);
    expect(positionValue('inverse', 4000, average)).toBeCloseTo(parts, 15);
    // Closing at any price: the PnL from the average is the fills' PnL added up.
    for (const exit of [70_000, 90_000, 120_000]) {
      const fromParts = fills.reduce((sum, f) => sum + grossPnl('inverse', 'long', f.size, f.price, exit), 0);
      expect(grossPnl('inverse', 'long', 4000, average, exit)).toBeCloseTo(fromParts, 15);
    }
  });
});
