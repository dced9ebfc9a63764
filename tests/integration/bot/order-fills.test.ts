// The bot's exchange client learns a market order's fill (size, price, fee) from its answer, or from the order's
// fills where ccxt reads no price from the answer (Kraken Futures' order status, and its inverse contracts, whose
// executions ccxt leaves without a size), on every exchange and contract kind: the call that placed the order (Bybit,
// which only acknowledges it: with the look-up it makes at once), or that found it by its client id, says what it
// filled at. Checked against the simulator's own ledger.
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExchangeClient, type PlacedOrder } from '../../../src-bot/exchange.ts';
import type { SimExchangeId } from '../../../src-exchange-sim/keys.ts';
import { startExchangeSim, type ExchangeSim } from '../../../src-exchange-sim/server.ts';

const CASES = [
  { exchange: 'binanceusdm', symbol: 'BTC/USDT:USDT', contract: 'BTCUSDT', quantity: 0.01 },
  { exchange: 'bybit', symbol: 'BTC/USDT:USDT', contract: 'BTCUSDT', quantity: 0.01 },
  { exchange: 'bybit', symbol: 'BTC/USD:BTC', contract: 'BTCUSD', quantity: 1000 },
  { exchange: 'krakenfutures', symbol: 'BTC/USD:USD', contract: 'PF_XBTUSD', quantity: 0.01 },
  { exchange: 'krakenfutures', symbol: 'BTC/USD:BTC', contract: 'PI_XBTUSD', quantity: 1000 },
] as const;

let sim: ExchangeSim;
let agent: Agent;
beforeAll(async () => {
  sim = await startExchangeSim();
  agent = new Agent();
});
afterAll(async () => {
  await agent?.close();
  await sim?.close();
});

async function clientFor(exchange: SimExchangeId, symbol: string): Promise<{ client: ExchangeClient; apiKey: string }> {
  const key = sim.keys.create({ exchange, balances: { USDT: 100_000, USD: 100_000, BTC: 1 } });
  const client = await ExchangeClient.open({ exchange, credentials: { apiKey: key.apiKey, secret: key.secret }, symbol, testnet: false, exchangeUrl: sim.urls[exchange], dispatcher: agent, timeoutMs: 10_000 });
  await client.syncTime();
  await client.loadMarket();
  return { client, apiKey: key.apiKey };
}

/** The fee the bot books for an order: the answer's, or else the order's fills' (as the trader asks). Bybit's order
 * answer gives it to 8 decimals, so it is compared to within half of the last one. */
async function feeBooked(client: ExchangeClient, order: PlacedOrder): Promise<number> {
  return order.fee > 0 ? order.fee : ((await client.feeOf(order.id, order.time)) ?? Number.NaN);
}

describe.each(CASES)('$exchange $symbol: a market order’s fill', ({ exchange, symbol, contract, quantity }) => {
  it('is known from the call that placed it (Bybit: from its look-up): size, price and fee as the exchange booked them', async () => {
    const { client, apiKey } = await clientFor(exchange, symbol);
    const clientOrderId = `fill${exchange.slice(0, 4)}${contract}`;
    const placed = await client.placeMarket({ side: 'buy', quantity: client.tradable(quantity), clientOrderId, reduceOnly: false });

    const ledger = sim.ledgers[exchange];
    const [fill, ...more] = ledger.fills(apiKey).filter((f) => f.clientId === clientOrderId);
    expect(more).toEqual([]);
    expect(fill?.symbol).toBe(contract);
    // Bybit only acknowledges an order; the client looks it up by its client id at once, and finds it filled.
    expect(placed).toMatchObject({ clientOrderId, done: true, filled: quantity, averagePrice: fill?.price });
    expect(Math.abs((await feeBooked(client, placed)) - (fill?.fee ?? Number.NaN))).toBeLessThanOrEqual(5e-9);
  });

  it('is known when the order is found by its client id after its answer was lost', async () => {
    const { client, apiKey } = await clientFor(exchange, symbol);
    const clientOrderId = `lost${exchange.slice(0, 4)}${contract}`;
    const path = { binanceusdm: '/fapi/v1/order', bybit: '/v5/order/create', krakenfutures: '/derivatives/api/v3/sendorder' }[exchange];
    const fault = await fetch(`${sim.urls.admin}/_sim/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ exchange, mode: 'drop-response', path, method: 'POST' }) });
    expect(fault.status).toBe(201);
    const lost = await client.placeMarket({ side: 'sell', quantity: client.tradable(quantity), clientOrderId, reduceOnly: false }).then(
      () => null,
      (error: unknown) => client.classify(error),
    );
    expect(lost).toBe('transient');

    const found = await client.findOrder(clientOrderId);
    const [fill] = sim.ledgers[exchange].fills(apiKey).filter((f) => f.clientId === clientOrderId);
    expect(found).toMatchObject({ clientOrderId, done: true, filled: quantity, averagePrice: fill?.price });
    expect(Math.abs((await feeBooked(client, found!)) - (fill?.fee ?? Number.NaN))).toBeLessThanOrEqual(5e-9);
  });
});

describe('bybit BTC/USD:BTC: the look-up after an acknowledgement', () => {
  it('failing leaves the order placed and acknowledged, to be followed up by its client id; nothing is sent twice', async () => {
    const { client, apiKey } = await clientFor('bybit', 'BTC/USD:BTC');
    const clientOrderId = 'ackonlybybitBTCUSD';
    const fault = await fetch(`${sim.urls.admin}/_sim/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ exchange: 'bybit', mode: 'server-error', path: '/v5/order/realtime', method: 'GET' }),
    });
    expect(fault.status).toBe(201);
    const placed = await client.placeMarket({ side: 'buy', quantity: 1000, clientOrderId, reduceOnly: false });
    expect(sim.faults.list()).toEqual([]);
    expect(placed).toMatchObject({ clientOrderId, done: false, averagePrice: null });
    expect(sim.ledgers.bybit.orders(apiKey).filter((o) => o.clientId === clientOrderId)).toHaveLength(1);
    const [fill] = sim.ledgers.bybit.fills(apiKey).filter((f) => f.clientId === clientOrderId);
    expect(await client.findOrder(clientOrderId)).toMatchObject({ id: placed.id, done: true, filled: 1000, averagePrice: fill?.price });
  });
});
