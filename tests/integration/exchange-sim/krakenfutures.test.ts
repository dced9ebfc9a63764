import { createHash, createHmac } from 'node:crypto';
import ccxt, { type Exchange } from 'ccxt';
import { describe, expect, it } from 'vitest';
import type { WireRequest } from '../../../src-exchange-sim/http.ts';
import { authenticateKrakenFutures, NonceBook } from '../../../src-exchange-sim/kraken-futures.ts';
import { alterAfterSigning, failureOf, KRAKEN_FUTURES_KEY_CHECK, simulatorFor } from '../../support/ccxt-sim.ts';

interface CheckedKey {
  apiKey: string;
  accountUid: string;
  iiban: string;
  permissions: { general: string; transfer: string };
  allowedCidrBlock: string | null;
  allowedCidrBlocks: string[];
}

/** Kraken's documented Authent, computed independently of the simulator's code. */
function authent(secret: string, postData: string, nonce: string, endpointPath: string): string {
  const digest = createHash('sha256').update(postData + nonce + endpointPath).digest();
  return createHmac('sha512', Buffer.from(secret, 'base64')).update(digest).digest('base64');
}

describe('exchange simulator: Kraken Futures', () => {
  const { sim, bodies, secrets, newKey, client } = simulatorFor('krakenfutures');
  const checkKey = (ex: Exchange): Promise<CheckedKey> => ex.request(...KRAKEN_FUTURES_KEY_CHECK);
  const leveragePreferences = (ex: Exchange, params: Record<string, string> = {}) => ex.privateGetLeveragepreferences(params);

  it('loadMarkets parses the USD-settled (PF_) and inverse (PI_) perpetuals', async () => {
    const markets = await client().loadMarkets();
    expect(Object.keys(markets).sort()).toEqual(['BTC/USD:BTC', 'BTC/USD:USD', 'ETH/USD:ETH', 'ETH/USD:USD']);
    expect(markets['BTC/USD:USD']).toMatchObject({ id: 'PF_XBTUSD', type: 'swap', linear: true, settle: 'USD', active: true });
    expect(markets['BTC/USD:USD']!.precision).toMatchObject({ price: 1, amount: 0.0001 });
    expect(markets['BTC/USD:BTC']).toMatchObject({ id: 'PI_XBTUSD', inverse: true, settle: 'BTC', contractSize: 1 });
  });

  it('has no server-time call in ccxt (responses carry serverTime instead)', async () => {
    const ex = client();
    expect(ex.has.fetchTime).toBeFalsy();
    const raw = await ex.publicGetInstruments();
    expect(Math.abs(Date.parse(raw.serverTime) - Date.now())).toBeLessThan(5_000);
  });

  it('reports a trade-only key: general FULL_ACCESS, transfer NO_ACCESS, no CIDR restriction', async () => {
    const { apiKey, secret } = newKey();
    const checked = await checkKey(client({ apiKey, secret }));
    expect(checked).toMatchObject({ apiKey, permissions: { general: 'FULL_ACCESS', transfer: 'NO_ACCESS' }, allowedCidrBlock: null, allowedCidrBlocks: [] });
    expect(checked.iiban).toMatch(/^AA[A-Z0-9]{2} [A-Z0-9]{4} [A-Z0-9]{4} [A-Z0-9]{4}$/);
  });

  it('reports withdraw-enabled, read-only and CIDR-restricted keys', async () => {
    expect((await checkKey(client(newKey({ withdraw: true })))).permissions).toEqual({ general: 'FULL_ACCESS', transfer: 'FULL_ACCESS' });
    expect((await checkKey(client(newKey({ readOnly: true })))).permissions.general).toBe('READ_ONLY');
    const restricted = await checkKey(client(newKey({ ipAllowlist: ['127.0.0.1', '10.0.0.0/8'] })));
    expect(restricted).toMatchObject({ allowedCidrBlock: '127.0.0.1/32', allowedCidrBlocks: ['127.0.0.1/32', '10.0.0.0/8'] });
  });

  it('refuses a key whose CIDR blocks exclude the caller: authenticationError on v3, 401 on the auth service', async () => {
    const ex = client(newKey({ ipAllowlist: ['10.1.2.3'] }));
    const v3 = await failureOf(leveragePreferences(ex));
    expect(v3.constructor).toBe(ccxt.AuthenticationError);
    // The auth service answers 401 {"error":"UNAUTHORIZED",…}, which ccxt leaves as a plain ExchangeError.
    const check = await failureOf(checkKey(ex));
    expect(check.constructor).toBe(ccxt.ExchangeError);
    expect(check.message).toContain('"error":"UNAUTHORIZED"');
  });

  it('refuses a wrong secret, an unknown key and an expired key', async () => {
    const { apiKey } = newKey();
    const wrong = client({ apiKey, secret: newKey().secret });
    expect((await failureOf(leveragePreferences(wrong))).constructor).toBe(ccxt.AuthenticationError);
    expect((await failureOf(checkKey(wrong))).message).toContain('UNAUTHORIZED');

    const unknown = client({ apiKey: Buffer.alloc(42, 1).toString('base64'), secret: Buffer.alloc(64, 2).toString('base64') });
    expect((await failureOf(leveragePreferences(unknown))).constructor).toBe(ccxt.AuthenticationError);

    const expired = client(newKey({ expired: true }));
    expect((await failureOf(leveragePreferences(expired))).constructor).toBe(ccxt.AuthenticationError);
    expect(await leveragePreferences(client(newKey()))).toMatchObject({ result: 'success', leveragePreferences: [] });
  });

  it('enforces nonces when a client sends one: duplicates and stale nonces are InvalidNonce', async () => {
    const { apiKey, secret } = newKey();
    const ex = client({ apiKey, secret });
    let nonce = '';
    // ccxt sends no Nonce; add one and sign it the documented way.
    alterAfterSigning(ex, (request) => {
      const url = new URL(request.url);
      const endpointPath = url.pathname.replace(/^\/derivatives/, '');
      const headers = { ...request.headers, Nonce: nonce, Authent: authent(secret, url.search.slice(1), nonce, endpointPath) };
      return { ...request, headers };
    });
    const now = Date.now();
    nonce = String(now);
    expect(await leveragePreferences(ex)).toMatchObject({ result: 'success' });
    nonce = String(now + 1);
    expect(await checkKey(ex)).toMatchObject({ apiKey });

    const duplicate = await failureOf(leveragePreferences(ex));
    expect(duplicate.constructor).toBe(ccxt.InvalidNonce);
    expect(duplicate.message).toContain('nonceDuplicate');
    nonce = String(now - 60_000);
    const stale = await failureOf(leveragePreferences(ex));
    expect(stale.constructor).toBe(ccxt.InvalidNonce);
    expect(stale.message).toContain('nonceBelowThreshold');
    // Slightly out of order is tolerated, as Kraken documents.
    nonce = String(now - 500);
    expect(await leveragePreferences(ex)).toMatchObject({ result: 'success' });
  });

  it('refuses a request with one byte of its query changed after signing', async () => {
    const ex = client(newKey());
    alterAfterSigning(ex, (request) => ({ ...request, url: request.url.replace('PF_XBTUSD', 'PF_XBTUSE') }));
    const error = await failureOf(leveragePreferences(ex, { symbol: 'PF_XBTUSD' }));
    expect(error.constructor).toBe(ccxt.AuthenticationError);
  });

  it('signs postData over the bytes as sent: query for ccxt calls, body for batchorder', () => {
    const { apiKey, secret } = newKey();
    const book = new NonceBook();
    const request = (query: string, body: string, signature: string): WireRequest => ({
      method: 'POST',
      path: '/derivatives/api/v3/batchorder',
      query,
      body: Buffer.from(body),
      peer: '127.0.0.1',
      header: (name) => ({ apikey: apiKey, authent: signature })[name.toLowerCase()],
    });
    const body = 'json={"batchOrder":[{"order":"send","order_tag":"1","orderType":"lmt","symbol":"PF_XBTUSD","side":"buy","size":0.001,"limitPrice":1000}]}';
    const signature = authent(secret, body, '', '/api/v3/batchorder');
    expect(authenticateKrakenFutures(request('', body, signature), sim().keys, book)).toHaveProperty('key.apiKey', apiKey);
    expect(authenticateKrakenFutures(request('', body.replace('0.001', '0.002'), signature), sim().keys, book)).toHaveProperty(
      'refusal.error',
      'authenticationError',
    );

    const query = 'symbol=PF_XBTUSD&note=%41';
    const querySignature = authent(secret, query, '', '/api/v3/batchorder');
    expect(authenticateKrakenFutures(request(query, '', querySignature), sim().keys, book)).toHaveProperty('key');
    expect(authenticateKrakenFutures(request(query.replace('%41', 'A'), '', querySignature), sim().keys, book)).toHaveProperty('refusal');
  });

  it('never puts a secret in any response', () => {
    expect(bodies.length).toBeGreaterThan(10);
    for (const secret of secrets) expect(bodies.filter((body) => body.includes(secret))).toEqual([]);
  });
});
