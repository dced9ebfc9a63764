// Position arithmetic against figures worked out by hand, to the cent (USDT) or the satoshi (coin).
import { describe, expect, it } from 'vitest';
import { fundingPayment, grossPnl, positionValue, quantityFor, slippedPrice, tradeFee } from '../../../src-engine/ledger.ts';

const cents = (n: number) => Math.round(n * 100) / 100;
const sats = (n: number) => Math.round(n * 1e8) / 1e8;

describe('linear (USDT) contracts', () => {
  // 0.5 BTC long from 60,000 to 61,200: +600.00. Taker 5 bps: 30,000 × 0.0005 = 15.00 in, 30,600 × 0.0005 = 15.30 out.
  // Funding 0.01 % at a 60,600 mark: 30,300 × 0.0001 = 3.03 paid by the long, received by the short.
  it('long: PnL, fees and funding', () => {
    expect(cents(grossPnl('linear', 'long', 0.5, 60_000, 61_200))).toBe(600);
    expect(cents(tradeFee('linear', 0.5, 60_000, 5))).toBe(15);
    expect(cents(tradeFee('linear', 0.5, 61_200, 5))).toBe(15.3);
    expect(cents(fundingPayment('linear', 'long', 0.5, 60_600, 0.0001))).toBe(-3.03);
    const net = grossPnl('linear', 'long', 0.5, 60_000, 61_200) - tradeFee('linear', 0.5, 60_000, 5) - tradeFee('linear', 0.5, 61_200, 5) + fundingPayment('linear', 'long', 0.5, 60_600, 0.0001);
    expect(cents(net)).toBe(566.67);
  });

  it('short: the mirror, and a negative rate is paid by shorts', () => {
    expect(cents(grossPnl('linear', 'short', 0.5, 60_000, 61_200))).toBe(-600);
    expect(cents(fundingPayment('linear', 'short', 0.5, 60_600, 0.0001))).toBe(3.03);
    expect(cents(fundingPayment('linear', 'short', 0.5, 60_600, -0.0001))).toBe(-3.03);
    expect(cents(fundingPayment('linear', 'long', 0.5, 60_600, -0.0001))).toBe(3.03);
  });

  it('size from value and back', () => {
    expect(quantityFor('linear', 10_000, 50_000)).toBe(0.2);
    expect(positionValue('linear', 0.2, 50_000)).toBe(10_000);
  });
});

describe('inverse (coin-margined) contracts: PnL in the coin', () => {
  // 10,000 one-dollar contracts long from 50,000 to 40,000: 10,000 × (1/50,000 − 1/40,000) = −0.05 BTC.
  // Fees 5 bps: 0.2 BTC × 0.0005 = 0.0001 in, 0.25 BTC × 0.0005 = 0.000125 out.
  // Funding 0.01 % at a 50,000 mark: 0.2 BTC × 0.0001 = 0.00002 BTC paid by the long.
  it('long: loses more coin on the way down than a short gains on the way up', () => {
    expect(sats(grossPnl('inverse', 'long', 10_000, 50_000, 40_000))).toBe(-0.05);
    expect(sats(tradeFee('inverse', 10_000, 50_000, 5))).toBe(0.0001);
    expect(sats(tradeFee('inverse', 10_000, 40_000, 5))).toBe(0.000125);
    expect(sats(fundingPayment('inverse', 'long', 10_000, 50_000, 0.0001))).toBe(-0.00002);
    const net = grossPnl('inverse', 'long', 10_000, 50_000, 40_000) - tradeFee('inverse', 10_000, 50_000, 5) - tradeFee('inverse', 10_000, 40_000, 5) + fundingPayment('inverse', 'long', 10_000, 50_000, 0.0001);
    expect(sats(net)).toBe(-0.050245);
    // 40,000 → 50,000 long: 10,000 × (1/40,000 − 1/50,000) = +0.05 BTC; the short from 50,000 to 40,000: +0.05 BTC.
    expect(sats(grossPnl('inverse', 'long', 10_000, 40_000, 50_000))).toBe(0.05);
    expect(sats(grossPnl('inverse', 'short', 10_000, 50_000, 40_000))).toBe(0.05);
  });

  it('size: a coin balance at a price buys that many dollars of contracts', () => {
    expect(quantityFor('inverse', 0.2, 50_000)).toBe(10_000);
    expect(positionValue('inverse', 10_000, 50_000)).toBe(0.2);
  });
});

it('slippage moves the fill against the trader', () => {
  expect(slippedPrice(100, true, 10)).toBeCloseTo(100.1, 10);
  expect(slippedPrice(100, false, 10)).toBeCloseTo(99.9, 10);
});
