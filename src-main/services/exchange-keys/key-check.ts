// The pre-check: ask the exchange, with ccxt and the key itself, what the key may do, before anything is
// stored. ccxt's errors never leave this file: each outcome becomes a ServiceError with our own words,
// since an exchange's error text can echo request details.
import type ccxtModule from 'ccxt';
import type { Exchange } from 'ccxt';
import type { KeyCheckReport, SealedCredentials } from '../../../src-shared/exchange-keys.ts';
import { openKeyExchange, type ExchangeId } from '../../../src-shared/exchanges.ts';
import { ServiceError } from '../errors.ts';
import {
  BINANCE_DEMO_KEY_REPORT,
  BinanceRestrictions,
  BybitKeyInfo,
  judgeBinance,
  judgeBybit,
  judgeKrakenFutures,
  KeyPermissionRefusal,
  KrakenFuturesKeyInfo,
  verifyFromBotRegion,
} from '../../../src-shared/key-permissions.ts';

type Ccxt = typeof ccxtModule;

export interface KeyCheckRequest {
  exchange: ExchangeId;
  testnet: boolean;
  credentials: SealedCredentials;
  /** The user says the key is restricted to the bot's IP address (see AddExchangeKeyInput). */
  verifyFromBotRegion: boolean;
}

export interface KeyCheckOptions {
  /** Local mode: `http://127.0.0.1:<port>` of the exchange simulator per exchange, live and testnet alike. */
  exchangeUrls?: Partial<Record<ExchangeId, string>>;
  timeoutMs?: number;
}

const KRAKEN_FUTURES_KEY_CHECK = 'api-keys/v3/check';

let loaded: Promise<Ccxt> | undefined;
/** ccxt is large: loaded the first time a key is checked, not when the app starts. */
const loadCcxt = (): Promise<Ccxt> => (loaded ??= import('ccxt').then((module) => module.default));

function rewriteHosts(value: unknown, origin: string): unknown {
  if (typeof value === 'string') return value.replace(/^https?:\/\/[^/]+/, origin);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rewriteHosts(v, origin)]));
  return value;
}

function clientFor(ccxt: Ccxt, request: KeyCheckRequest, options: KeyCheckOptions): Exchange {
  const Class = { binanceusdm: ccxt.binanceusdm, bybit: ccxt.bybit, krakenfutures: ccxt.krakenfutures }[request.exchange];
  const { apiKey, secret, passphrase } = request.credentials;
  const client: Exchange = new Class({
    apiKey,
    secret,
    ...(passphrase ? { password: passphrase } : {}),
    enableRateLimit: false,
    timeout: options.timeoutMs ?? 10_000,
  });
  const override = options.exchangeUrls?.[request.exchange];
  if (override) {
    client.urls.api = rewriteHosts(client.urls.api, override.replace(/\/$/, '')) as typeof client.urls.api;
  } else if (request.testnet && request.exchange !== 'binanceusdm') {
    client.setSandboxMode(true);
  }
  if (request.exchange === 'krakenfutures') {
    // ccxt has no method for the auth service's key check; register it so ccxt signs it as usual.
    const origin = /^https?:\/\/[^/]+/.exec(String(client.urls.api.private))?.[0] ?? 'https://futures.kraken.com';
    client.urls.api.auth = `${origin}/api/auth/`;
    client.options.access = { ...client.options.access, auth: { GET: { [KRAKEN_FUTURES_KEY_CHECK]: 'private' } } };
  }
  return client;
}

/** The JSON an exchange answered with, from a ccxt error message (`<id> <body>`); null when there is none. */
function errorBody(error: Error): Record<string, unknown> | null {
  const start = error.message.indexOf('{');
  if (start < 0) return null;
  try {
    return JSON.parse(error.message.slice(start)) as Record<string, unknown>;
  } catch {
    return null;
  }
}

const fromBotRegion = (name: string) =>
  verifyFromBotRegion(
    `${name} only answers this key from the IP addresses it is restricted to, and this computer is not one of them, so plutarc could not check whether the key can withdraw. plutarc will verify the key from your bot’s region before the bot trades, and the bot refuses to trade if withdrawals are on.`,
  );

const invalidKey = (name: string, where: string) =>
  new ServiceError('key_invalid', `${name} does not know this API key. Copy the whole key again from ${where}; if you deleted the key there, make a new one.`);
const badSignature = (name: string) =>
  new ServiceError('key_bad_signature', `${name} says the signature is wrong: the API secret does not belong to this API key. Paste the secret that was shown when you made the key.`);
const clockSkew = (name: string) =>
  new ServiceError('clock_skew', `${name} refused the request because this computer’s clock is off. Set the clock to update automatically, then try again.`);

/** What a failed key check means, in words the user can act on. */
function classify(request: KeyCheckRequest, ccxt: Ccxt, error: unknown, local: boolean): KeyCheckReport {
  const { name } = openKeyExchange(request.exchange);
  if (error instanceof ccxt.InvalidNonce) throw clockSkew(name);
  if (error instanceof ccxt.NetworkError) {
    throw new ServiceError(
      'exchange_unreachable',
      local
        ? `Cannot reach the exchange simulator for ${name}. Check that \`npm start\` is still running, then try again.`
        : `Cannot reach ${name} to check the key. Check your internet connection, then try again; nothing was saved.`,
    );
  }
  const body = error instanceof Error ? errorBody(error) : null;
  switch (request.exchange) {
    case 'binanceusdm': {
      const code = body?.code;
      if (code === -2014 || code === -2008) throw invalidKey(name, 'API Management');
      if (code === -1022) throw badSignature(name);
      if (code === -1021) throw clockSkew(name);
      if (code === -2015) {
        // Binance answers the same for an unknown key and for a key used from an address it is not restricted to.
        if (request.verifyFromBotRegion) {
          return verifyFromBotRegion(
            'Binance did not answer this key from this computer, so plutarc could not check whether it can withdraw. You said it is restricted to your bot’s IP address: the bot checks the key from its region before it trades, and refuses to trade if withdrawals are on.',
          );
        }
        throw new ServiceError(
          'key_or_ip_refused',
          'Binance refused this key from this computer: either the API key is not right, or the key is restricted to IP addresses this computer does not have. Check the key; if you restricted it to your bot’s IP address, tick “Restricted to my bot’s IP address” and add it again.',
        );
      }
      break;
    }
    case 'bybit': {
      const code = body?.retCode;
      if (code === 10003 || code === 10007) throw invalidKey(name, 'API Management');
      if (code === 10004) throw badSignature(name);
      if (code === 10002) throw clockSkew(name);
      if (code === 33004) {
        throw new ServiceError(
          'key_expired',
          'This Bybit key has expired. Bybit lets keys without an IP restriction expire after 90 days: make a new key, ideally restricted to your bot’s IP address, and add that one.',
        );
      }
      if (code === 10010) return fromBotRegion(name);
      break;
    }
    case 'krakenfutures': {
      const message = typeof body?.message === 'string' ? body.message : '';
      if (/IP address is not allowed/i.test(message)) return fromBotRegion(name);
      if (body?.error === 'UNAUTHORIZED' || body?.error === 'authenticationError') {
        // Kraken Futures gives one answer for an unknown, expired or deleted key and for a wrong secret.
        throw new ServiceError(
          'key_rejected',
          'Kraken Futures did not accept this key: the API key is unknown, expired or deleted, or the secret does not belong to it. Copy both again from Settings → API keys, or make a new key.',
        );
      }
      break;
    }
  }
  throw new ServiceError('exchange_error', `${name} answered the key check with an error plutarc does not recognise. Nothing was saved; try again later.`);
}

const badAnswer = (exchange: ExchangeId) =>
  new ServiceError('exchange_bad_response', `${openKeyExchange(exchange).name} answered the key check with something unexpected. Nothing was saved; try again later.`);

/** Asks the exchange about the key. Resolves with what to store; throws a ServiceError for every refusal. */
export async function verifyKeyPermissions(request: KeyCheckRequest, options: KeyCheckOptions = {}): Promise<KeyCheckReport> {
  const { exchange, credentials } = request;
  if (exchange === 'krakenfutures' && !/^[A-Za-z0-9+/]+={0,2}$/.test(credentials.secret)) {
    throw new ServiceError('key_bad_signature', 'This is not a Kraken Futures API secret: it is base64 text of about 88 characters. Paste it again.');
  }
  if (exchange === 'binanceusdm' && request.testnet && !options.exchangeUrls?.binanceusdm) {
    // Binance demo trading has no key-permission endpoint (ccxt: sapi is not offered in demo mode); the bot says the same.
    return BINANCE_DEMO_KEY_REPORT;
  }
  const ccxt = await loadCcxt();
  const client = clientFor(ccxt, request, options);
  const local = options.exchangeUrls?.[exchange] !== undefined;
  let answer: unknown;
  try {
    if (exchange === 'binanceusdm') answer = await client.sapiGetAccountApiRestrictions();
    else if (exchange === 'bybit') answer = ((await client.privateGetV5UserQueryApi()) as { result?: unknown }).result;
    else answer = await client.request(KRAKEN_FUTURES_KEY_CHECK, 'auth', 'GET', { version: 'v1' });
  } catch (error) {
    return classify(request, ccxt, error, local);
  }
  try {
    return judge(exchange, answer);
  } catch (error) {
    if (error instanceof KeyPermissionRefusal) throw new ServiceError(error.code, error.message);
    throw error;
  }
}

function judge(exchange: ExchangeId, answer: unknown): KeyCheckReport {
  if (exchange === 'binanceusdm') {
    const parsed = BinanceRestrictions.safeParse(answer);
    if (!parsed.success) throw badAnswer(exchange);
    return judgeBinance(parsed.data);
  }
  if (exchange === 'bybit') {
    const parsed = BybitKeyInfo.safeParse(answer);
    if (!parsed.success) throw badAnswer(exchange);
    return judgeBybit(parsed.data);
  }
  const parsed = KrakenFuturesKeyInfo.safeParse(answer);
  if (!parsed.success) throw badAnswer(exchange);
  return judgeKrakenFutures(parsed.data);
}
