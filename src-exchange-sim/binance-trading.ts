// Binance USD-M futures trading routes (fapi): market data, account, orders (plain on /fapi/v1/order,
// conditional on /fapi/v1/algoOrder since Binance moved stops there), positions, leverage, margin type.
// A dialect over the Ledger: parameters in, Binance's field names, number strings and error codes out.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MINUTE_MS, TIMEFRAMES } from '../src-shared/market-series.ts';
import { wireRequest, type WireRequest } from './http.ts';
import type { BinanceRefusal as BinanceError } from './binance.ts';
import type { KeyOf } from './keys.ts';
import { decimalsOf, settleValue, type Contract, type Ledger, type OrderRefusal, type SimFill, type SimOrder, type Trigger } from './ledger.ts';

type BinanceKey = KeyOf<'binanceusdm'>;

export const BINANCE_DEFAULT_BALANCES: Record<string, number> = { USDT: 10_000 };

const perpetual = (symbol: string, base: string, tickSize: number, maxQty: number, minNotional: number, maxLeverage: number, maintenanceRate: number): Contract => ({
  symbol,
  base,
  kind: 'linear',
  settle: 'USDT',
  tickSize,
  qtyStep: 0.001,
  minQty: 0.001,
  maxQty,
  minNotional,
  maxLeverage,
  maintenanceRate,
  takerFee: 0.0005,
  makerFee: 0.0002,
});

/** The contracts exchangeInfo lists (binance.ts), as the ledger trades them. */
export const BINANCE_CONTRACTS: Contract[] = [perpetual('BTCUSDT', 'BTC', 0.1, 1000, 100, 125, 0.004), perpetual('ETHUSDT', 'ETH', 0.01, 10000, 20, 100, 0.005)];

const fail = (status: number, code: number, msg: string): BinanceError => ({ status, code, msg });
const INVALID_SYMBOL = fail(400, -1121, 'Invalid symbol.');
const missing = (name: string) => fail(400, -1102, `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.`);
const NO_SUCH_ORDER = fail(400, -2013, 'Order does not exist.');

export const BINANCE_RATE_LIMITED = fail(429, -1003, 'Too many requests; current limit is 2400 requests per minute. Please use the websocket for live updates to avoid polling the API.');

function refusalError(refusal: OrderRefusal, contract: Contract | undefined): BinanceError {
  switch (refusal) {
    case 'unknown-symbol':
      return INVALID_SYMBOL;
    case 'too-small':
      return fail(400, -4164, `Order's notional must be no smaller than ${contract?.minNotional ?? 0} (unless you choose reduce only).`);
    case 'too-large':
      return fail(400, -4005, 'Quantity greater than max quantity.');
    case 'bad-quantity-step':
      return fail(400, -1111, 'Precision is over the maximum defined for this asset.');
    case 'bad-price':
      return fail(400, -4014, 'Price not increased by tick size.');
    case 'insufficient-margin':
      return fail(400, -2019, 'Margin is insufficient.');
    case 'duplicate-client-id':
      return fail(400, -4116, 'ClientOrderId is duplicated.');
    case 'reduce-only-rejected':
      return fail(400, -2022, 'ReduceOnly Order is rejected.');
    case 'post-only-would-take':
      return fail(400, -5022, 'Due to the order could not be executed as maker, the Post Only order will be rejected. The order will not be recorded in the order history');
    case 'would-trigger-immediately':
      return fail(400, -2021, 'Order would immediately trigger.');
  }
}

type Params = URLSearchParams;
type Answer = unknown | { error: BinanceError };
const isError = (value: unknown): value is { error: BinanceError } => typeof value === 'object' && value !== null && 'error' in value;

export interface BinanceTradingDeps {
  ledger: Ledger;
  authenticate(request: WireRequest): { key: BinanceKey } | { refusal: BinanceError };
}

/** Registers every trading route on the Binance listener. */
export function binanceTradingRoutes(app: FastifyInstance, { ledger, authenticate }: BinanceTradingDeps): void {
  const send = (reply: FastifyReply, answer: Answer) => (isError(answer) ? reply.code(answer.error.status).send({ code: answer.error.code, msg: answer.error.msg }) : answer);
  const paramsOf = (wire: WireRequest): Params => new URLSearchParams(`${wire.query}&${wire.body.toString('latin1')}`);
  const publicRoute = (path: string, answer: (params: Params) => Answer) =>
    app.get(path, async (request, reply) => {
      ledger.settle();
      return send(reply, answer(new URLSearchParams(wireRequest(request).query)));
    });
  const privateRoute = (method: 'GET' | 'POST' | 'DELETE', path: string, answer: (key: BinanceKey, params: Params) => Answer) =>
    app.route({
      method,
      url: path,
      handler: async (request: FastifyRequest, reply: FastifyReply) => {
        const wire = wireRequest(request);
        const outcome = authenticate(wire);
        if ('refusal' in outcome) return send(reply, { error: outcome.refusal });
        ledger.openAccount(outcome.key.apiKey, outcome.key.balances ?? BINANCE_DEFAULT_BALANCES);
        ledger.settle();
        return send(reply, answer(outcome.key, paramsOf(wire)));
      },
    });
  const contractOf = (params: Params): Contract | { error: BinanceError } => {
    const symbol = params.get('symbol');
    if (!symbol) return { error: missing('symbol') };
    return ledger.contract(symbol) ?? { error: INVALID_SYMBOL };
  };

  publicRoute('/fapi/v1/ticker/24hr', (params) => {
    if (!params.get('symbol')) return ledger.contracts().map((c) => ticker(ledger, c));
    const contract = contractOf(params);
    return isError(contract) ? contract : ticker(ledger, contract);
  });
  // The simulator's mark and index prices are its last price, so all three kinds of candle agree.
  const klines = (params: Params) => {
    const contract = contractOf(params);
    if (isError(contract)) return contract;
    const timeframe = TIMEFRAMES[params.get('interval') as keyof typeof TIMEFRAMES];
    if (!timeframe) return { error: fail(400, -1120, 'Invalid interval.') };
    const limit = Math.min(Number(params.get('limit') ?? 500), 1500);
    if (!Number.isInteger(limit) || limit < 1) return { error: fail(400, -1130, "Data sent for parameter 'limit' is not valid.") };
    const start = params.get('startTime');
    const end = params.get('endTime');
    for (const [name, value] of [['startTime', start], ['endTime', end]] as const) {
      if (value !== null && !/^\d{1,16}$/.test(value)) return { error: fail(400, -1100, `Illegal characters found in parameter '${name}'; legal range is '^[0-9]{1,20}$'.`) };
    }
    const chosen = ledger.candleWindow(contract, timeframe, { start: start === null ? undefined : Number(start), end: end === null ? undefined : Number(end), limit, anchor: 'start' });
    const decimals = decimalsOf(contract.tickSize);
    return chosen.map((c) => {
      const volume = c.volume;
      const quote = volume * ((c.open + c.close) / 2);
      return [c.time, c.open.toFixed(decimals), c.high.toFixed(decimals), c.low.toFixed(decimals), c.close.toFixed(decimals), volume.toFixed(3), c.time + timeframe - 1, quote.toFixed(5), Math.max(1, Math.round(volume * 7)), (volume / 2).toFixed(3), (quote / 2).toFixed(5), '0'];
    });
  };
  publicRoute('/fapi/v1/klines', klines);
  publicRoute('/fapi/v1/markPriceKlines', klines);
  // Index candles name the pair, not the contract.
  publicRoute('/fapi/v1/indexPriceKlines', (params) => {
    const pair = params.get('pair');
    if (pair) params.set('symbol', pair);
    return klines(params);
  });
  publicRoute('/fapi/v1/premiumIndex', (params) => {
    if (!params.get('symbol')) return ledger.contracts().map((c) => premiumIndex(ledger, c));
    const contract = contractOf(params);
    return isError(contract) ? contract : premiumIndex(ledger, contract);
  });

  const account = (key: BinanceKey) => accountInfo(ledger, key.apiKey);
  privateRoute('GET', '/fapi/v2/account', account);
  privateRoute('GET', '/fapi/v3/account', account);
  privateRoute('GET', '/fapi/v2/balance', (key) => {
    const b = ledger.balance(key.apiKey, 'USDT');
    return [{ accountAlias: 'SgsR', asset: 'USDT', balance: m(b.wallet), crossWalletBalance: m(b.wallet), crossUnPnl: m(b.unrealisedPnl), availableBalance: m(b.available), maxWithdrawAmount: m(b.available), marginAvailable: true, updateTime: ledger.now() }];
  });
  privateRoute('GET', '/fapi/v1/leverageBracket', (_key, params) => {
    const symbol = params.get('symbol');
    const contracts = symbol ? ledger.contracts().filter((c) => c.symbol === symbol) : ledger.contracts();
    if (symbol && contracts.length === 0) return { error: INVALID_SYMBOL };
    return contracts.map((c) => ({
      symbol: c.symbol,
      notionalCoef: 1.0,
      brackets: [{ bracket: 1, initialLeverage: c.maxLeverage, notionalCap: 100_000_000, notionalFloor: 0, maintMarginRatio: c.maintenanceRate, cum: 0.0 }],
    }));
  });
  const positionRisk = (key: BinanceKey, params: Params) => {
    const symbol = params.get('symbol');
    if (symbol && !ledger.contract(symbol)) return { error: INVALID_SYMBOL };
    return ledger
      .positions(key.apiKey)
      .filter((p) => p.quantity !== 0 && (!symbol || p.symbol === symbol))
      .map((p) => {
        const contract = ledger.contract(p.symbol) as Contract;
        const isolated = p.marginMode === 'isolated';
        return {
          symbol: p.symbol,
          positionSide: 'BOTH',
          positionAmt: q(p.quantity),
          entryPrice: String(Number(p.entryPrice.toFixed(8))),
          breakEvenPrice: String(Number((p.entryPrice * (1 + Math.sign(p.quantity) * 2 * contract.takerFee)).toFixed(8))),
          markPrice: m(p.markPrice),
          unRealizedProfit: m(p.unrealisedPnl),
          liquidationPrice: m(p.liquidationPrice),
          isolatedMargin: isolated ? m(p.initialMargin + p.unrealisedPnl) : '0',
          notional: m(Math.sign(p.quantity) * p.notional),
          marginAsset: 'USDT',
          isolatedWallet: isolated ? m(p.initialMargin) : '0',
          initialMargin: m(p.initialMargin),
          maintMargin: m(p.maintenanceMargin),
          positionInitialMargin: m(p.initialMargin),
          openOrderInitialMargin: '0',
          adl: '2',
          bidNotional: '0',
          askNotional: '0',
          updateTime: String(p.updatedAt),
        };
      });
  };
  privateRoute('GET', '/fapi/v2/positionRisk', positionRisk);
  privateRoute('GET', '/fapi/v3/positionRisk', positionRisk);

  privateRoute('POST', '/fapi/v1/leverage', (key, params) => {
    const contract = contractOf(params);
    if (isError(contract)) return contract;
    const leverage = Number(params.get('leverage'));
    if (!Number.isInteger(leverage) || !ledger.setLeverage(key.apiKey, contract, leverage)) return { error: fail(400, -4028, `Leverage ${params.get('leverage')} is not valid`) };
    return { leverage, maxNotionalValue: '100000000', symbol: contract.symbol };
  });
  privateRoute('POST', '/fapi/v1/marginType', (key, params) => {
    const contract = contractOf(params);
    if (isError(contract)) return contract;
    const type = params.get('marginType');
    if (type !== 'ISOLATED' && type !== 'CROSSED') return { error: fail(400, -4044, 'The margin type is invalid.') };
    const outcome = ledger.setMarginMode(key.apiKey, contract, type === 'ISOLATED' ? 'isolated' : 'cross');
    if (outcome === 'unchanged') return { error: fail(400, -4046, 'No need to change margin type.') };
    if (outcome === 'busy') return { error: fail(400, -4048, 'Margin type cannot be changed if there exists position.') };
    return { code: 200, msg: 'success' };
  });
  privateRoute('GET', '/fapi/v1/symbolConfig', (key, params) => {
    const symbol = params.get('symbol');
    return ledger
      .contracts()
      .filter((c) => !symbol || c.symbol === symbol)
      .map((c) => {
        const s = ledger.settings(key.apiKey, c);
        return { symbol: c.symbol, marginType: s.marginMode === 'isolated' ? 'ISOLATED' : 'CROSSED', isAutoAddMargin: false, leverage: String(s.leverage), maxNotionalValue: '100000000' };
      });
  });

  const place = (key: BinanceKey, params: Params, conditional: boolean): Answer => {
    const contract = contractOf(params);
    if (isError(contract)) return contract;
    const side = params.get('side');
    const type = params.get('type');
    const quantityText = params.get('quantity');
    if (side !== 'BUY' && side !== 'SELL') return { error: missing('side') };
    if (!type) return { error: missing('type') };
    if (!quantityText) return { error: missing('quantity') };
    // Accounts here are in one-way mode: a hedge-mode position side is refused as Binance refuses it.
    const positionSide = params.get('positionSide');
    if (positionSide !== null && positionSide !== 'BOTH') return { error: fail(400, -4061, "Order's position side does not match user's setting.") };
    const isStop = type === 'STOP' || type === 'STOP_MARKET';
    const isTakeProfit = type === 'TAKE_PROFIT' || type === 'TAKE_PROFIT_MARKET';
    const triggerText = params.get(conditional ? 'triggerPrice' : 'stopPrice');
    if ((isStop || isTakeProfit) !== conditional) return { error: fail(400, -4120, 'Order type not supported for this endpoint. Please use the Algo Order API endpoints instead.') };
    if (!['MARKET', 'LIMIT', 'STOP', 'STOP_MARKET', 'TAKE_PROFIT', 'TAKE_PROFIT_MARKET'].includes(type)) return { error: fail(400, -1116, 'Invalid orderType.') };
    let trigger: Trigger | undefined;
    if (conditional) {
      if (!triggerText) return { error: missing('triggerPrice') };
      const rises = (side === 'BUY') === isStop;
      trigger = { price: Number(triggerText), direction: rises ? 'rise' : 'fall' };
    }
    const limit = type === 'LIMIT' || type === 'STOP' || type === 'TAKE_PROFIT';
    const priceText = params.get('price');
    if (limit && !priceText) return { error: missing('price') };
    const clientId = params.get(conditional ? 'clientAlgoId' : 'newClientOrderId') ?? undefined;
    if (clientId !== undefined && !/^[.A-Z:/a-z0-9_-]{1,36}$/.test(clientId)) return { error: fail(400, -4015, 'Client order id is not valid.') };
    const outcome = ledger.placeOrder(key.apiKey, {
      symbol: contract.symbol,
      side: side === 'BUY' ? 'buy' : 'sell',
      type: limit ? 'limit' : 'market',
      quantity: Number(quantityText),
      price: limit ? Number(priceText) : undefined,
      trigger,
      reduceOnly: params.get('reduceOnly') === 'true',
      postOnly: params.get('timeInForce') === 'GTX',
      clientId: clientId ?? randomBytes(16).toString('base64url').slice(0, 22),
      refuseImmediateTrigger: true,
    });
    if ('refusal' in outcome) return { error: refusalError(outcome.refusal, contract) };
    return conditional ? algoView(outcome.order, contract, type) : orderView(outcome.order, contract, type);
  };
  privateRoute('POST', '/fapi/v1/order', (key, params) => place(key, params, false));
  privateRoute('POST', '/fapi/v1/algoOrder', (key, params) => {
    if (params.get('algoType') !== 'CONDITIONAL') return { error: fail(400, -1102, "Mandatory parameter 'algoType' was not sent, was empty/null, or malformed.") };
    return place(key, params, true);
  });

  const lookup = (key: BinanceKey, params: Params, conditional: boolean): SimOrder | { error: BinanceError } => {
    const contract = contractOf(params);
    if (isError(contract)) return contract;
    const idName = conditional ? 'algoId' : 'orderId';
    const clientName = conditional ? 'clientAlgoId' : 'origClientOrderId';
    const id = params.get(idName);
    const clientId = params.get(clientName);
    if (!id && !clientId) return { error: fail(400, -1102, `Param '${idName}' or '${clientName}' must be sent, but both were empty/null!`) };
    const order = ledger.order(key.apiKey, clientId ? { clientId } : { seq: Number(id) });
    if (!order || order.symbol !== contract.symbol || Boolean(order.trigger) !== conditional) return { error: NO_SUCH_ORDER };
    return order;
  };
  const typeOf = (order: SimOrder) => {
    if (!order.trigger) return order.type === 'limit' ? 'LIMIT' : 'MARKET';
    const stop = (order.side === 'buy') === (order.trigger.direction === 'rise');
    return `${stop ? 'STOP' : 'TAKE_PROFIT'}${order.type === 'market' ? '_MARKET' : ''}`;
  };
  for (const conditional of [false, true]) {
    const path = conditional ? '/fapi/v1/algoOrder' : '/fapi/v1/order';
    const view = (order: SimOrder) => {
      const contract = ledger.contract(order.symbol) as Contract;
      return conditional ? algoView(order, contract, typeOf(order)) : orderView(order, contract, typeOf(order));
    };
    privateRoute('GET', path, (key, params) => {
      const order = lookup(key, params, conditional);
      return isError(order) ? order : view(order);
    });
    privateRoute('DELETE', path, (key, params) => {
      const order = lookup(key, params, conditional);
      if (isError(order)) return order.error === NO_SUCH_ORDER ? { error: fail(400, -2011, 'Unknown order sent.') } : order;
      if (order.status !== 'open') return { error: fail(400, -2011, 'Unknown order sent.') };
      const cancelled = ledger.cancelOrder(key.apiKey, { seq: order.seq }) as SimOrder;
      return conditional ? { algoId: cancelled.seq, clientAlgoId: cancelled.clientId, code: '200', msg: 'success' } : view(cancelled);
    });
    privateRoute('GET', conditional ? '/fapi/v1/openAlgoOrders' : '/fapi/v1/openOrders', (key, params) => {
      const symbol = params.get('symbol');
      if (symbol && !ledger.contract(symbol)) return { error: INVALID_SYMBOL };
      return ledger
        .orders(key.apiKey)
        .filter((o) => o.status === 'open' && Boolean(o.trigger) === conditional && (!symbol || o.symbol === symbol))
        .map(view);
    });
  }
  // Plain and conditional orders live in separate books, each cancelled as a whole on its own path.
  privateRoute('DELETE', '/fapi/v1/allOpenOrders', (key, params) => {
    const contract = contractOf(params);
    if (isError(contract)) return contract;
    ledger.cancelAll(key.apiKey, (o) => o.symbol === contract.symbol && !o.trigger);
    return { code: 200, msg: 'The operation of cancel all open order is done.' };
  });
  privateRoute('DELETE', '/fapi/v1/algoOpenOrders', (key, params) => {
    const contract = contractOf(params);
    if (isError(contract)) return contract;
    ledger.cancelAll(key.apiKey, (o) => o.symbol === contract.symbol && Boolean(o.trigger));
    return { code: 200, msg: 'The operation of cancel all open order is done.' };
  });
  privateRoute('GET', '/fapi/v1/allOrders', (key, params) => {
    const contract = contractOf(params);
    if (isError(contract)) return contract;
    return ledger
      .orders(key.apiKey)
      .filter((o) => o.symbol === contract.symbol && !o.trigger)
      .map((o) => orderView(o, contract, typeOf(o)));
  });
  privateRoute('GET', '/fapi/v1/userTrades', (key, params) => {
    const contract = contractOf(params);
    if (isError(contract)) return contract;
    const limit = Math.min(Number(params.get('limit') ?? 500), 1000);
    const start = Number(params.get('startTime') ?? 0);
    const fills = ledger.fills(key.apiKey).filter((f) => f.symbol === contract.symbol && f.time >= start);
    return fills.slice(-limit).map((f) => userTrade(f, contract));
  });
  privateRoute('GET', '/fapi/v1/income', (key, params) => {
    const symbol = params.get('symbol');
    const type = params.get('incomeType');
    if (type && type !== 'FUNDING_FEE') return [];
    return ledger
      .funding(key.apiKey)
      .filter((f) => !symbol || f.symbol === symbol)
      .map((f) => ({ symbol: f.symbol, incomeType: 'FUNDING_FEE', income: m(f.amount), asset: f.asset, info: 'FUNDING_FEE', time: f.time, tranId: f.seq, tradeId: '' }));
  });
}

/** Money: 8 decimals, as Binance sends balances and PnL. */
const m = (value: number) => value.toFixed(8);
/** Quantities: the contracts' 3 decimals. */
const q = (value: number) => value.toFixed(3);

function orderStatus(order: SimOrder): string {
  if (order.status === 'filled') return 'FILLED';
  if (order.status === 'cancelled') return order.cancelReason === 'reduce-only' ? 'EXPIRED' : 'CANCELED';
  return 'NEW';
}

function orderView(order: SimOrder, contract: Contract, type: string) {
  const d = decimalsOf(contract.tickSize);
  return {
    orderId: order.seq,
    symbol: order.symbol,
    status: orderStatus(order),
    clientOrderId: order.clientId ?? '',
    price: (order.price ?? 0).toFixed(d),
    avgPrice: order.averagePrice.toFixed(d),
    origQty: q(order.quantity),
    executedQty: q(order.filled),
    cumQty: q(order.filled),
    cumQuote: (order.filled * order.averagePrice).toFixed(5),
    timeInForce: order.postOnly ? 'GTX' : 'GTC',
    type,
    reduceOnly: order.reduceOnly,
    closePosition: false,
    side: order.side === 'buy' ? 'BUY' : 'SELL',
    positionSide: 'BOTH',
    stopPrice: '0',
    workingType: 'CONTRACT_PRICE',
    priceProtect: false,
    origType: type,
    priceMatch: 'NONE',
    selfTradePreventionMode: 'EXPIRE_MAKER',
    goodTillDate: 0,
    time: order.createdAt,
    updateTime: order.updatedAt,
  };
}

function algoView(order: SimOrder, contract: Contract, type: string) {
  const d = decimalsOf(contract.tickSize);
  const status = order.status === 'cancelled' ? (order.cancelReason === 'reduce-only' ? 'EXPIRED' : 'CANCELED') : order.triggeredAt === undefined ? 'NEW' : order.status === 'filled' ? 'FINISHED' : 'TRIGGERED';
  return {
    algoId: order.seq,
    clientAlgoId: order.clientId ?? '',
    algoType: 'CONDITIONAL',
    orderType: type,
    symbol: order.symbol,
    side: order.side === 'buy' ? 'BUY' : 'SELL',
    positionSide: 'BOTH',
    timeInForce: 'GTC',
    quantity: q(order.quantity),
    algoStatus: status,
    actualOrderId: order.triggeredAt === undefined ? '' : String(order.seq),
    actualPrice: order.averagePrice.toFixed(d),
    triggerPrice: (order.trigger?.price ?? 0).toFixed(d),
    price: (order.price ?? 0).toFixed(d),
    icebergQuantity: null,
    selfTradePreventionMode: 'EXPIRE_MAKER',
    workingType: 'CONTRACT_PRICE',
    priceMatch: 'NONE',
    closePosition: false,
    priceProtect: false,
    reduceOnly: order.reduceOnly,
    createTime: order.createdAt,
    updateTime: order.updatedAt,
    triggerTime: order.triggeredAt ?? 0,
    goodTillDate: 0,
  };
}

function userTrade(fill: SimFill, contract: Contract) {
  const d = decimalsOf(contract.tickSize);
  return {
    symbol: fill.symbol,
    id: String(fill.seq),
    orderId: String(fill.orderSeq),
    side: fill.side === 'buy' ? 'BUY' : 'SELL',
    price: fill.price.toFixed(d),
    qty: q(fill.quantity),
    realizedPnl: m(fill.realisedPnl),
    marginAsset: 'USDT',
    quoteQty: (fill.quantity * fill.price).toFixed(5),
    commission: m(fill.fee),
    commissionAsset: fill.feeAsset,
    time: String(fill.time),
    positionSide: 'BOTH',
    maker: fill.maker,
    buyer: fill.side === 'buy',
  };
}

function ticker(ledger: Ledger, contract: Contract) {
  const now = ledger.now();
  const d = decimalsOf(contract.tickSize);
  const day = ledger.candles(contract, MINUTE_MS * 60, now - 24 * 3_600_000, now + 1);
  const open = day[0]?.open ?? ledger.price(contract);
  const last = ledger.price(contract);
  const high = Math.max(last, ...day.map((c) => c.high));
  const low = Math.min(last, ...day.map((c) => c.low));
  const volume = day.reduce((sum, c) => sum + c.volume, 0);
  return {
    symbol: contract.symbol,
    priceChange: (last - open).toFixed(d),
    priceChangePercent: (((last - open) / open) * 100).toFixed(3),
    weightedAvgPrice: ((high + low + last) / 3).toFixed(d),
    lastPrice: last.toFixed(d),
    lastQty: '0.010',
    openPrice: open.toFixed(d),
    highPrice: high.toFixed(d),
    lowPrice: low.toFixed(d),
    volume: volume.toFixed(3),
    quoteVolume: (volume * last).toFixed(2),
    openTime: now - 24 * 3_600_000,
    closeTime: now,
    firstId: 1,
    lastId: Math.max(1, Math.round(volume * 7)),
    count: Math.max(1, Math.round(volume * 7)),
  };
}

function premiumIndex(ledger: Ledger, contract: Contract) {
  const now = ledger.now();
  const price = ledger.price(contract);
  const interval = 8 * 3_600_000;
  return {
    symbol: contract.symbol,
    markPrice: price.toFixed(8),
    indexPrice: price.toFixed(8),
    estimatedSettlePrice: price.toFixed(8),
    lastFundingRate: ledger.fundingRate(contract, now).toFixed(8),
    interestRate: '0.00010000',
    nextFundingTime: Math.floor(now / interval) * interval + interval,
    time: now,
  };
}

function accountInfo(ledger: Ledger, accountId: string) {
  const now = ledger.now();
  const assets = ledger.assets(accountId).map((asset) => ledger.balance(accountId, asset));
  const usdt = ledger.balance(accountId, 'USDT');
  const positions = ledger.positions(accountId).filter((p) => p.quantity !== 0);
  const total = (pick: (b: (typeof assets)[number]) => number) => m(pick(usdt));
  return {
    feeTier: '0',
    canTrade: true,
    canDeposit: true,
    canWithdraw: true,
    tradeGroupId: '-1',
    updateTime: '0',
    multiAssetsMargin: false,
    totalInitialMargin: total((b) => b.positionMargin + b.orderMargin),
    totalMaintMargin: total((b) => b.maintenanceMargin),
    totalWalletBalance: total((b) => b.wallet),
    totalUnrealizedProfit: total((b) => b.unrealisedPnl),
    totalMarginBalance: total((b) => b.equity),
    totalPositionInitialMargin: total((b) => b.positionMargin),
    totalOpenOrderInitialMargin: total((b) => b.orderMargin),
    totalCrossWalletBalance: total((b) => b.wallet),
    totalCrossUnPnl: total((b) => b.unrealisedPnl),
    availableBalance: total((b) => b.available),
    maxWithdrawAmount: total((b) => b.available),
    assets: assets.map((b) => ({
      asset: b.asset,
      walletBalance: m(b.wallet),
      unrealizedProfit: m(b.unrealisedPnl),
      marginBalance: m(b.equity),
      maintMargin: m(b.maintenanceMargin),
      initialMargin: m(b.positionMargin + b.orderMargin),
      positionInitialMargin: m(b.positionMargin),
      openOrderInitialMargin: m(b.orderMargin),
      maxWithdrawAmount: m(b.available),
      crossWalletBalance: m(b.wallet),
      crossUnPnl: m(b.unrealisedPnl),
      availableBalance: m(b.available),
      marginAvailable: true,
      updateTime: String(now),
    })),
    positions: positions.map((p) => {
      const contract = ledger.contract(p.symbol) as Contract;
      return {
        symbol: p.symbol,
        positionSide: 'BOTH',
        positionAmt: q(p.quantity),
        unrealizedProfit: m(p.unrealisedPnl),
        isolatedMargin: p.marginMode === 'isolated' ? m(p.initialMargin + p.unrealisedPnl) : '0',
        notional: m(Math.sign(p.quantity) * settleValue(contract, Math.abs(p.quantity), p.markPrice)),
        isolatedWallet: p.marginMode === 'isolated' ? m(p.initialMargin) : '0',
        initialMargin: m(p.initialMargin),
        maintMargin: m(p.maintenanceMargin),
        updateTime: String(p.updatedAt),
      };
    }),
  };
}
