// ccxt's own static-test fixtures (/work/shared/reference/ccxt-static) held against the simulator:
// every request ccxt builds for the unified methods the bot uses reaches a route, and every recorded
// real response has the shape the simulator answers with (same fields, same JSON types, recursively).
import { readFileSync } from 'node:fs';
import type { Exchange } from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimExchangeId } from '../../../src-exchange-sim/keys.ts';
import { startExchangeSim, type ExchangeSim } from '../../../src-exchange-sim/server.ts';
import { ccxtForSim, recordResponses } from '../../support/ccxt-sim.ts';

const FIXTURES = '/work/shared/reference/ccxt-static';
const METHODS = new Set([
  'loadMarkets',
  'fetchBalance',
  'fetchTicker',
  'fetchOHLCV',
  'fetchFundingRate',
  'createOrder',
  'cancelOrder',
  'cancelAllOrders',
  'fetchOpenOrders',
  'fetchOrder',
  'fetchMyTrades',
  'fetchPositions',
  'fetchPosition',
  'setLeverage',
  'setMarginMode',
]);

interface RequestCase {
  description?: string;
  method: string;
  url: string;
  output?: unknown;
}
interface ResponseCase {
  description: string;
  input: unknown[];
  httpResponse: unknown;
  disabled?: boolean;
}
const read = <T,>(name: string): { methods: Record<string, T[]> } => JSON.parse(readFileSync(`${FIXTURES}/${name}`, 'utf8')) as { methods: Record<string, T[]> };

let sim: ExchangeSim;
beforeAll(async () => {
  sim = await startExchangeSim();
});
afterAll(() => sim.close());

/** Where a JSON value's shape differs from the recording's: every recorded key must be there, with the same type. */
export function shapeDifferences(recorded: unknown, actual: unknown, path = '$', ignore: ReadonlySet<string> = new Set()): string[] {
  const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  if (ignore.has(path)) return [];
  if (kind(recorded) !== kind(actual)) return [`${path}: recorded ${kind(recorded)}, simulator ${kind(actual)}`];
  if (Array.isArray(recorded) && Array.isArray(actual)) {
    if (recorded.length === 0) return [];
    if (actual.length === 0) return [`${path}: recorded a non-empty array, simulator an empty one`];
    return shapeDifferences(recorded[0], actual[0], `${path}[]`, ignore);
  }
  if (kind(recorded) === 'object') {
    const a = actual as Record<string, unknown>;
    return Object.entries(recorded as Record<string, unknown>).flatMap(([key, value]) =>
      key in a ? shapeDifferences(value, a[key], `${path}.${key}`, ignore) : [`${path}.${key}: missing`],
    );
  }
  return [];
}

describe('the comparison itself', () => {
  it('reports a missing field, a type change and an empty list, and accepts the same shape', () => {
    expect(shapeDifferences({ a: '1', b: [{ c: true }] }, { a: '2', b: [{ c: false }], extra: 1 })).toEqual([]);
    expect(shapeDifferences({ a: '1' }, { a: 1 })).toEqual(['$.a: recorded string, simulator number']);
    expect(shapeDifferences({ a: '1', b: 2 }, { a: '1' })).toEqual(['$.b: missing']);
    expect(shapeDifferences({ l: [1] }, { l: [] })).toEqual(['$.l: recorded a non-empty array, simulator an empty one']);
  });
});

describe.each(['binanceusdm', 'bybit', 'krakenfutures'] as const)('%s: every recorded request of the bot\'s methods is routed', (exchange) => {
  const fixture = read<RequestCase & { input: unknown[] }>(`${exchange}.request.json`);
  const cases = Object.entries(fixture.methods)
    .filter(([method]) => METHODS.has(method))
    .flatMap(([method, list]) => list.map((c) => ({ ...c, method })));

  it.each(cases.map((c) => [`${c.method} ${JSON.stringify(c.input).slice(0, 80)}`, c] as const))('%s', async (_name, c) => {
    const url = new URL(c.url);
    // The fixtures do not record the HTTP method: a body means POST (PUT for Kraken's leverage), else try each.
    const methods = c.output ? ['POST'] : url.pathname.includes('leveragepreferences') ? ['PUT', 'GET'] : ['GET', 'POST', 'DELETE'];
    const statuses: number[] = [];
    for (const method of methods) {
      const response = await fetch(`${sim.urls[exchange]}${url.pathname}${url.search}`, {
        method,
        ...(c.output ? { body: typeof c.output === 'string' ? c.output : JSON.stringify(c.output), headers: { 'content-type': 'application/json' } } : {}),
      });
      await response.arrayBuffer();
      statuses.push(response.status);
    }
    expect(statuses.some((s) => s !== 404), `${url.pathname} answered ${statuses.join(', ')}`).toBe(true);
  });
});

/** Our own symbol for each recorded one, and a `since` inside the simulated market. */
const OUR_SYMBOL: Record<string, string> = {
  'LTC/USDT:USDT': 'BTC/USDT:USDT',
  'LTC/USD:USD': 'ETH/USD:USD',
};

/** Fields ccxt's recordings hold in another JSON type than the exchange documents them (Bybit sends retCode and time as numbers). */
const IGNORED: Record<SimExchangeId, ReadonlySet<string>> = {
  binanceusdm: new Set(),
  bybit: new Set(['$.retCode', '$.time']),
  krakenfutures: new Set(),
};

describe.each(['binanceusdm', 'bybit', 'krakenfutures'] as const)('%s: answers have the recorded responses\' shape', (exchange) => {
  const fixture = read<ResponseCase>(`${exchange}.response.json`);
  const cases = Object.entries(fixture.methods)
    .filter(([method]) => METHODS.has(method) || method === 'fetchClosedOrders' || method === 'fetchMarginMode')
    .flatMap(([method, list]) => list.map((c) => ({ ...c, method })))
    // Spot and trigger-history recordings are of markets and endpoints the simulator does not offer.
    .filter((c) => !c.disabled && !JSON.stringify(c.input).match(/"[A-Z]+\/USDT"|"spot"|"trigger"/) && !(exchange === 'krakenfutures' && c.method === 'fetchClosedOrders'));

  let ex: Exchange;
  const bodies: string[] = [];
  beforeAll(async () => {
    const key = sim.keys.create({ exchange });
    ex = ccxtForSim(exchange, sim.urls[exchange], { apiKey: key.apiKey, secret: key.secret });
    if (exchange === 'bybit') ex.options.fetchMarkets = { types: ['linear', 'inverse'] };
    recordResponses(ex, bodies);
    await ex.loadMarkets();
    // Something to show: a position, a fill, a closed order and an open order on each recorded symbol.
    for (const symbol of exchange === 'krakenfutures' ? ['ETH/USD:USD', 'BTC/USD:USD'] : ['BTC/USDT:USDT']) {
      await ex.createOrder(symbol, 'market', 'buy', 0.01);
      const last = (await ex.fetchTicker(symbol)).last as number;
      await ex.createOrder(symbol, 'limit', 'buy', 0.01, Math.round(last * 0.5));
    }
  });

  it.each(cases.map((c) => [`${c.method}: ${c.description}`, c] as const))('%s', async (_name, c) => {
    // JSON has no undefined: ccxt's optional arguments were recorded as null.
    const ours = (arg: unknown): unknown => (arg === null ? undefined : Array.isArray(arg) ? arg.map(ours) : typeof arg === 'string' ? (OUR_SYMBOL[arg] ?? arg) : arg);
    const input = c.input.map(ours);
    if (c.method === 'fetchOHLCV' && typeof input[2] === 'number') input[2] = Date.now() - 3 * 3_600_000;
    const call = (ex as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[c.method];
    if (!call) throw new Error(`ccxt has no ${c.method}`);
    const before = bodies.length;
    await call.apply(ex, input);
    const answer: unknown = JSON.parse(bodies[bodies.length - 1] ?? 'null');
    expect(bodies.length).toBeGreaterThan(before);
    expect(shapeDifferences(c.httpResponse, answer, '$', IGNORED[exchange])).toEqual([]);
  });
});
