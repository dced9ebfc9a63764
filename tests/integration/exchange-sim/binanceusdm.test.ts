import { createHmac } from 'node:crypto';
import ccxt, { type Exchange } from 'ccxt';
import { describe, expect, it } from 'vitest';
import { authenticateBinance } from '../../../src-exchange-sim/binance.ts';
import type { WireRequest } from '../../../src-exchange-sim/http.ts';
import { KeySpecError } from '../../../src-exchange-sim/keys.ts';
import { alterAfterSigning, failureOf, simulatorFor } from '../../support/ccxt-sim.ts';

type Restrictions = Record<string, unknown>;

describe('exchange simulator: Binance USD-M', () => {
  const { sim, bodies, secrets, newKey, client } = simulatorFor('binanceusdm');
  const restrictions = (ex: Exchange): Promise<Restrictions> => ex.sapiGetAccountApiRestrictions();

  it('loadMarkets parses the USDT-margined perpetuals, with and without keys', async () => {
    const markets = await client().loadMarkets();
    expect(Object.keys(markets).sort()).toEqual(['BTC/USDT:USDT', 'ETH/USDT:USDT']);
    const btc = markets['BTC/USDT:USDT']!;
    expect(btc).toMatchObject({ id: 'BTCUSDT', type: 'swap', linear: true, settle: 'USDT', active: true, contractSize: 1 });
    expect(btc.precision).toMatchObject({ price: 0.1, amount: 0.001 });
    expect(btc.limits.cost?.min).toBe(100);

    // With keys ccxt also fetches currencies over signed sapi routes; they must answer too.
    const keyed = client(newKey());
    await keyed.loadMarkets();
    expect(Object.keys(keyed.currencies)).toEqual(expect.arrayContaining(['BTC', 'ETH', 'USDT']));
  });

  it('fetchTime returns the server clock', async () => {
    const serverTime = await client().fetchTime();
    expect(Math.abs((serverTime ?? 0) - Date.now())).toBeLessThan(5_000);
  });

  it('reports a trade-only key: futures on, withdrawals off, no IP restriction', async () => {
    const r = await restrictions(client(newKey({ trade: true, withdraw: false })));
    expect(r).toMatchObject({ enableReading: true, enableFutures: true, enableWithdrawals: false, ipRestrict: false });
    expect(typeof r.createTime).toBe('number');
  });

  it('reports a withdraw-enabled key, which Binance only allows with an IP restriction', async () => {
    const r = await restrictions(client(newKey({ withdraw: true, internalTransfer: true, ipAllowlist: ['127.0.0.1'] })));
    expect(r).toMatchObject({ enableWithdrawals: true, enableInternalTransfer: true, ipRestrict: true, enableFutures: true });
    expect(() => sim().keys.create({ exchange: 'binanceusdm', withdraw: true })).toThrow(KeySpecError);
  });

  it('reports a read-only key and native overrides', async () => {
    const r = await restrictions(client(newKey({ readOnly: true, binanceusdm: { enableSpotAndMarginTrading: true } })));
    expect(r).toMatchObject({ enableFutures: false, enableSpotAndMarginTrading: true });
    // Unrestricted keys lose spot trading after 30 days, and Binance says when.
    expect(r.tradingAuthorityExpirationTime).toBe((r.createTime as number) + 30 * 24 * 3600 * 1000);
  });

  it('refuses a key whose IP allowlist excludes the caller with -2015 (AuthenticationError)', async () => {
    const error = await failureOf(restrictions(client(newKey({ ipAllowlist: ['10.1.2.3', '192.168.0.0/16'] }))));
    expect(error.constructor).toBe(ccxt.AuthenticationError);
    expect(error.message).toContain('"code":-2015');
  });

  it('refuses a wrong secret with -1022 (AuthenticationError)', async () => {
    const { apiKey } = newKey();
    const error = await failureOf(restrictions(client({ apiKey, secret: newKey().secret })));
    expect(error.constructor).toBe(ccxt.AuthenticationError);
    expect(error.message).toContain('"code":-1022');
  });

  it('refuses timestamps outside recvWindow, or ahead of the server, with -1021 (InvalidNonce)', async () => {
    const ex = client(newKey());
    ex.options.timeDifference = 20_000; // ccxt's clock 20 s behind; it sends recvWindow=10000
    const late = await failureOf(restrictions(ex));
    expect(late.constructor).toBe(ccxt.InvalidNonce);
    expect(late.message).toContain('outside of the recvWindow');

    ex.options.timeDifference = -5_000; // 5 s ahead
    const early = await failureOf(restrictions(ex));
    expect(early.constructor).toBe(ccxt.InvalidNonce);
    expect(early.message).toContain('ahead of the server');
  });

  it('refuses unknown, malformed and expired keys', async () => {
    const unknown = await failureOf(restrictions(client({ apiKey: 'A'.repeat(64), secret: 'B'.repeat(64) })));
    expect(unknown.constructor).toBe(ccxt.AuthenticationError);
    expect(unknown.message).toContain('"code":-2015');

    const malformed = await failureOf(restrictions(client({ apiKey: 'short', secret: 'B'.repeat(64) })));
    expect(malformed.constructor).toBe(ccxt.AuthenticationError);
    expect(malformed.message).toContain('"code":-2014');

    const expired = await failureOf(restrictions(client(newKey({ expired: true }))));
    expect(expired.constructor).toBe(ccxt.AuthenticationError);
    expect(expired.message).toContain('"code":-2015');

    // A Bybit key is not a Binance key.
    const bybit = sim().keys.create({ exchange: 'bybit' });
    secrets.push(bybit.secret);
    expect((await failureOf(restrictions(client(bybit)))).constructor).toBe(ccxt.AuthenticationError);
  });

  it('refuses a request with one byte of its query changed after signing', async () => {
    const ex = client(newKey());
    alterAfterSigning(ex, (request) => ({ ...request, url: request.url.replace('recvWindow=10000', 'recvWindow=10001') }));
    const error = await failureOf(restrictions(ex));
    expect(error.constructor).toBe(ccxt.AuthenticationError);
    expect(error.message).toContain('"code":-1022');
  });

  it('checks the signature over the query bytes as sent, not a re-encoding of them', async () => {
    const { apiKey, secret } = newKey();
    const url = `${sim().urls.binanceusdm}/sapi/v1/account/apiRestrictions`;
    const signedQuery = `timestamp=${Date.now()}&recvWindow=5000&note=%41`;
    const signature = createHmac('sha256', secret).update(signedQuery).digest('hex');
    const headers = { 'X-MBX-APIKEY': apiKey };

    const asSigned = await fetch(`${url}?${signedQuery}&signature=${signature}`, { headers });
    expect(asSigned.status).toBe(200);
    // Same parameters once decoded (%41 is "A"), different bytes: Binance refuses it.
    const reencoded = await fetch(`${url}?${signedQuery.replace('%41', 'A')}&signature=${signature}`, { headers });
    expect(reencoded.status).toBe(400);
    expect(await reencoded.json()).toEqual({ code: -1022, msg: 'Signature for this request is not valid.' });
  });

  it('checks a form body signature over the body bytes, and refuses a flipped byte', () => {
    const { apiKey, secret } = newKey();
    const body = `symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.001&timestamp=${Date.now()}&recvWindow=5000`;
    const signature = createHmac('sha256', secret).update(body).digest('hex');
    const post = (raw: string): WireRequest => ({
      method: 'POST',
      path: '/fapi/v1/order',
      query: '',
      body: Buffer.from(raw),
      peer: '127.0.0.1',
      header: (name) => (name.toLowerCase() === 'x-mbx-apikey' ? apiKey : undefined),
    });
    expect(authenticateBinance(post(`${body}&signature=${signature}`), sim().keys)).toHaveProperty('key.apiKey', apiKey);
    expect(authenticateBinance(post(`${body.replace('0.001', '0.002')}&signature=${signature}`), sim().keys)).toEqual({
      refusal: { status: 400, code: -1022, msg: 'Signature for this request is not valid.' },
    });
  });

  it('never puts a secret in any response', () => {
    expect(bodies.length).toBeGreaterThan(10);
    for (const secret of secrets) expect(bodies.filter((body) => body.includes(secret))).toEqual([]);
  });
});
