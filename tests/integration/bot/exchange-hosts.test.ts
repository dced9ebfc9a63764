// The hosts a bot calls on a real exchange, live and testnet, are exactly the ones its sandbox lets it reach
// (src-shared/exchange-hosts.ts, from which the orchestrator makes the egress allowlist). The bot's exchange client
// runs its whole trading round (time, markets, key check, margin and leverage, candles, balance, position, open
// orders, an order, finding it, its fee) with a dispatcher that notes each request's host and serves it from the
// exchange simulator on 127.0.0.1: nothing leaves this machine, and ccxt builds every URL for the real hosts.
import { randomBytes } from 'node:crypto';
import { Agent, Dispatcher } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeySpecInput } from '../../../src-exchange-sim/keys.ts';
import { startExchangeSim, type ExchangeSim } from '../../../src-exchange-sim/server.ts';
import { ExchangeClient } from '../../../src-bot/exchange.ts';
import { EXCHANGE_API_HOSTS } from '../../../src-shared/exchange-hosts.ts';
import type { ExchangeId } from '../../../src-shared/exchanges.ts';

/** Notes the host of every request, then serves it from `target` (the simulator's listener for that exchange). */
class HostRecorder extends Dispatcher {
  readonly hosts = new Set<string>();
  readonly #agent = new Agent();
  readonly #target: string;

  constructor(target: string) {
    super();
    this.#target = target;
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const origin = new URL(String(options.origin));
    this.hosts.add(`${origin.hostname}:${origin.port || (origin.protocol === 'https:' ? '443' : '80')}`);
    return this.#agent.dispatch({ ...options, origin: this.#target }, handler);
  }

  override async close(): Promise<void> {
    await this.#agent.close();
  }
}

const MARKETS: Record<ExchangeId, { symbol: string; settle: string }> = {
  binanceusdm: { symbol: 'BTC/USDT:USDT', settle: 'USDT' },
  bybit: { symbol: 'BTC/USDT:USDT', settle: 'USDT' },
  krakenfutures: { symbol: 'BTC/USD:USD', settle: 'USD' },
};

describe('the hosts a bot calls on a real exchange', () => {
  let sim: ExchangeSim;
  beforeAll(async () => {
    sim = await startExchangeSim();
  });
  afterAll(async () => {
    await sim?.close();
  });

  const cases = (Object.keys(MARKETS) as ExchangeId[]).flatMap((exchange) => [false, true].map((testnet) => ({ exchange, testnet, mode: testnet ? 'testnet' : 'live' })));

  it.each(cases)('$exchange $mode: exactly the allowed ones', async ({ exchange, testnet }) => {
    const { symbol, settle } = MARKETS[exchange];
    const key = sim.keys.create({ exchange, ...(exchange === 'krakenfutures' ? {} : { balances: { USDT: 10_000 } }) } as KeySpecInput);
    const recorder = new HostRecorder(sim.urls[exchange]);
    try {
      const client = await ExchangeClient.open({
        exchange,
        credentials: { apiKey: key.apiKey, secret: key.secret },
        symbol,
        testnet,
        exchangeUrl: null,
        dispatcher: recorder,
        timeoutMs: 10_000,
      });
      const now = await client.syncTime();
      await client.loadMarket();
      const report = await client.checkKey();
      // Binance demo trading cannot be asked about a key: the bot says so rather than call a host outside the list.
      expect(report.status).toBe(exchange === 'binanceusdm' && testnet ? 'pending' : 'verified');
      await client.applyMarginAndLeverage('isolated', 2);
      await client.closedCandles('1m', 60_000, now - 10 * 60_000, 10);
      await client.equity(settle);
      await client.position();
      await client.openOrders();
      const clientOrderId = `hosts${randomBytes(6).toString('hex')}`;
      const placed = await client.placeMarket({ side: 'buy', quantity: client.tradable(0.01), clientOrderId, reduceOnly: false });
      expect(await client.findOrder(clientOrderId)).toMatchObject({ id: placed.id });
      await client.feeOf(placed.id, now);

      const allowed = EXCHANGE_API_HOSTS[exchange][testnet ? 'testnet' : 'live'].map(({ host, port }) => `${host}:${port}`);
      expect([...recorder.hosts].sort()).toEqual([...allowed].sort());
    } finally {
      await recorder.close();
    }
  });
});
