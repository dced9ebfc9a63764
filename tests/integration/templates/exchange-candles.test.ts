// Public candles for a backtest fetched with ccxt from the exchange simulator (ccxt's URLs pointed at
// it): paged across several requests, equal to the simulator's own series, and a plain message when
// the exchange cannot be reached.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBacktest } from '../../../src-engine/backtest.ts';
import { EXCHANGE_FEES } from '../../../src-engine/fees.ts';
import { systemTemplate } from '../../../src-engine/system-templates.ts';
import { startExchangeSim, type ExchangeSim } from '../../../src-exchange-sim/server.ts';
import { dispatchInvoke } from '../../../src-main/services/dispatch.ts';
import { createMainServices, type MainServices } from '../../../src-main/services/main-services.ts';
import { fetchExchangeCandles } from '../../../src-main/services/templates/exchange-candles.ts';
import type { InvokeChannel, InvokeInput, InvokeOutput } from '../../../src-shared/ipc.ts';
import { defaultSeries } from '../../../src-shared/market-series.ts';
import type { Result } from '../../../src-shared/result.ts';
import { startTestApi, type TestApi } from '../../support/api.ts';
import { GOOD_PASSWORD, uniqueEmail } from '../../support/identity.ts';
import { tempDir } from '../../support/temp.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const FROM = Date.UTC(2026, 1, 1);
const TO = FROM + 50 * DAY;

let sim: ExchangeSim;
let api: TestApi;
const dir = tempDir('plutarc-exchange-candles-');
const opened: MainServices[] = [];
beforeAll(async () => {
  sim = await startExchangeSim();
  api = await startTestApi();
});
afterAll(async () => {
  for (const s of opened) s.stop();
  await api.close();
  await sim.close();
  dir.cleanup();
});

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

describe('a backtest on an exchange’s candles in the app', () => {
  it('fetches the period in main, replays it in the worker, and labels the result with the exchange', async () => {
    const services = createMainServices({
      apiUrl: api.url,
      host: 'browser',
      version: '0.0.0-test',
      dataDir: dir.path,
      exchangeKeys: { exchangeUrls: { bybit: sim.urls.bybit } },
    });
    services.start();
    opened.push(services);
    const attempt = <C extends InvokeChannel>(channel: C, input?: InvokeInput<C>) => dispatchInvoke(services.handlers, channel, input) as Promise<Result<InvokeOutput<C>>>;
    expect((await attempt('identity.register', { email: uniqueEmail('exchange-candles'), password: GOOD_PASSWORD })).ok).toBe(true);

    const answer = await attempt('backtests.run', {
      runId: randomUUID(),
      templateId: 'system-trend-following',
      version: 1,
      candles: { source: 'exchange', exchange: 'bybit' },
      symbol: 'BTC',
      timeframe: '1h',
      from: FROM,
      to: TO,
      initialEquity: 10_000,
      exchange: 'bybit',
    });
    if (!answer.ok) throw new Error(`${answer.code}: ${answer.message}`);
    expect(answer.value).toMatchObject({ candlesFrom: 'bybit', timeframe: '1h', from: FROM, to: TO, cancelled: false });
    expect(answer.value.summary.candles).toBe(50 * 24);

    // The same candles straight through the engine: the app replayed what the exchange sent, nothing else.
    const template = systemTemplate('system-trend-following')?.template;
    if (!template) throw new Error('no trend-following template');
    const candles = await fetchExchangeCandles({ exchange: 'bybit', symbol: 'BTC', timeframe: '1h', from: FROM, to: TO }, { exchangeUrls: { bybit: sim.urls.bybit } });
    const direct = runBacktest({
      engine: { template, timeframeMs: HOUR, contract: 'linear', limits: null },
      candles,
      fundingRates: [],
      initialEquity: 10_000,
      feeBps: EXCHANGE_FEES.bybit.takerBps,
      slippageBps: 2,
    });
    expect(answer.value.summary).toEqual(direct.summary);
  });
});
