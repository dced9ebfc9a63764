// Bybit v5 (api.bybit.com). Every answer, success or failure, is `{retCode, retMsg, result,
// retExtInfo, time}` with HTTP 200: ccxt treats a body without retCode as an error.
import type { FastifyBaseLogger, FastifyInstance, FastifyReply } from 'fastify';
import { createListener, wireRequest, type WireRequest } from './http.ts';
import { peerAllowed, type KeyOf, type SimKeyStore } from './keys.ts';
import { bybitTradingRoutes, envelope } from './bybit-trading.ts';
import type { Ledger } from './ledger.ts';
import { hmac, signaturesMatch } from './signing.ts';

type BybitKey = KeyOf<'bybit'>;

export interface BybitRefusal {
  retCode: number;
  retMsg: string;
}

const DEFAULT_RECV_WINDOW_MS = 5_000;
const MAX_AHEAD_MS = 1_000;
const NINETY_DAYS_MS = 90 * 24 * 60 * 60 * 1000;

const refuse = (retCode: number, retMsg: string): { refusal: BybitRefusal } => ({ refusal: { retCode, retMsg } });

/**
 * The check every private v5 endpoint runs. `X-BAPI-SIGN` is hex HMAC-SHA256 over
 * timestamp + apiKey + recvWindow + (the raw query string for GET, the raw body otherwise).
 */
export function authenticateBybit(request: WireRequest, keys: SimKeyStore, now: number | readonly number[] = Date.now()): { key: BybitKey } | { refusal: BybitRefusal } {
  const apiKey = request.header('x-bapi-api-key');
  const timestampText = request.header('x-bapi-timestamp');
  const sign = request.header('x-bapi-sign');
  const recvWindowText = request.header('x-bapi-recv-window') ?? String(DEFAULT_RECV_WINDOW_MS);
  if (!apiKey || !timestampText || !sign) {
    return refuse(10001, `empty value: apiTimestamp[${timestampText ?? ''}] apiKey[${apiKey ?? ''}] apiSignature[${sign ?? ''}]: openapi sign params error!`);
  }
  const key = keys.find('bybit', apiKey);
  if (!key) return refuse(10003, 'API key is invalid.');

  if (!/^\d{1,16}$/.test(timestampText) || !/^\d{1,9}$/.test(recvWindowText)) {
    return refuse(10001, 'params error: X-BAPI-TIMESTAMP and X-BAPI-RECV-WINDOW must be integers');
  }
  const timestamp = Number(timestampText);
  const recvWindow = Number(recvWindowText);
  // Bybit's rule: server_time - recv_window <= timestamp < server_time + 1000, against the wall clock or the simulator clock.
  const clocks = typeof now === 'number' ? [now] : now;
  if (!clocks.some((t) => timestamp >= t - recvWindow && timestamp < t + MAX_AHEAD_MS)) {
    return refuse(
      10002,
      `invalid request, please check your server timestamp or recv_window param. req_timestamp[${timestamp}],server_timestamp[${clocks[0]}],recv_window[${recvWindow}]`,
    );
  }

  const signed = request.method === 'GET' ? Buffer.from(request.query, 'latin1') : request.body;
  const payload = Buffer.concat([Buffer.from(timestampText + apiKey + recvWindowText, 'latin1'), signed]);
  const expected = hmac('sha256', keys.secretOf(key), payload).toString('hex');
  if (!signaturesMatch(sign.toLowerCase(), expected)) return refuse(10004, `error sign! origin_string[${payload.toString('latin1')}]`);

  // Only a correctly signed request learns the key's state.
  if (key.expired) return refuse(33004, 'Your api key has expired.');
  if (!peerAllowed(key, request.peer)) return refuse(10010, "Unmatched IP, please check your API key's bound IP addresses.");
  return { key };
}

export function bybitListener(keys: SimKeyStore, ledger: Ledger, logger?: FastifyBaseLogger): FastifyInstance {
  const app = createListener(logger);
  const authenticate = (request: WireRequest) => authenticateBybit(request, keys, [Date.now(), ledger.now()]);
  const privateGet = (path: string, answer: (key: BybitKey) => unknown) =>
    app.get(path, async (request, reply) => {
      const outcome = authenticate(wireRequest(request));
      if ('refusal' in outcome) return sendRefusal(reply, outcome.refusal, ledger.now());
      return envelope(answer(outcome.key), 0, 'OK', ledger.now());
    });

  app.get('/v5/market/time', async () => {
    const now = ledger.now();
    return envelope({ timeSecond: String(Math.floor(now / 1000)), timeNano: `${now}000000` }, 0, 'OK', now);
  });
  app.get('/v5/market/instruments-info', async (request, reply) => {
    const answer = instrumentsInfo(new URLSearchParams(wireRequest(request).query));
    return 'refusal' in answer ? sendRefusal(reply, answer.refusal, ledger.now()) : envelope(answer.result, 0, 'OK', ledger.now());
  });
  privateGet('/v5/user/query-api', queryApi);
  // Called by ccxt's loadMarkets (fetchCurrencies) whenever keys are set.
  privateGet('/v5/asset/coin/query-info', () => ({ rows: COINS }));
  bybitTradingRoutes(app, { ledger, authenticate });

  app.setNotFoundHandler(async (_request, reply) => reply.code(404).send(envelope({}, 10017, 'route not found', ledger.now())));
  return app;
}

function sendRefusal(reply: FastifyReply, refusal: BybitRefusal, now: number): FastifyReply {
  return reply.code(200).send(envelope({}, refusal.retCode, refusal.retMsg, now));
}

/** GET /v5/user/query-api: the key as Bybit describes it. `secret` is always "" there too. */
function queryApi(key: BybitKey) {
  const bound = key.ipAllowlist.length > 0;
  // Keys not bound to an IP expire 90 days after creation; bound keys do not expire.
  const expiresAt = bound ? null : key.createdAt + NINETY_DAYS_MS;
  return {
    id: String(key.userId % 10_000_000),
    note: key.label,
    apiKey: key.apiKey,
    readOnly: key.permissions.readOnly,
    secret: '',
    permissions: key.permissions.permissions,
    ips: bound ? key.ipAllowlist : ['*'],
    type: 1,
    deadlineDay: expiresAt === null ? -2 : Math.max(0, Math.ceil((expiresAt - Date.now()) / 86_400_000)),
    expiredAt: new Date(expiresAt ?? 0).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    createdAt: new Date(key.createdAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    unified: 0,
    uta: 1,
    userID: key.userId,
    inviterID: 0,
    vipLevel: 'No VIP',
    mktMakerLevel: '0',
    affiliateID: 0,
    rsaPublicKey: '',
    isMaster: key.permissions.isMaster,
    parentUid: '0',
    kycLevel: 'LEVEL_1',
    kycRegion: '',
  };
}

type Category = 'spot' | 'linear' | 'inverse' | 'option';
type Instrument = Record<string, unknown> & { symbol: string; baseCoin: string; status: string };

const leverageFilter = (max: string) => ({ minLeverage: '1', maxLeverage: max, leverageStep: '0.01' });

function linear(symbol: string, base: string, tick: string, maxQty: string, mktQty: string, minNotional: string): Instrument {
  return {
    symbol,
    contractType: 'LinearPerpetual',
    status: 'Trading',
    baseCoin: base,
    quoteCoin: 'USDT',
    launchTime: '1584230400000',
    deliveryTime: '0',
    deliveryFeeRate: '',
    priceScale: String(tick.split('.')[1]?.length ?? 0),
    leverageFilter: leverageFilter('100.00'),
    priceFilter: { minPrice: tick, maxPrice: '1999999.80', tickSize: tick },
    lotSizeFilter: { maxOrderQty: maxQty, minOrderQty: '0.001', qtyStep: '0.001', postOnlyMaxOrderQty: maxQty, maxMktOrderQty: mktQty, minNotionalValue: minNotional },
    unifiedMarginTrade: true,
    fundingInterval: 480,
    settleCoin: 'USDT',
    copyTrading: 'both',
    upperFundingRate: '0.005',
    lowerFundingRate: '-0.005',
    isPreListing: false,
    preListingInfo: null,
    riskParameters: { priceLimitRatioX: '0.01', priceLimitRatioY: '0.02' },
    displayName: '',
  };
}

function inverse(symbol: string, base: string, tick: string): Instrument {
  return {
    symbol,
    contractType: 'InversePerpetual',
    status: 'Trading',
    baseCoin: base,
    quoteCoin: 'USD',
    launchTime: '1542211200000',
    deliveryTime: '0',
    deliveryFeeRate: '',
    priceScale: String(tick.split('.')[1]?.length ?? 0),
    leverageFilter: leverageFilter('100.00'),
    priceFilter: { minPrice: tick, maxPrice: '1999999.00', tickSize: tick },
    lotSizeFilter: { maxOrderQty: '1000000', minOrderQty: '1', qtyStep: '1', postOnlyMaxOrderQty: '5000000', maxMktOrderQty: '300000', minNotionalValue: '' },
    unifiedMarginTrade: true,
    fundingInterval: 480,
    settleCoin: base,
    copyTrading: 'none',
    upperFundingRate: '0.00375',
    lowerFundingRate: '-0.00375',
    isPreListing: false,
    preListingInfo: null,
    riskParameters: { priceLimitRatioX: '0.05', priceLimitRatioY: '0.1' },
    displayName: '',
  };
}

function spot(symbol: string, base: string, tick: string, minQty: string, maxQty: string): Instrument {
  return {
    symbol,
    baseCoin: base,
    quoteCoin: 'USDT',
    innovation: '0',
    status: 'Trading',
    marginTrading: 'utaOnly',
    stTag: '0',
    lotSizeFilter: { basePrecision: '0.000001', quotePrecision: '0.00000001', minOrderQty: minQty, maxOrderQty: maxQty, minOrderAmt: '1', maxOrderAmt: '2000000' },
    priceFilter: { tickSize: tick },
    riskParameters: { priceLimitRatioX: '0.005', priceLimitRatioY: '0.01' },
  };
}

const INSTRUMENTS: Record<Category, Instrument[]> = {
  linear: [linear('BTCUSDT', 'BTC', '0.10', '1190.000', '119.000', '5'), linear('ETHUSDT', 'ETH', '0.01', '7240.00', '724.00', '5')],
  inverse: [inverse('BTCUSD', 'BTC', '0.50'), inverse('ETHUSD', 'ETH', '0.05')],
  spot: [spot('BTCUSDT', 'BTC', '0.01', '0.000048', '71.73956243'), spot('ETHUSDT', 'ETH', '0.01', '0.00062', '1229.2336343')],
  // The simulator lists no options; ccxt asks for them by default and gets an empty, well-formed page.
  option: [],
};

const DEFAULT_PAGE = 500;
const MAX_PAGE = 1000;

/** GET /v5/market/instruments-info with Bybit's filters and cursor paging (`nextPageCursor: ""` on the last page). */
function instrumentsInfo(params: URLSearchParams): { result: unknown } | { refusal: BybitRefusal } {
  const category = params.get('category');
  if (!category) return refuse(10001, 'params error: category is required');
  if (!(category in INSTRUMENTS)) return refuse(10001, 'Illegal category');
  const list = INSTRUMENTS[category as Category];

  const symbol = params.get('symbol');
  const baseCoin = params.get('baseCoin');
  // Without a status filter Bybit lists what trades; PreLaunch (pre-market) contracts only on request.
  const status = params.get('status') ?? 'Trading';
  const matching = list.filter((i) => i.status === status && (!symbol || i.symbol === symbol) && (!baseCoin || i.baseCoin === baseCoin));
  if (category === 'spot') return { result: { category, list: matching } };

  const limitText = params.get('limit');
  const limit = limitText === null ? DEFAULT_PAGE : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) return refuse(10001, 'params error: limit must be between 1 and 1000');
  const cursor = params.get('cursor');
  const offset = cursor ? decodeCursor(cursor) : 0;
  if (offset === null) return refuse(10001, 'params error: invalid cursor');
  const page = matching.slice(offset, offset + limit);
  const nextPageCursor = offset + limit < matching.length ? encodeCursor(offset + limit) : '';
  return { result: { category, list: page.map((i) => ({ ...i })), nextPageCursor } };
}

const encodeCursor = (offset: number) => Buffer.from(`offset=${offset}`).toString('base64url');

function decodeCursor(cursor: string): number | null {
  const match = /^offset=(\d{1,6})$/.exec(Buffer.from(cursor, 'base64url').toString('latin1'));
  return match ? Number(match[1]) : null;
}

const chain = (name: string, fee: string, min: string, confirmation: string) => ({
  chainType: name,
  confirmation,
  withdrawFee: fee,
  depositMin: '0',
  withdrawMin: min,
  chain: name,
  chainDeposit: '1',
  chainWithdraw: '1',
  minAccuracy: '8',
  withdrawPercentageFee: '0',
  contractAddress: '',
  safeConfirmNumber: confirmation,
});

/** GET /v5/asset/coin/query-info rows for the coins our markets use. */
const COINS = [
  { name: 'BTC', coin: 'BTC', remainAmount: '150', chains: [chain('BTC', '0.0001', '0.0002', '1')] },
  { name: 'ETH', coin: 'ETH', remainAmount: '1000', chains: [chain('ETH', '0.0012', '0.0024', '6')] },
  { name: 'USDT', coin: 'USDT', remainAmount: '5000000', chains: [chain('ETH', '1.5', '3', '6')] },
];
