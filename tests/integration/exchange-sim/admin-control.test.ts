// The simulator's control surface over real HTTP: starting balances given when a key is made, the
// clock, and fault rules, each refused when malformed.
import ccxt from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExchangeSim, type ExchangeSim } from '../../../src-exchange-sim/server.ts';
import { ccxtForSim, failureOf } from '../../support/ccxt-sim.ts';

let sim: ExchangeSim;
beforeAll(async () => {
  sim = await startExchangeSim();
});
afterAll(() => sim.close());

const admin = async (method: string, path: string, body?: unknown) => {
  const response = await fetch(`${sim.urls.admin}${path}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
};

describe('exchange simulator: control', () => {
  it('opens each key\'s account with the starting balance given when the key was made', async () => {
    const made = await admin('POST', '/_sim/keys', { exchange: 'binanceusdm', balances: { USDT: 1234.5 } });
    expect(made.status).toBe(201);
    const { apiKey, secret } = made.body as { apiKey: string; secret: string };
    const ex = ccxtForSim('binanceusdm', sim.urls.binanceusdm, { apiKey, secret });
    expect((await ex.fetchBalance()).USDT?.total).toBe(1234.5);
    const other = sim.keys.create({ exchange: 'binanceusdm' });
    const defaults = ccxtForSim('binanceusdm', sim.urls.binanceusdm, { apiKey: other.apiKey, secret: other.secret });
    expect((await defaults.fetchBalance()).USDT?.total).toBe(10_000);
    expect((await admin('POST', '/_sim/keys', { exchange: 'bybit', balances: { USDT: -1 } })).status).toBe(400);
    expect((await admin('POST', '/_sim/keys', { exchange: 'bybit', balances: { 'not an asset': 1 } })).status).toBe(400);
  });

  it('pins, sets, advances and releases the clock, and refuses to move it back', async () => {
    const pinned = await admin('POST', '/_sim/clock', { pinned: true });
    const now = pinned.body?.now as number;
    expect(pinned.body).toEqual({ now, pinned: true });
    expect(await admin('GET', '/_sim/clock')).toEqual({ status: 200, body: { now, pinned: true } });
    expect((await admin('POST', '/_sim/clock', { setTo: now + 60_000, advanceBy: 1_000 })).body).toEqual({ now: now + 61_000, pinned: true });
    expect((await admin('POST', '/_sim/clock', { setTo: now })).status).toBe(409);
    expect((await admin('POST', '/_sim/clock', { advanceBy: -5 })).status).toBe(400);
    expect((await admin('POST', '/_sim/clock', { rewind: true })).status).toBe(400);
    const released = await admin('POST', '/_sim/clock', { pinned: false });
    expect(released.body?.pinned).toBe(false);
    expect(released.body?.now as number).toBeGreaterThanOrEqual(now + 61_000);
  });

  it('keeps fault rules until used up, lists and clears them, and refuses malformed ones', async () => {
    expect((await admin('POST', '/_sim/faults', { exchange: 'bybit', mode: 'explode' })).status).toBe(400);
    expect((await admin('POST', '/_sim/faults', { exchange: 'bitmex', mode: 'drop' })).status).toBe(400);
    expect((await admin('POST', '/_sim/faults', { exchange: 'bybit', mode: 'delay', delayMs: 10 * 60_000 })).status).toBe(400);
    expect((await admin('POST', '/_sim/faults', { exchange: 'bybit', mode: 'server-error', count: 2, path: '/v5/market/time' })).status).toBe(201);
    expect((await admin('POST', '/_sim/faults', { exchange: 'krakenfutures', mode: 'rate-limit' })).status).toBe(201);
    expect(((await admin('GET', '/_sim/faults')).body?.faults as unknown[]).length).toBe(2);

    const bybit = ccxtForSim('bybit', sim.urls.bybit);
    // Only requests matching the path use the rule up; others pass untouched.
    expect(await bybit.publicGetV5MarketInstrumentsInfo({ category: 'linear' })).toMatchObject({ retCode: 0 });
    expect(await failureOf(bybit.fetchTime())).toBeInstanceOf(ccxt.ExchangeNotAvailable);
    expect(await failureOf(bybit.fetchTime())).toBeInstanceOf(ccxt.ExchangeNotAvailable);
    expect(await bybit.fetchTime()).toBeGreaterThan(0);

    expect((await admin('DELETE', '/_sim/faults?exchange=krakenfutures')).status).toBe(204);
    expect((await admin('GET', '/_sim/faults')).body?.faults).toEqual([]);
    const kraken = ccxtForSim('krakenfutures', sim.urls.krakenfutures);
    expect((await kraken.fetchMarkets()).length).toBeGreaterThan(0);
  });
});
