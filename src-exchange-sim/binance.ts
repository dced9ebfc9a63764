// Binance USD-M futures (fapi.binance.com) and the wallet endpoints it shares with api.binance.com
// (sapi), on one listener: paths do not collide, and ccxt's URL rewrite points both hosts here.
import type { FastifyBaseLogger, FastifyInstance, FastifyReply } from 'fastify';
import { createListener, wireRequest, type WireRequest } from './http.ts';
import { peerAllowed, type KeyOf, type SimKeyStore } from './keys.ts';
import { binanceTradingRoutes } from './binance-trading.ts';
import type { Ledger } from './ledger.ts';
import { hmac, signaturesMatch } from './signing.ts';

type BinanceKey = KeyOf<'binanceusdm'>;

/** Binance's error body: `{"code":-1022,"msg":"…"}` with the HTTP status Binance sends it with. */
export interface BinanceRefusal {
  status: number;
  code: number;
  msg: string;
}

const DEFAULT_RECV_WINDOW_MS = 5_000;
const MAX_RECV_WINDOW_MS = 60_000;
const MAX_AHEAD_MS = 1_000;

const refuse = (status: number, code: number, msg: string): { refusal: BinanceRefusal } => ({ refusal: { status, code, msg } });
const INVALID_KEY = refuse(401, -2015, 'Invalid API-key, IP, or permissions for action.');
const missing = (name: string) => refuse(400, -1102, `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.`);

/**
 * The check every SIGNED (TRADE / USER_DATA) endpoint runs. `signature` is HMAC-SHA256 over
 * totalParams: the query string and then the body, exactly as sent, without the signature parameter.
 */
export function authenticateBinance(request: WireRequest, keys: SimKeyStore, now: number | readonly number[] = Date.now()): { key: BinanceKey } | { refusal: BinanceRefusal } {
  const apiKey = request.header('x-mbx-apikey');
  if (!apiKey || !/^[A-Za-z0-9]{64}$/.test(apiKey)) return refuse(401, -2014, 'API-key format invalid.');
  const key = keys.find('binanceusdm', apiKey);
  // Binance keeps no "expired" state of its own: a key that no longer works is simply invalid.
  if (!key || key.expired) return INVALID_KEY;
  if (!peerAllowed(key, request.peer)) return INVALID_KEY;

  const query = withoutSignature(request.query);
  const body = withoutSignature(request.body.toString('latin1'));
  const signature = query.signature ?? body.signature;
  const params = new URLSearchParams(`${query.rest}&${body.rest}`);

  const timestampText = params.get('timestamp');
  if (!timestampText || !/^\d{1,16}$/.test(timestampText)) return missing('timestamp');
  const recvWindowText = params.get('recvWindow');
  if (recvWindowText !== null && !/^\d{1,16}$/.test(recvWindowText)) return refuse(400, -1100, "Illegal characters found in parameter 'recvWindow'; legal range is '^[0-9]{1,20}$'.");
  const recvWindow = recvWindowText === null ? DEFAULT_RECV_WINDOW_MS : Number(recvWindowText);
  if (recvWindow > MAX_RECV_WINDOW_MS) return refuse(400, -1131, 'recvWindow must be less than 60000');
  const timestamp = Number(timestampText);
  // Fresh against the wall clock or the simulator clock: a client may have synchronised with either.
  const clocks = typeof now === 'number' ? [now] : now;
  if (clocks.every((t) => timestamp > t + MAX_AHEAD_MS)) return refuse(400, -1021, "Timestamp for this request was 1000ms ahead of the server's time.");
  if (!clocks.some((t) => timestamp <= t + MAX_AHEAD_MS && t - timestamp <= recvWindow)) return refuse(400, -1021, 'Timestamp for this request is outside of the recvWindow.');

  if (!signature) return missing('signature');
  const totalParams = Buffer.from(query.rest + body.rest, 'latin1');
  const expected = hmac('sha256', keys.secretOf(key), totalParams).toString('hex');
  if (!signaturesMatch(signature.toLowerCase(), expected)) return refuse(400, -1022, 'Signature for this request is not valid.');
  return { key };
}

/** Splits `signature=…` out of a raw parameter string, leaving every other byte as it was. */
function withoutSignature(raw: string): { rest: string; signature: string | undefined } {
  if (!raw) return { rest: '', signature: undefined };
  const parts = raw.split('&');
  const index = parts.findIndex((part) => part.startsWith('signature='));
  if (index < 0) return { rest: raw, signature: undefined };
  const signature = parts[index]!.slice('signature='.length);
  parts.splice(index, 1);
  return { rest: parts.join('&'), signature };
}

export function binanceListener(keys: SimKeyStore, ledger: Ledger, logger?: FastifyBaseLogger): FastifyInstance {
  const app = createListener(logger);
  const authenticate = (request: WireRequest) => authenticateBinance(request, keys, [Date.now(), ledger.now()]);
  const signed = (path: string, answer: (key: BinanceKey) => unknown) =>
    app.get(path, async (request, reply) => {
      const outcome = authenticate(wireRequest(request));
      if ('refusal' in outcome) return sendRefusal(reply, outcome.refusal);
      return answer(outcome.key);
    });

  app.get('/fapi/v1/ping', async () => ({}));
  app.get('/fapi/v1/time', async () => ({ serverTime: ledger.now() }));
  app.get('/fapi/v1/exchangeInfo', async () => exchangeInfo(ledger.now()));
  signed('/sapi/v1/account/apiRestrictions', apiRestrictions);
  // Called by ccxt's loadMarkets (fetchCurrencies) whenever keys are set.
  signed('/sapi/v1/capital/config/getall', () => COINS);
  signed('/sapi/v1/margin/allPairs', () => MARGIN_PAIRS);
  binanceTradingRoutes(app, { ledger, authenticate });

  // Binance answers an unknown path with a bare 404, not a JSON error.
  app.setNotFoundHandler(async (_request, reply) => reply.code(404).type('text/html').send(''));
  return app;
}

function sendRefusal(reply: FastifyReply, refusal: BinanceRefusal): FastifyReply {
  return reply.code(refusal.status).send({ code: refusal.code, msg: refusal.msg });
}

const THIRTY_DAYS_MS = 30 * 24 * 60 * 60 * 1000;

/** GET /sapi/v1/account/apiRestrictions, field for field as Binance sends it. */
function apiRestrictions(key: BinanceKey) {
  const p = key.permissions;
  const ipRestrict = key.ipAllowlist.length > 0;
  return {
    ipRestrict,
    createTime: key.createdAt,
    enableReading: p.enableReading,
    enableWithdrawals: p.enableWithdrawals,
    enableInternalTransfer: p.enableInternalTransfer,
    enableMargin: p.enableMargin,
    enableFutures: p.enableFutures,
    permitsUniversalTransfer: p.permitsUniversalTransfer,
    enableVanillaOptions: p.enableVanillaOptions,
    enableFixApiTrade: p.enableFixApiTrade,
    enableFixReadOnly: p.enableFixReadOnly,
    enableSpotAndMarginTrading: p.enableSpotAndMarginTrading,
    enablePortfolioMarginTrading: p.enablePortfolioMarginTrading,
    // On keys without an IP restriction, spot trading permission lapses after 30 days.
    ...(!ipRestrict && p.enableSpotAndMarginTrading ? { tradingAuthorityExpirationTime: key.createdAt + THIRTY_DAYS_MS } : {}),
  };
}

interface Perpetual {
  symbol: string;
  base: string;
  subType: string;
  tickSize: string;
  minPrice: string;
  maxPrice: string;
  maxQty: string;
  marketMaxQty: string;
  minNotional: string;
}

const PERPETUALS: Perpetual[] = [
  { symbol: 'BTCUSDT', base: 'BTC', subType: 'PoW', tickSize: '0.10', minPrice: '261.10', maxPrice: '809484', maxQty: '1000', marketMaxQty: '120', minNotional: '100' },
  { symbol: 'ETHUSDT', base: 'ETH', subType: 'Layer-1', tickSize: '0.01', minPrice: '39.86', maxPrice: '306177', maxQty: '10000', marketMaxQty: '2000', minNotional: '20' },
];

/** GET /fapi/v1/exchangeInfo: USDT-margined perpetuals in the shape fapi returns them. */
function exchangeInfo(serverTime: number) {
  return {
    timezone: 'UTC',
    serverTime,
    futuresType: 'U_MARGINED',
    rateLimits: [
      { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 2400 },
      { rateLimitType: 'ORDERS', interval: 'MINUTE', intervalNum: 1, limit: 1200 },
      { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 300 },
    ],
    exchangeFilters: [],
    assets: [
      { asset: 'USDT', marginAvailable: true, autoAssetExchange: '-10000' },
      { asset: 'BTC', marginAvailable: true, autoAssetExchange: '-0.10000000' },
      { asset: 'ETH', marginAvailable: true, autoAssetExchange: '-5' },
    ],
    symbols: PERPETUALS.map((p) => ({
      symbol: p.symbol,
      pair: p.symbol,
      contractType: 'PERPETUAL',
      deliveryDate: 4133404800000,
      onboardDate: 1569398400000,
      status: 'TRADING',
      maintMarginPercent: '2.5000',
      requiredMarginPercent: '5.0000',
      baseAsset: p.base,
      quoteAsset: 'USDT',
      marginAsset: 'USDT',
      pricePrecision: p.tickSize.split('.')[1]?.length ?? 0,
      quantityPrecision: 3,
      baseAssetPrecision: 8,
      quotePrecision: 8,
      underlyingType: 'COIN',
      underlyingSubType: [p.subType],
      settlePlan: 0,
      triggerProtect: '0.0500',
      liquidationFee: '0.012500',
      marketTakeBound: '0.05',
      maxMoveOrderLimit: 10000,
      filters: [
        { filterType: 'PRICE_FILTER', minPrice: p.minPrice, maxPrice: p.maxPrice, tickSize: p.tickSize },
        { filterType: 'LOT_SIZE', minQty: '0.001', maxQty: p.maxQty, stepSize: '0.001' },
        { filterType: 'MARKET_LOT_SIZE', minQty: '0.001', maxQty: p.marketMaxQty, stepSize: '0.001' },
        { filterType: 'MAX_NUM_ORDERS', limit: 200 },
        { filterType: 'MAX_NUM_ALGO_ORDERS', limit: 10 },
        { filterType: 'MIN_NOTIONAL', notional: p.minNotional },
        { filterType: 'PERCENT_PRICE', multiplierUp: '1.0500', multiplierDown: '0.9500', multiplierDecimal: '4' },
      ],
      orderTypes: ['LIMIT', 'MARKET', 'STOP', 'STOP_MARKET', 'TAKE_PROFIT', 'TAKE_PROFIT_MARKET', 'TRAILING_STOP_MARKET'],
      timeInForce: ['GTC', 'IOC', 'FOK', 'GTX', 'GTD'],
      permissionSets: ['GRID', 'COPY'],
    })),
  };
}

const network = (coin: string, net: string, name: string, fee: string, min: string, confirm: number) => ({
  network: net,
  coin,
  withdrawIntegerMultiple: '0.00000001',
  isDefault: true,
  depositEnable: true,
  withdrawEnable: true,
  depositDesc: '',
  withdrawDesc: '',
  specialTips: '',
  specialWithdrawTips: '',
  name,
  resetAddressStatus: false,
  addressRegex: '',
  memoRegex: '',
  withdrawFee: fee,
  withdrawMin: min,
  withdrawMax: '9999999999',
  depositDust: '0.00000001',
  minConfirm: confirm,
  unLockConfirm: confirm,
  sameAddress: false,
  estimatedArrivalTime: 5,
  busy: false,
  contractAddressUrl: '',
  contractAddress: '',
});

const coin = (symbol: string, name: string, networks: ReturnType<typeof network>[]) => ({
  coin: symbol,
  depositAllEnable: true,
  withdrawAllEnable: true,
  name,
  free: '0',
  locked: '0',
  freeze: '0',
  withdrawing: '0',
  ipoing: '0',
  ipoable: '0',
  storage: '0',
  isLegalMoney: false,
  trading: true,
  networkList: networks,
});

/** GET /sapi/v1/capital/config/getall: the coins our markets use, each on one network. */
const COINS = [
  coin('BTC', 'Bitcoin', [network('BTC', 'BTC', 'Bitcoin', '0.00002', '0.0001', 1)]),
  coin('ETH', 'Ethereum', [network('ETH', 'ETH', 'Ethereum (ERC20)', '0.0008', '0.0016', 6)]),
  coin('USDT', 'TetherUS', [network('USDT', 'ETH', 'Ethereum (ERC20)', '1.5', '3', 6)]),
];

/** GET /sapi/v1/margin/allPairs. */
const MARGIN_PAIRS = [
  { id: '351637150141315861', symbol: 'BTCUSDT', base: 'BTC', quote: 'USDT', isMarginTrade: true, isBuyAllowed: true, isSellAllowed: true },
  { id: '351637150141315862', symbol: 'ETHUSDT', base: 'ETH', quote: 'USDT', isMarginTrade: true, isBuyAllowed: true, isSellAllowed: true },
];
