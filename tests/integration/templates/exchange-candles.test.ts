// Public candles for a backtest fetched with ccxt from the exchange simulator (ccxt's URLs pointed at
// it): paged across several requests, equal to the simulator's own series, and a plain message when
// the exchange cannot be reached.
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExchangeSim, type ExchangeSim } from '../../../src-exchange-sim/server.ts';
import { fetchExchangeCandles } from '../../../src-main/services/templates/exchange-candles.ts';
import { defaultSeries } from '../../../src-shared/market-series.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const FROM = Date.UTC(2026, 1, 1);
const TO = FROM + 50 * DAY;

let sim: ExchangeSim;
beforeAll(async () => {
  sim = await startExchangeSim();
});
afterAll(() => sim.close());

/** A port on 127.0.0.1 that nothing listens on: taken, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('public candles through ccxt', () => {
  it.each(['binanceusdm', 'bybit'] as const)('%s: pages through the period and equals the simulator’s series', async (exchange) => {
    const candles = await fetchExchangeCandles(
      { exchange, symbol: 'BTC', timeframe: '1h', from: FROM, to: TO },
      { exchangeUrls: { [exchange]: sim.urls[exchange] }, pageSize: 500 },
    );
    // 1,200 candles at 500 a request: three pages, joined without a gap or a repeat.
    expect(candles).toHaveLength(50 * 24);
    const expected = defaultSeries('BTC').candles(HOUR, FROM, TO);
    // The simulator quotes prices on the contract's 0.1 tick and volumes to 0.001.
    const onTick = (n: number) => Math.round(n * 10) / 10;
    expect(candles.map((c) => [c.time, c.open, c.high, c.low, c.close])).toEqual(expected.map((c) => [c.time, onTick(c.open), onTick(c.high), onTick(c.low), onTick(c.close)]));
    candles.forEach((c, i) => expect(c.volume).toBeCloseTo((expected[i] as { volume: number }).volume, 2));
  });

  it('says plainly when the exchange cannot be reached', async () => {
    const port = await closedPort();
    const failure = fetchExchangeCandles(
      { exchange: 'binanceusdm', symbol: 'BTC', timeframe: '1h', from: FROM, to: TO },
      { exchangeUrls: { binanceusdm: `http://127.0.0.1:${port}` } },
    );
    await expect(failure).rejects.toMatchObject({ code: 'exchange_unreachable', message: expect.stringContaining('cannot be reached from this computer') });
  });
});
