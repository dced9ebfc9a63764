// Kraken Futures trading routes (v3 under /derivatives/api/v3, charts under /api/charts/v1): linear
// multi-collateral PF_ contracts settled in USD (the "flex" account) and inverse PI_ contracts settled
// in the coin (one margin account each, e.g. fi_xbtusd). Order parameters arrive in the query string,
// as ccxt sends them. Margin is cross unless a max leverage is set for the symbol, which makes it isolated.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MINUTE_MS } from '../src-shared/market-series.ts';
import { wireRequest, type WireRequest } from './http.ts';
import type { KeyOf } from './keys.ts';
import type { KrakenFuturesRefusal } from './kraken-futures.ts';
import { decimalsOf, type Contract, type Ledger, type OrderRefusal, type SimOrder } from './ledger.ts';

type KrakenFuturesKey = KeyOf<'krakenfutures'>;

export const KRAKEN_FUTURES_DEFAULT_BALANCES: Record<string, number> = { USD: 10_000, BTC: 0.2, ETH: 4 };

const fees = { takerFee: 0.0005, makerFee: 0.0002, maintenanceRate: 0.01, maxLeverage: 50 };
/** Listed by instruments (kraken-futures.ts) with the same ticks and precisions. */
export const KRAKEN_FUTURES_CONTRACTS: Contract[] = [
  { symbol: 'PF_XBTUSD', base: 'BTC', kind: 'linear', settle: 'USD', tickSize: 1, qtyStep: 0.0001, minQty: 0.0001, maxQty: 1000, minNotional: 0, ...fees },
  { symbol: 'PF_ETHUSD', base: 'ETH', kind: 'linear', settle: 'USD', tickSize: 0.1, qtyStep: 0.001, minQty: 0.001, maxQty: 16000, minNotional: 0, ...fees },
  { symbol: 'PI_XBTUSD', base: 'BTC', kind: 'inverse', settle: 'BTC', tickSize: 0.5, qtyStep: 1, minQty: 1, maxQty: 75_000_000, minNotional: 0, ...fees },
  { symbol: 'PI_ETHUSD', base: 'ETH', kind: 'inverse', settle: 'ETH', tickSize: 0.05, qtyStep: 1, minQty: 1, maxQty: 50_000_000, minNotional: 0, ...fees },
];

/** How long a filled or cancelled order stays in the order status answer, on the exchange's clock. */
export const KRAKEN_FUTURES_ORDER_STATUS_WINDOW_MS = 5_000;

const iso = (ms: number) => new Date(ms).toISOString();
export const KRAKEN_FUTURES_RATE_LIMITED = (now: number) => ({ result: 'error', serverTime: iso(now), error: 'apiLimitExceeded' });

/** sendorder's `sendStatus.status` for each refusal (ccxt turns these into its exceptions). */
const SEND_STATUS: Record<Exclude<OrderRefusal, 'unknown-symbol'>, string> = {
  'too-small': 'invalidSize',
  'too-large': 'maxPositionViolation',
  'bad-quantity-step': 'invalidSize',
  'bad-price': 'invalidPrice',
  'insufficient-margin': 'insufficientAvailableFunds',
  'duplicate-client-id': 'clientOrderIdAlreadyExist',
  'reduce-only-rejected': 'wouldNotReducePosition',
  'post-only-would-take': 'postWouldExecute',
  'would-trigger-immediately': 'invalidPrice',
};

export interface KrakenFuturesTradingDeps {
  ledger: Ledger;
  authenticate(request: FastifyRequest): { key: KrakenFuturesKey } | { refusal: KrakenFuturesRefusal };
}

type Answer = Record<string, unknown>;

export function krakenFuturesTradingRoutes(app: FastifyInstance, { ledger, authenticate }: KrakenFuturesTradingDeps): void {
  const serverTime = () => iso(ledger.now());
  const error = (code: string): Answer => ({ result: 'error', serverTime: serverTime(), error: code });
  const publicRoute = (path: string, answer: (request: FastifyRequest, params: URLSearchParams) => Answer) =>
    app.get(path, async (request) => {
      ledger.settle();
      return answer(request, paramsOf(wireRequest(request)));
    });
  const privateRoute = (method: 'GET' | 'POST' | 'PUT', path: string, answer: (key: KrakenFuturesKey, params: URLSearchParams) => Answer) =>
    app.route({
      method,
      url: path,
      handler: async (request: FastifyRequest, reply: FastifyReply) => {
        const outcome = authenticate(request);
        if ('refusal' in outcome) return reply.code(200).send(error(outcome.refusal.error));
        ledger.openAccount(outcome.key.apiKey, outcome.key.balances ?? KRAKEN_FUTURES_DEFAULT_BALANCES);
        ledger.settle();
        return answer(outcome.key, paramsOf(wireRequest(request)));
      },
    });

  publicRoute('/derivatives/api/v3/tickers', () => ({ result: 'success', tickers: ledger.contracts().map((c) => ticker(ledger, c)), serverTime: serverTime() }));
  publicRoute('/derivatives/api/v3/tickers/:symbol', (request) => {
    const contract = ledger.contract((request.params as { symbol: string }).symbol);
    return contract ? { result: 'success', ticker: ticker(ledger, contract), serverTime: serverTime() } : error('contractNotFound');
  });
  publicRoute('/api/charts/v1/:tickType/:symbol/:resolution', (request, params) => {
    const { symbol, resolution } = request.params as { symbol: string; resolution: string };
    const contract = ledger.contract(symbol);
    if (!contract) return error('contractNotFound');
    const timeframe = RESOLUTIONS[resolution];
    if (!timeframe) return error('invalidArgument: resolution');
    const from = params.get('from');
    const to = params.get('to');
    if ((from !== null && !/^\d{1,13}$/.test(from)) || (to !== null && !/^\d{1,13}$/.test(to))) return error('invalidArgument: from/to');
    const d = decimalsOf(contract.tickSize);
    // Seconds on the wire; at most 2000 candles, counted from `from` when it is given.
    const candles = ledger.candleWindow(contract, timeframe, { start: from === null ? undefined : Number(from) * 1000, end: to === null ? undefined : Number(to) * 1000, limit: 2000, anchor: 'start' });
    return {
      candles: candles.map((c) => ({ time: c.time, open: c.open.toFixed(d), high: c.high.toFixed(d), low: c.low.toFixed(d), close: c.close.toFixed(d), volume: contract.kind === 'linear' ? c.volume.toFixed(4) : String(Math.round(c.volume * c.close)) })),
      more_candles: false,
    };
  });

  privateRoute('GET', '/derivatives/api/v3/accounts', (key) => ({ result: 'success', accounts: accounts(ledger, key.apiKey), serverTime: serverTime() }));
  privateRoute('GET', '/derivatives/api/v3/openpositions', (key) => ({
    result: 'success',
    openPositions: ledger
      .positions(key.apiKey)
      .filter((p) => p.quantity !== 0)
      .map((p) => {
        const contract = ledger.contract(p.symbol) as Contract;
        return {
          side: p.quantity > 0 ? 'long' : 'short',
          symbol: p.symbol,
          price: String(Number(p.entryPrice.toFixed(8))),
          fillTime: iso(p.openedAt),
          size: String(Math.abs(p.quantity)),
          unrealizedFunding: '0',
          pnlCurrency: contract.kind === 'linear' ? 'USD' : contract.settle === 'BTC' ? 'XBT' : contract.settle,
          ...(p.marginMode === 'isolated' ? { maxFixedLeverage: String(p.leverage) } : {}),
        };
      }),
    serverTime: serverTime(),
  }));
  privateRoute('GET', '/derivatives/api/v3/leveragepreferences', (key) => ({
    result: 'success',
    serverTime: serverTime(),
    leveragePreferences: ledger
      .contracts()
      .map((c) => ({ c, s: ledger.settings(key.apiKey, c) }))
      .filter(({ s }) => s.marginMode === 'isolated')
      .map(({ c, s }) => ({ symbol: c.symbol, maxLeverage: s.leverage })),
  }));
  privateRoute('PUT', '/derivatives/api/v3/leveragepreferences', (key, params) => {
    const contract = ledger.contract(params.get('symbol') ?? '');
    if (!contract) return error('contractNotFound');
    const text = params.get('maxLeverage');
    // A max leverage makes the symbol isolated at that leverage; none puts it back to cross.
    const mode = ledger.setMarginMode(key.apiKey, contract, text === null ? 'cross' : 'isolated');
    if (mode === 'busy') return error('invalidArgument: cannot change margin with an open position or orders');
    if (text === null) {
      ledger.setLeverage(key.apiKey, contract, contract.maxLeverage);
    } else if (!ledger.setLeverage(key.apiKey, contract, Number(text))) {
      return error('invalidArgument: maxLeverage');
    }
    return { result: 'success', serverTime: serverTime() };
  });

  privateRoute('POST', '/derivatives/api/v3/sendorder', (key, params) => {
    const contract = ledger.contract(params.get('symbol') ?? '');
    if (!contract) return error('contractNotFound');
    const orderType = params.get('orderType');
    const side = params.get('side');
    if (side !== 'buy' && side !== 'sell') return sendStatus('invalidSide');
    if (!orderType || !['lmt', 'mkt', 'post', 'stp', 'take_profit'].includes(orderType)) return sendStatus('invalidOrderType');
    const conditional = orderType === 'stp' || orderType === 'take_profit';
    const stopText = params.get('stopPrice');
    if (conditional && !stopText) return sendStatus('invalidPrice');
    const limitText = params.get('limitPrice');
    const limit = orderType === 'lmt' || orderType === 'post' || (conditional && limitText !== null);
    if (limit && !limitText) return sendStatus('invalidPrice');
    const cliOrdId = params.get('cliOrdId') ?? undefined;
    if (cliOrdId !== undefined && cliOrdId.length > 100) return sendStatus('clientOrderIdTooLong');
    const rises = (side === 'buy') === (orderType === 'stp');
    const outcome = ledger.placeOrder(key.apiKey, {
      symbol: contract.symbol,
      side,
      type: limit ? 'limit' : 'market',
      quantity: Number(params.get('size')),
      price: limit ? Number(limitText) : undefined,
      trigger: conditional ? { price: Number(stopText), direction: rises ? 'rise' : 'fall' } : undefined,
      reduceOnly: params.get('reduceOnly') === 'true',
      postOnly: orderType === 'post',
      clientId: cliOrdId,
      clientIdUniqueAmongOpen: true,
    });
    if ('refusal' in outcome) return outcome.refusal === 'unknown-symbol' ? error('contractNotFound') : sendStatus(SEND_STATUS[outcome.refusal]);
    const order = outcome.order;
    const fill = ledger.fills(key.apiKey).find((f) => f.orderId === order.id);
    const details = orderDetails(ledger, order);
    const event = order.trigger
      ? { type: 'PLACE', orderTrigger: triggerDetails(order) }
      : fill
        ? { type: 'EXECUTION', executionId: fill.id, price: fill.price, amount: fill.quantity, orderPriorEdit: null, orderPriorExecution: { ...details, filled: 0 }, takerReducedQuantity: null }
        : { type: 'PLACE', order: details, reducedQuantity: null };
    return { result: 'success', sendStatus: { order_id: order.id, ...(order.clientId ? { cliOrdId: order.clientId } : {}), status: 'placed', receivedTime: iso(order.createdAt), orderEvents: [event] }, serverTime: serverTime() };
  });
  privateRoute('POST', '/derivatives/api/v3/cancelorder', (key, params) => {
    const orderId = params.get('order_id');
    const cliOrdId = params.get('cliOrdId');
    const order = ledger.order(key.apiKey, cliOrdId ? { clientId: cliOrdId } : { id: orderId ?? '' });
    const receivedTime = serverTime();
    if (!order || order.status !== 'open') {
      return { result: 'success', cancelStatus: { status: order?.status === 'filled' ? 'filled' : 'notFound', receivedTime, orderEvents: [] }, serverTime: receivedTime };
    }
    ledger.cancelOrder(key.apiKey, { id: order.id });
    const details = order.trigger ? triggerDetails(order) : orderDetails(ledger, order);
    return {
      result: 'success',
      cancelStatus: { status: 'cancelled', order_id: order.id, ...(order.clientId ? { cliOrdId: order.clientId } : {}), receivedTime, orderEvents: [{ uid: order.id, order: details, type: 'CANCEL' }] },
      serverTime: receivedTime,
    };
  });
  privateRoute('POST', '/derivatives/api/v3/cancelallorders', (key, params) => {
    const symbol = params.get('symbol');
    if (symbol !== null && !ledger.contract(symbol)) return error('contractNotFound');
    const cancelled = ledger.cancelAll(key.apiKey, (o) => symbol === null || o.symbol === symbol);
    return {
      result: 'success',
      cancelStatus: {
        receivedTime: serverTime(),
        cancelOnly: symbol ?? 'all',
        status: cancelled.length > 0 ? 'cancelled' : 'noOrdersToCancel',
        cancelledOrders: cancelled.map((o) => ({ order_id: o.id, ...(o.clientId ? { cliOrdId: o.clientId } : {}) })),
        orderEvents: cancelled.map((o) => ({ uid: o.id, order: o.trigger ? triggerDetails(o) : orderDetails(ledger, o), type: 'CANCEL' })),
      },
      serverTime: serverTime(),
    };
  });
  privateRoute('GET', '/derivatives/api/v3/openorders', (key) => ({
    result: 'success',
    openOrders: ledger
      .orders(key.apiKey)
      .filter((o) => o.status === 'open')
      .map((o) => openOrder(ledger, o)),
    serverTime: serverTime(),
  }));
  privateRoute('GET', '/derivatives/api/v3/orders/status', (key, params) => {
    // Lists arrive repeated, bracketed or indexed (`orderIds=a`, `orderIds[]=a`, `orderIds[0]=a`), or comma-separated.
    const listed = (name: string) =>
      [...params.entries()]
        .filter(([key]) => key === name || key.startsWith(`${name}[`))
        .flatMap(([, value]) => value.split(','))
        .filter(Boolean);
    const ids = new Set(listed('orderIds'));
    const clientIds = new Set(listed('cliOrdIds'));
    // "Returns information on specified orders which are open or were filled/cancelled in the last 5 seconds"
    // (docs.kraken.com, Get Specific Orders' Status): an older finished order is simply not in the answer.
    const shown = (o: SimOrder) => o.status === 'open' || o.updatedAt >= ledger.now() - KRAKEN_FUTURES_ORDER_STATUS_WINDOW_MS;
    const orders = ledger
      .orders(key.apiKey)
      .filter(shown)
      .filter((o) => (ids.size === 0 && clientIds.size === 0) || ids.has(o.id) || (o.clientId !== undefined && clientIds.has(o.clientId)));
    return { result: 'success', serverTime: serverTime(), orders: orders.map(orderStatus) };
  });
  privateRoute('GET', '/derivatives/api/v3/fills', (key, params) => {
    const before = params.get('lastFillTime');
    const fills = ledger
      .fills(key.apiKey)
      .filter((f) => !before || f.time < Date.parse(before))
      .slice(-100)
      .reverse();
    return {
      result: 'success',
      fills: fills.map((f) => ({
        fill_id: f.id,
        symbol: f.symbol,
        side: f.side,
        order_id: f.orderId,
        ...(f.clientId ? { cliOrdId: f.clientId } : {}),
        size: String(f.quantity),
        price: String(f.price),
        fillTime: iso(f.time),
        fillType: f.liquidation ? 'liquidation' : f.maker ? 'maker' : 'taker',
      })),
      serverTime: serverTime(),
    };
  });
  /** The account log's funding and fee entries, for a client that reconciles what it was charged. */
  privateRoute('GET', '/api/history/v3/account-log', (key) => ({
    accountUid: key.accountUid,
    logs: ledger
      .funding(key.apiKey)
      .slice()
      .reverse()
      .map((f) => ({ id: f.seq, date: iso(f.time), asset: f.asset === 'BTC' ? 'xbt' : f.asset.toLowerCase(), info: 'funding rate change', booking_uid: `funding-${f.seq}`, margin_account: f.asset === 'USD' ? 'flex' : `fi_${f.asset === 'BTC' ? 'xbt' : f.asset.toLowerCase()}usd`, old_balance: 0, new_balance: 0, old_average_entry_price: null, new_average_entry_price: null, trade_price: null, mark_price: f.markPrice, realized_pnl: null, fee: null, execution: null, collateral: null, funding_rate: f.rate, realized_funding: f.amount, conversion_spread_percentage: null, liquidation_fee: null, contract: f.symbol.toLowerCase() })),
  }));

  function sendStatus(status: string): Answer {
    return { result: 'success', sendStatus: { status, receivedTime: serverTime(), orderEvents: [] }, serverTime: serverTime() };
  }
}

const RESOLUTIONS: Record<string, number> = { '1m': MINUTE_MS, '5m': 5 * MINUTE_MS, '15m': 15 * MINUTE_MS, '1h': 60 * MINUTE_MS, '4h': 240 * MINUTE_MS, '12h': 720 * MINUTE_MS, '1d': 1440 * MINUTE_MS };

function paramsOf(wire: WireRequest): URLSearchParams {
  return new URLSearchParams(`${wire.query}&${wire.body.toString('latin1')}`);
}

function ticker(ledger: Ledger, contract: Contract) {
  const now = ledger.now();
  const last = ledger.price(contract);
  const day = ledger.candles(contract, 60 * MINUTE_MS, now - 24 * 3_600_000, now + 1);
  const open = day[0]?.open ?? last;
  const volume = day.reduce((sum, c) => sum + c.volume, 0);
  return {
    tag: 'perpetual',
    pair: `${contract.base === 'BTC' ? 'XBT' : contract.base}:USD`,
    symbol: contract.symbol,
    markPrice: last,
    bid: last - contract.tickSize,
    bidSize: 1,
    ask: last,
    askSize: 1,
    vol24h: volume,
    volumeQuote: volume * last,
    openInterest: 1000,
    open24h: open,
    indexPrice: last,
    last,
    lastTime: iso(now),
    lastSize: 0.01,
    suspended: false,
    // Kraken quotes funding as an absolute amount per contract; ccxt divides it by the mark price.
    fundingRate: ledger.fundingRate(contract, now) * last,
    // The next interval's rate depends on prices not yet made; the best prediction is the current one.
    fundingRatePrediction: ledger.fundingRate(contract, now) * last,
    postOnly: false,
    high24h: Math.max(last, ...day.map((c) => c.high)),
    low24h: Math.min(last, ...day.map((c) => c.low)),
    change24h: ((last - open) / open) * 100,
  };
}

function accounts(ledger: Ledger, accountId: string) {
  const usd = ledger.balance(accountId, 'USD');
  const result: Record<string, unknown> = {
    flex: {
      currencies: { USD: { quantity: usd.wallet, value: usd.wallet, collateral: usd.wallet, available: usd.available } },
      initialMargin: usd.positionMargin,
      initialMarginWithOrders: usd.positionMargin + usd.orderMargin,
      maintenanceMargin: usd.maintenanceMargin,
      balanceValue: usd.wallet,
      portfolioValue: usd.equity,
      collateralValue: usd.wallet,
      pnl: usd.unrealisedPnl,
      unrealizedFunding: 0,
      totalUnrealized: usd.unrealisedPnl,
      totalUnrealizedAsMargin: usd.unrealisedPnl,
      availableMargin: usd.available,
      marginEquity: usd.equity,
      type: 'multiCollateralMarginAccount',
    },
    cash: { balances: {}, type: 'cashAccount' },
  };
  for (const contract of ledger.contracts().filter((c) => c.kind === 'inverse')) {
    const b = ledger.balance(accountId, contract.settle);
    const currency = contract.settle === 'BTC' ? 'xbt' : contract.settle.toLowerCase();
    result[contract.symbol.replace('PI_', 'fi_').toLowerCase()] = {
      auxiliary: { usd: 0, pv: b.equity, pnl: b.unrealisedPnl, af: b.available, funding: 0 },
      marginRequirements: { im: b.positionMargin, mm: b.maintenanceMargin, lt: b.maintenanceMargin, tt: b.maintenanceMargin },
      triggerEstimates: { im: 0, mm: 0, lt: 0, tt: 0 },
      balances: { [currency]: b.wallet },
      currency,
      type: 'marginAccount',
    };
  }
  return result;
}

const krakenType = (order: SimOrder) => {
  if (order.trigger) return (order.side === 'buy') === (order.trigger.direction === 'rise') ? 'stp' : 'take_profit';
  return order.postOnly ? 'post' : order.type === 'limit' ? 'lmt' : 'ioc';
};

function orderDetails(ledger: Ledger, order: SimOrder) {
  return {
    orderId: order.id,
    cliOrdId: order.clientId ?? null,
    type: krakenType(order),
    symbol: order.symbol,
    side: order.side,
    quantity: order.quantity,
    filled: order.filled,
    limitPrice: order.price ?? ledger.price(ledger.contract(order.symbol) as Contract, order.createdAt),
    reduceOnly: order.reduceOnly,
    timestamp: iso(order.createdAt),
    lastUpdateTimestamp: iso(order.updatedAt),
  };
}

function triggerDetails(order: SimOrder) {
  return {
    uid: order.id,
    clientId: order.clientId ?? null,
    type: krakenType(order),
    symbol: order.symbol,
    side: order.side,
    quantity: order.quantity,
    limitPrice: order.price ?? null,
    triggerPrice: order.trigger?.price,
    triggerSide: order.trigger?.direction === 'rise' ? 'trigger_above' : 'trigger_below',
    triggerSignal: 'last_price',
    reduceOnly: order.reduceOnly,
    timestamp: iso(order.createdAt),
    lastUpdateTimestamp: iso(order.updatedAt),
    startTime: null,
  };
}

function openOrder(ledger: Ledger, order: SimOrder) {
  const d = decimalsOf((ledger.contract(order.symbol) as Contract).tickSize);
  return {
    order_id: order.id,
    ...(order.clientId ? { cliOrdId: order.clientId } : {}),
    symbol: order.symbol,
    side: order.side,
    orderType: krakenType(order),
    ...(order.price !== undefined ? { limitPrice: order.price.toFixed(d) } : {}),
    ...(order.trigger ? { stopPrice: order.trigger.price.toFixed(d), triggerSignal: 'last' } : {}),
    unfilledSize: String(order.quantity - order.filled),
    receivedTime: iso(order.createdAt),
    status: order.filled > 0 ? 'partiallyFilled' : 'untouched',
    filledSize: String(order.filled),
    reduceOnly: order.reduceOnly,
    lastUpdateTime: iso(order.updatedAt),
  };
}

function orderStatus(order: SimOrder) {
  const status = order.status === 'filled' ? 'FULLY_EXECUTED' : order.status === 'cancelled' ? 'CANCELLED' : order.trigger && order.triggeredAt === undefined ? 'TRIGGER_PLACED' : 'ENTERED_BOOK';
  return {
    order: {
      type: order.trigger ? 'TRIGGER_ORDER' : 'ORDER',
      orderId: order.id,
      cliOrdId: order.clientId ?? null,
      symbol: order.symbol,
      side: order.side,
      quantity: order.quantity,
      filled: order.filled,
      limitPrice: order.price ?? 0,
      reduceOnly: order.reduceOnly,
      timestamp: iso(order.createdAt),
      lastUpdateTimestamp: iso(order.updatedAt),
      ...(order.trigger ? { priceTriggerOptions: { triggerPrice: order.trigger.price, triggerSide: order.trigger.direction === 'rise' ? 'TRIGGER_ABOVE' : 'TRIGGER_BELOW', triggerSignal: 'LAST_PRICE' } } : {}),
    },
    status,
    updateReason: order.status === 'cancelled' ? (order.cancelReason === 'reduce-only' ? 'REDUCE_ONLY_CANCELLED' : 'CANCELLED_BY_USER') : null,
    error: null,
  };
}
