import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import ccxt from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { peerAllowed, SimKeyStore, type SimKey } from '../../../src-exchange-sim/keys.ts';
import { ExchangeSimReady, startExchangeSim, type ExchangeSim } from '../../../src-exchange-sim/server.ts';
import { ccxtForSim, failureOf } from '../../support/ccxt-sim.ts';

const MAIN = fileURLToPath(new URL('../../../src-exchange-sim/main.ts', import.meta.url));

describe('exchange simulator: keys', () => {
  it('issues keys in each exchange’s real format, from a CSPRNG', () => {
    const store = new SimKeyStore();
    const binance = store.create({ exchange: 'binanceusdm' });
    expect(binance.apiKey).toMatch(/^[A-Za-z0-9]{64}$/);
    expect(binance.secret).toMatch(/^[A-Za-z0-9]{64}$/);
    const bybit = store.create({ exchange: 'bybit' });
    expect(bybit.apiKey).toMatch(/^[A-Za-z0-9]{18}$/);
    expect(bybit.secret).toMatch(/^[A-Za-z0-9]{36}$/);
    const kraken = store.create({ exchange: 'krakenfutures' });
    expect(Buffer.from(kraken.secret, 'base64').toString('base64')).toBe(kraken.secret);
    expect(Buffer.from(kraken.secret, 'base64')).toHaveLength(64);
    expect(kraken.apiKey).toHaveLength(56);
    expect(store.create({ exchange: 'binanceusdm' }).secret).not.toBe(binance.secret);
  });

  it('keeps secrets out of key records, so logging or serialising one cannot leak it', () => {
    const store = new SimKeyStore();
    const issued = store.create({ exchange: 'bybit' });
    const record = store.find('bybit', issued.apiKey) as SimKey;
    expect(JSON.stringify(record)).not.toContain(issued.secret);
    expect(JSON.stringify(store.list())).not.toContain(issued.secret);
    expect(store.secretOf(record)).toBe(issued.secret);
  });

  it('rejects specs that do not fit the exchange', () => {
    const store = new SimKeyStore();
    expect(() => store.create({ exchange: 'bybit', binanceusdm: { enableFutures: true } })).toThrow(/does not apply to a bybit key/);
    expect(() => store.create({ exchange: 'bybit', ipAllowlist: ['not-an-ip'] })).toThrow(/IP address or CIDR/);
    expect(() => store.create({ exchange: 'kraken' as 'bybit' })).toThrow();
  });

  it('matches the peer against single addresses, CIDR blocks, IPv6 and v4-mapped addresses', () => {
    const key = (ipAllowlist: string[]) => ({ ipAllowlist }) as SimKey;
    expect(peerAllowed(key([]), '203.0.113.9')).toBe(true);
    expect(peerAllowed(key(['127.0.0.1']), '::ffff:127.0.0.1')).toBe(true);
    expect(peerAllowed(key(['10.0.0.0/8']), '10.200.1.1')).toBe(true);
    expect(peerAllowed(key(['10.0.0.0/8']), '11.0.0.1')).toBe(false);
    expect(peerAllowed(key(['2001:db8::/32']), '2001:db8::1')).toBe(true);
    expect(peerAllowed(key(['10.1.2.3']), '127.0.0.1')).toBe(false);
  });
});

describe('exchange simulator: admin listener', () => {
  let sim: ExchangeSim;
  beforeAll(async () => {
    sim = await startExchangeSim();
  });
  afterAll(() => sim.close());

  const admin = (path: string, init: RequestInit = {}) =>
    fetch(`${sim.urls.admin}${path}`, { ...init, headers: { 'content-type': 'application/json', ...init.headers } });

  it('creates a key that the exchange listener then accepts, and lists it without its secret', async () => {
    const created = await admin('/_sim/keys', { method: 'POST', body: JSON.stringify({ exchange: 'bybit', withdraw: true }) });
    expect(created.status).toBe(201);
    const { apiKey, secret } = (await created.json()) as { apiKey: string; secret: string };

    const result = await ccxtForSim('bybit', sim.urls.bybit, { apiKey, secret }).privateGetV5UserQueryApi();
    expect(result.result.permissions.Wallet).toContain('Withdraw');

    const listing = await (await admin('/_sim/keys')).text();
    expect(listing).toContain(apiKey);
    expect(listing).not.toContain(secret);
  });

  it('expires and revokes keys', async () => {
    const { apiKey, secret } = sim.keys.create({ exchange: 'bybit' });
    const ex = ccxtForSim('bybit', sim.urls.bybit, { apiKey, secret });
    const patched = await admin(`/_sim/keys/${encodeURIComponent(apiKey)}`, { method: 'PATCH', body: JSON.stringify({ expired: true }) });
    expect(patched.status).toBe(200);
    expect((await failureOf(ex.privateGetV5UserQueryApi())).message).toContain('33004');

    const kraken = sim.keys.create({ exchange: 'krakenfutures' });
    expect((await admin(`/_sim/keys/${encodeURIComponent(kraken.apiKey)}`, { method: 'DELETE' })).status).toBe(204);
    const revoked = ccxtForSim('krakenfutures', sim.urls.krakenfutures, kraken);
    expect((await failureOf(revoked.privateGetLeveragepreferences())).constructor).toBe(ccxt.AuthenticationError);
    expect((await admin(`/_sim/keys/${encodeURIComponent(kraken.apiKey)}`, { method: 'DELETE' })).status).toBe(404);
  });

  it('refuses invalid specs with a problem document naming the field', async () => {
    const response = await admin('/_sim/keys', { method: 'POST', body: JSON.stringify({ exchange: 'binanceusdm', withdraw: true }) });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    const problem = (await response.json()) as { code: string; errors: { path: string; message: string }[] };
    expect(problem.code).toBe('invalid_request');
    expect(problem.errors).toEqual([{ path: 'body.ipAllowlist', message: 'Binance enables withdrawals only on IP-restricted keys' }]);

    const unknownField = await admin('/_sim/keys', { method: 'POST', body: JSON.stringify({ exchange: 'bybit', secret: 'mine' }) });
    expect(unknownField.status).toBe(400);
    const notJson = await admin('/_sim/keys', { method: 'POST', body: '{' });
    expect(notJson.status).toBe(400);
  });

  it('serves the exchanges on separate listeners from the admin API', async () => {
    expect(new Set(Object.values(sim.urls)).size).toBe(4);
    expect((await fetch(`${sim.urls.binanceusdm}/_sim/keys`)).status).toBe(404);
    expect(await (await admin('/_sim/health')).json()).toEqual({ status: 'ok', urls: sim.urls });
  });
});

describe('exchange simulator: process', () => {
  const start = () => {
    const child = fork(MAIN, [], { env: { PATH: process.env.PATH ?? '', PLUTARC_LOG_LEVEL: 'silent' }, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    const ready = new Promise<unknown>((resolve, reject) => {
      child.once('message', resolve);
      child.once('exit', (code) => reject(new Error(`exited before ready with ${code}`)));
    });
    return { child, ready };
  };

  it('reports every URL over IPC when ready, serves them, and exits cleanly on SIGTERM', async () => {
    const { child, ready } = start();
    const message = ExchangeSimReady.parse(await ready);
    const { urls } = message;
    expect(message.url).toBe(urls.admin);
    for (const url of Object.values(urls)) expect(new URL(url).hostname).toBe('127.0.0.1');
    const markets = await ccxtForSim('binanceusdm', urls.binanceusdm).loadMarkets();
    expect(markets['BTC/USDT:USDT']).toBeDefined();

    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    expect(await exited).toEqual([0, null]);
  });

  it('exits when its supervisor disconnects', async () => {
    const { child, ready } = start();
    await ready;
    const exited = once(child, 'exit');
    child.disconnect();
    expect(await exited).toEqual([0, null]);
  });

  it('refuses a bad configuration naming the variable', async () => {
    const child = fork(MAIN, [], { env: { PATH: process.env.PATH ?? '', PLUTARC_SIM_BYBIT_PORT: 'seventy' }, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = await once(child, 'exit');
    expect(code).toBe(78);
    expect(stderr).toContain('PLUTARC_SIM_BYBIT_PORT');
    expect(stderr).not.toContain('seventy');
  });
});
