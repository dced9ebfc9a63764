import { createHmac } from 'node:crypto';
import ccxt, { type Exchange } from 'ccxt';
import { describe, expect, it } from 'vitest';
import { authenticateBybit } from '../../../src-exchange-sim/bybit.ts';
import type { WireRequest } from '../../../src-exchange-sim/http.ts';
import { alterAfterSigning, failureOf, simulatorFor } from '../../support/ccxt-sim.ts';

interface QueryApi {
  retCode: number;
  result: { apiKey: string; readOnly: number; secret: string; permissions: Record<string, string[]>; ips: string[]; expiredAt: string };
}

describe('exchange simulator: Bybit v5', () => {
  const { sim, bodies, secrets, newKey, client } = simulatorFor('bybit');
  const queryApi = (ex: Exchange, params: Record<string, string> = {}): Promise<QueryApi> => ex.privateGetV5UserQueryApi(params);

  it('loadMarkets parses linear and inverse perpetuals (and spot), with and without keys', async () => {
    const markets = await client().loadMarkets();
    expect(Object.keys(markets)).toEqual(expect.arrayContaining(['BTC/USDT:USDT', 'ETH/USDT:USDT', 'BTC/USD:BTC', 'ETH/USD:ETH']));
    expect(markets['BTC/USDT:USDT']).toMatchObject({ id: 'BTCUSDT', type: 'swap', linear: true, settle: 'USDT', active: true, contractSize: 1 });
    expect(markets['BTC/USD:BTC']).toMatchObject({ id: 'BTCUSD', type: 'swap', inverse: true, settle: 'BTC', contractSize: 1 });
    expect(markets['ETH/USDT:USDT']!.precision).toMatchObject({ price: 0.01, amount: 0.001 });

    // With keys ccxt also calls the private coin-info route; it must answer.
    const keyed = client(newKey());
    await keyed.loadMarkets();
    expect(Object.keys(keyed.currencies)).toEqual(expect.arrayContaining(['BTC', 'ETH', 'USDT']));
  });

  it('answers PreLaunch and pages with nextPageCursor, ending on ""', async () => {
    const ex = client();
    const preLaunch = await ex.publicGetV5MarketInstrumentsInfo({ category: 'linear', status: 'PreLaunch' });
    expect(preLaunch).toMatchObject({ retCode: 0, result: { category: 'linear', list: [], nextPageCursor: '' } });

    const first = await ex.publicGetV5MarketInstrumentsInfo({ category: 'inverse', limit: 1 });
    expect(first.result.list.map((i: { symbol: string }) => i.symbol)).toEqual(['BTCUSD']);
    expect(first.result.nextPageCursor).not.toBe('');
    const second = await ex.publicGetV5MarketInstrumentsInfo({ category: 'inverse', limit: 1, cursor: first.result.nextPageCursor });
    expect(second.result.list.map((i: { symbol: string }) => i.symbol)).toEqual(['ETHUSD']);
    expect(second.result.nextPageCursor).toBe('');

    const bad = await failureOf(ex.publicGetV5MarketInstrumentsInfo({ category: 'futures' }));
    expect(bad.constructor).toBe(ccxt.BadRequest);
  });

  it('fetchTime returns the server clock', async () => {
    const serverTime = await client().fetchTime();
    expect(Math.abs((serverTime ?? 0) - Date.now())).toBeLessThan(5_000);
  });

  it('reports a trade-only key: read-write, contract Order+Position, no Withdraw, unbound', async () => {
    const { apiKey, ...rest } = newKey();
    const { retCode, result } = await queryApi(client({ apiKey, ...rest }));
    expect(retCode).toBe(0);
    expect(result).toMatchObject({ apiKey, readOnly: 0, secret: '', ips: ['*'] });
    expect(result.permissions.ContractTrade).toEqual(['Order', 'Position']);
    expect(result.permissions.Wallet).not.toContain('Withdraw');
    // Keys with no IP binding expire about 90 days after creation.
    expect(Date.parse(result.expiredAt) - Date.now()).toBeGreaterThan(89 * 86_400_000);
  });

  it('reports withdraw-enabled, read-only and IP-bound keys', async () => {
    const withdraw = await queryApi(client(newKey({ withdraw: true, internalTransfer: true })));
    expect(withdraw.result.permissions.Wallet).toEqual(['AccountTransfer', 'SubMemberTransfer', 'Withdraw']);

    const readOnly = await queryApi(client(newKey({ readOnly: true })));
    expect(readOnly.result.readOnly).toBe(1);

    const bound = await queryApi(client(newKey({ ipAllowlist: ['127.0.0.1', '10.0.0.0/8'] })));
    expect(bound.result.ips).toEqual(['127.0.0.1', '10.0.0.0/8']);

    const custom = await queryApi(client(newKey({ bybit: { permissions: { ContractTrade: ['Order'], Wallet: [] } } })));
    expect(custom.result.permissions).toEqual({ ContractTrade: ['Order'], Wallet: [] });
  });

  it("answers ccxt's first-private-call probe (query-api + account/info)", async () => {
    const ex = client(newKey());
    expect(await ex.isUnifiedEnabled()).toEqual([false, true]);
    expect(ex.options.unifiedMarginStatus).toBe(6);
  });

  it('refuses a key whose bound IPs exclude the caller with 10010 (PermissionDenied)', async () => {
    const error = await failureOf(queryApi(client(newKey({ ipAllowlist: ['10.1.2.3'] }))));
    expect(error.constructor).toBe(ccxt.PermissionDenied);
    expect(error.message).toContain('"retCode":10010');
  });

  it('refuses an expired key with 33004 (AuthenticationError)', async () => {
    const key = newKey({ expired: true });
    const error = await failureOf(queryApi(client(key)));
    expect(error.constructor).toBe(ccxt.AuthenticationError);
    expect(error.message).toContain('"retCode":33004');

    sim().keys.update(key.apiKey, { expired: false });
    expect((await queryApi(client(key))).retCode).toBe(0);
  });

  it('refuses a wrong secret with 10004 and an unknown key with 10003 (AuthenticationError)', async () => {
    const { apiKey } = newKey();
    const wrong = await failureOf(queryApi(client({ apiKey, secret: newKey().secret })));
    expect(wrong.constructor).toBe(ccxt.AuthenticationError);
    expect(wrong.message).toContain('"retCode":10004');

    const unknown = await failureOf(queryApi(client({ apiKey: 'XXXXXXXXXXXXXXXXXX', secret: 'Y'.repeat(36) })));
    expect(unknown.constructor).toBe(ccxt.AuthenticationError);
    expect(unknown.message).toContain('"retCode":10003');
  });

  it('refuses timestamps outside recv_window, or ahead of the server, with 10002 (InvalidNonce)', async () => {
    const ex = client(newKey());
    ex.options.timeDifference = 10_000; // ccxt sends recvWindow 5000
    const late = await failureOf(queryApi(ex));
    expect(late.constructor).toBe(ccxt.InvalidNonce);
    expect(late.message).toContain('"retCode":10002');

    ex.options.timeDifference = -3_000;
    expect((await failureOf(queryApi(ex))).constructor).toBe(ccxt.InvalidNonce);
  });

  it('refuses a request with one byte of its query changed after signing', async () => {
    const ex = client(newKey());
    alterAfterSigning(ex, (request) => ({ ...request, url: request.url.replace('note=plutarc', 'note=plutarD') }));
    const error = await failureOf(queryApi(ex, { note: 'plutarc' }));
    expect(error.constructor).toBe(ccxt.AuthenticationError);
    expect(error.message).toContain('"retCode":10004');
  });

  it('checks a JSON body signature over the body bytes as sent, and refuses a changed byte', () => {
    const { apiKey, secret } = newKey();
    const timestamp = String(Date.now());
    const body = '{"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Market","qty":"0.001"}';
    const sign = createHmac('sha256', secret).update(`${timestamp}${apiKey}5000${body}`).digest('hex');
    const headers: Record<string, string> = { 'x-bapi-api-key': apiKey, 'x-bapi-timestamp': timestamp, 'x-bapi-recv-window': '5000', 'x-bapi-sign': sign };
    const post = (raw: string): WireRequest => ({
      method: 'POST',
      path: '/v5/order/create',
      query: '',
      body: Buffer.from(raw),
      peer: '127.0.0.1',
      header: (name) => headers[name.toLowerCase()],
    });
    expect(authenticateBybit(post(body), sim().keys)).toHaveProperty('key.apiKey', apiKey);
    // Same JSON value, different bytes (a space): refused, as Bybit signs the raw body.
    expect(authenticateBybit(post(body.replace('"qty":', '"qty": ')), sim().keys)).toHaveProperty('refusal.retCode', 10004);
  });

  it('puts retCode in every body, including unknown routes', async () => {
    const response = await fetch(`${sim().urls.bybit}/v5/no/such/route`);
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ retCode: 10017 });
  });

  it('never puts a secret in any response', () => {
    expect(bodies.length).toBeGreaterThan(10);
    for (const secret of secrets) expect(bodies.filter((body) => body.includes(secret))).toEqual([]);
  });
});
