// Kraken Futures (futures.kraken.com): the v3 REST API under /derivatives/api/v3 and the auth
// service's key check under /api/auth/v1. Both sign the same way; they fail in different shapes.
import { isIP } from 'node:net';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { createListener, wireRequest, type WireRequest } from './http.ts';
import { peerAllowed, type KeyOf, type SimKeyStore } from './keys.ts';
import { krakenFuturesTradingRoutes } from './kraken-futures-trading.ts';
import type { Ledger } from './ledger.ts';
import { hmac, sha256, signaturesMatch } from './signing.ts';

type KrakenFuturesKey = KeyOf<'krakenfutures'>;

/** `error` is the v3 API's code (ccxt maps it); `message` is what the auth service says instead. */
export interface KrakenFuturesRefusal {
  error: 'authenticationError' | 'nonceBelowThreshold' | 'nonceDuplicate';
  message: string;
}

const refuse = (error: KrakenFuturesRefusal['error'], message: string): { refusal: KrakenFuturesRefusal } => ({ refusal: { error, message } });
const NOT_AUTHENTICATED = refuse('authenticationError', 'API key is not found or request signature is invalid.');

/** How far below the highest nonce seen a late request may still arrive ("out of order for a brief period"). */
const NONCE_TOLERANCE = 10_000n;

/** Per-key nonces. The Nonce header is optional; when sent it must be fresh. */
export class NonceBook {
  readonly #byKey = new Map<string, { highest: bigint; seen: Set<bigint> }>();

  accept(apiKey: string, nonce: bigint): 'ok' | 'nonceBelowThreshold' | 'nonceDuplicate' {
    const state = this.#byKey.get(apiKey) ?? { highest: nonce, seen: new Set<bigint>() };
    if (state.seen.has(nonce)) return 'nonceDuplicate';
    if (nonce < state.highest - NONCE_TOLERANCE) return 'nonceBelowThreshold';
    state.seen.add(nonce);
    if (nonce > state.highest) {
      state.highest = nonce;
      for (const old of state.seen) if (old < nonce - NONCE_TOLERANCE) state.seen.delete(old);
    }
    this.#byKey.set(apiKey, state);
    return 'ok';
  }
}

/**
 * `Authent` = base64(HMAC-SHA512(base64decode(secret), SHA256(postData + nonce + endpointPath))), where
 * postData is the query string and body as sent and endpointPath is the path without `/derivatives`.
 */
export function authenticateKrakenFutures(
  request: WireRequest,
  keys: SimKeyStore,
  nonces: NonceBook,
): { key: KrakenFuturesKey } | { refusal: KrakenFuturesRefusal } {
  const apiKey = request.header('apikey');
  const authent = request.header('authent');
  const nonce = request.header('nonce') ?? '';
  if (!apiKey || !authent) return NOT_AUTHENTICATED;
  const key = keys.find('krakenfutures', apiKey);
  if (!key) return NOT_AUTHENTICATED;
  if (nonce !== '' && !/^\d{1,30}$/.test(nonce)) return NOT_AUTHENTICATED;

  const endpointPath = request.path.startsWith('/derivatives/') ? request.path.slice('/derivatives'.length) : request.path;
  const message = Buffer.concat([Buffer.from(request.query, 'latin1'), request.body, Buffer.from(nonce + endpointPath, 'latin1')]);
  const expected = hmac('sha512', Buffer.from(keys.secretOf(key), 'base64'), sha256(message)).toString('base64');
  if (!signaturesMatch(authent, expected)) return NOT_AUTHENTICATED;

  if (nonce !== '') {
    const verdict = nonces.accept(apiKey, BigInt(nonce));
    if (verdict !== 'ok') return refuse(verdict, verdict === 'nonceDuplicate' ? 'Nonce has already been used.' : 'Nonce is below the threshold.');
  }
  if (key.expired) return NOT_AUTHENTICATED;
  if (!peerAllowed(key, request.peer)) return refuse('authenticationError', 'Request IP address is not allowed for this API key.');
  return { key };
}

export function krakenFuturesListener(keys: SimKeyStore, ledger: Ledger, logger?: FastifyBaseLogger): FastifyInstance {
  const app = createListener(logger);
  const nonces = new NonceBook();
  const authenticate = (request: Parameters<typeof wireRequest>[0]) => authenticateKrakenFutures(wireRequest(request), keys, nonces);

  const serverTime = () => new Date(ledger.now()).toISOString();
  app.get('/derivatives/api/v3/instruments', async () => ({ result: 'success', instruments: INSTRUMENTS, serverTime: serverTime() }));
  krakenFuturesTradingRoutes(app, { ledger, authenticate });

  app.get('/api/auth/v1/api-keys/v3/check', async (request, reply) => {
    const outcome = authenticate(request);
    if ('refusal' in outcome) return reply.code(401).send({ error: 'UNAUTHORIZED', message: outcome.refusal.message, suberror: null });
    return checkedKey(outcome.key);
  });

  app.setNotFoundHandler(async (_request, reply) => reply.code(404).send({ result: 'error', serverTime: serverTime(), error: 'notFound' }));
  return app;
}

/** GET /api/auth/v1/api-keys/v3/check: the key's own description; it never includes the secret. */
function checkedKey(key: KrakenFuturesKey) {
  const blocks = key.ipAllowlist.map((entry) => (entry.includes('/') ? entry : `${entry}/${isIP(entry) === 6 ? 128 : 32}`));
  return {
    apiKey: key.apiKey,
    accountUid: key.accountUid,
    iiban: key.iiban,
    createdAt: new Date(key.createdAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    permissions: { general: key.permissions.general, transfer: key.permissions.transfer },
    allowedCidrBlock: blocks[0] ?? null,
    allowedCidrBlocks: blocks,
  };
}

const marginLevels = (unit: 'contracts' | 'numNonContractUnits', step: number) => [
  { [unit]: 0, initialMargin: 0.02, maintenanceMargin: 0.01 },
  { [unit]: step, initialMargin: 0.04, maintenanceMargin: 0.02 },
  { [unit]: step * 5, initialMargin: 0.1, maintenanceMargin: 0.05 },
];

function inversePerpetual(symbol: string, base: string, tickSize: number, isin: string, maxPositionSize: number) {
  return {
    symbol,
    type: 'futures_inverse',
    underlying: `rr_${base === 'BTC' ? 'xbt' : base.toLowerCase()}usd`,
    tickSize,
    contractSize: 1,
    tradeable: true,
    impactMidSize: 1000.0,
    maxPositionSize,
    openingDate: '2018-08-31T00:00:00Z',
    marginLevels: marginLevels('contracts', 500_000),
    fundingRateCoefficient: 24,
    maxRelativeFundingRate: 0.0025,
    isin,
    contractValueTradePrecision: 0,
    postOnly: false,
    mtf: true,
    base,
    quote: 'USD',
    pair: `${base}:USD`,
    tags: [],
  };
}

function flexiblePerpetual(symbol: string, base: string, tickSize: number, precision: number, isin: string, maxPositionSize: number) {
  return {
    symbol,
    type: 'flexible_futures',
    tickSize,
    contractSize: 1,
    tradeable: true,
    impactMidSize: 1.5,
    maxPositionSize,
    openingDate: '2022-03-22T13:18:45Z',
    marginLevels: marginLevels('numNonContractUnits', 2_000_000),
    fundingRateCoefficient: 24,
    maxRelativeFundingRate: 0.0025,
    isin,
    contractValueTradePrecision: precision,
    postOnly: false,
    mtf: true,
    base,
    quote: 'USD',
    pair: `${base}:USD`,
    tags: [],
  };
}

/** Multi-collateral linear perpetuals (PF_) settled in USD, and the coin-margined inverse ones (PI_). */
const INSTRUMENTS = [
  flexiblePerpetual('PF_XBTUSD', 'BTC', 1, 4, 'GB00BQ84JZ74', 1000),
  flexiblePerpetual('PF_ETHUSD', 'ETH', 0.1, 3, 'GB00BQ84K502', 16000),
  inversePerpetual('PI_XBTUSD', 'BTC', 0.5, 'GB00J62YGL67', 75_000_000),
  inversePerpetual('PI_ETHUSD', 'ETH', 0.05, 'GB00J62YGM74', 50_000_000),
];
