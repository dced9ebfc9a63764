// Real ccxt clients pointed at the exchange simulator. Only the scheme and host of each `urls.api`
// entry change; paths, signing and response parsing stay ccxt's own.
import ccxt, { type Exchange } from 'ccxt';
import { afterAll, beforeAll } from 'vitest';
import type { KeySpecInput, SimExchangeId } from '../../src-exchange-sim/keys.ts';
import { startExchangeSim, type ExchangeSim } from '../../src-exchange-sim/server.ts';

export interface SimClientOptions {
  apiKey?: string;
  secret?: string;
  /** Extra ccxt constructor config (options, has, …), merged over the defaults below. */
  config?: Record<string, unknown>;
  /**
   * The client's idea of now. A client synchronised with a simulator whose clock was moved must use
   * the simulator's time where ccxt builds time windows (Kraken Futures charts, `since` defaults).
   */
  now?: () => number;
}

const CLASSES = { binanceusdm: ccxt.binanceusdm, bybit: ccxt.bybit, krakenfutures: ccxt.krakenfutures };

/** ccxt's path for the Kraken Futures key check, once registered by `ccxtForSim`. */
export const KRAKEN_FUTURES_KEY_CHECK = ['api-keys/v3/check', 'auth', 'GET', { version: 'v1' }] as const;

/**
 * A ccxt instance for `exchange` whose every API URL points at `baseUrl` (the simulator's listener
 * for that exchange). Kraken Futures also gets its auth service's key-check endpoint registered.
 */
export function ccxtForSim(exchange: SimExchangeId, baseUrl: string, options: SimClientOptions = {}): Exchange {
  const credentials = options.apiKey === undefined ? {} : { apiKey: options.apiKey, secret: options.secret };
  const ex: Exchange = new CLASSES[exchange]({ enableRateLimit: false, ...credentials, ...options.config });
  if (options.now) {
    const now = options.now;
    ex.milliseconds = now;
    ex.seconds = () => Math.floor(now() / 1000);
  }
  const origin = baseUrl.replace(/\/$/, '');
  ex.urls.api = rewriteHosts(ex.urls.api, origin) as typeof ex.urls.api;

  if (exchange === 'krakenfutures') {
    ex.urls.api.auth = `${origin}/api/auth/`;
    ex.options.access = { ...ex.options.access, auth: { GET: { 'api-keys/v3/check': 'private' } } };
  }
  if (exchange === 'binanceusdm') {
    // ccxt picks Binance's per-market error tables by production host name; classify our URLs by the
    // host they stand in for, so an error maps to the exception it raises against the real exchange.
    const byProductionUrl = ex.getExceptionsByUrl.bind(ex);
    ex.getExceptionsByUrl = (url: string | undefined, exactOrBroad: string) => byProductionUrl(url?.startsWith(origin) ? productionBinanceUrl(url.slice(origin.length)) : url, exactOrBroad);
  }
  return ex;
}

type UrlTree = string | { [key: string]: UrlTree };

function rewriteHosts(value: UrlTree, origin: string): UrlTree {
  if (typeof value === 'string') return value.replace(/^https?:\/\/[^/]+/, origin);
  return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, rewriteHosts(inner, origin)]));
}

function productionBinanceUrl(path: string): string {
  const host = /^\/(fapi|dapi|eapi|papi)\//.exec(path)?.[1] ?? 'api';
  return `https://${host}.binance.com${path}`;
}

/** Every response body the client receives from now on, in order (to check what the simulator discloses). */
export function recordResponses(ex: Exchange, into: string[]): void {
  const onRestResponse = ex.onRestResponse.bind(ex);
  ex.onRestResponse = (status, statusText, url, method, headers, body, ...rest) => {
    into.push(String(body));
    return onRestResponse(status, statusText, url, method, headers, body, ...rest);
  };
}

export interface SignedRequest {
  url: string;
  method: string;
  body: string | undefined;
  headers: Record<string, string> | undefined;
}

/** Lets a test change a request after ccxt has signed it, as a network attacker would. */
export function alterAfterSigning(ex: Exchange, alter: (request: SignedRequest) => SignedRequest): void {
  const sign = ex.sign.bind(ex);
  ex.sign = (...args: Parameters<Exchange['sign']>) => alter(sign(...args) as SignedRequest);
}

/** The error a call fails with; fails the test if the call succeeds. */
export async function failureOf(call: Promise<unknown>): Promise<Error> {
  try {
    await call;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/**
 * One simulator for a test file, with what every exchange's tests use: `newKey` (its secret remembered, so
 * a test can prove none comes back) and `client` (a ccxt instance whose raw responses are recorded).
 */
export function simulatorFor(exchange: SimExchangeId) {
  let running: ExchangeSim | undefined;
  const bodies: string[] = [];
  const secrets: string[] = [];
  beforeAll(async () => {
    running = await startExchangeSim();
  });
  afterAll(() => running?.close());
  const sim = (): ExchangeSim => {
    if (!running) throw new Error('the simulator starts in beforeAll');
    return running;
  };
  return {
    sim,
    bodies,
    secrets,
    newKey(spec: Omit<KeySpecInput, 'exchange'> = {}) {
      const issued = sim().keys.create({ exchange, ...spec } as KeySpecInput);
      secrets.push(issued.secret);
      return issued;
    },
    client(credentials: { apiKey?: string; secret?: string } = {}): Exchange {
      const ex = ccxtForSim(exchange, sim().urls[exchange], credentials);
      recordResponses(ex, bodies);
      return ex;
    },
  };
}
