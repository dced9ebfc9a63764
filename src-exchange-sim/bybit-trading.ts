// Bybit v5 trading routes for a unified (UTA) account, linear and inverse: market data, wallet,
// orders, executions, positions, leverage, margin mode. A dialect over the Ledger; every answer is
// Bybit's `{retCode, retMsg, result, retExtInfo, time}` envelope with numbers as strings.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { FUNDING_INTERVAL_MS, MINUTE_MS } from '../src-shared/market-series.ts';
import type { BybitRefusal } from './bybit.ts';
import { wireRequest, type WireRequest } from './http.ts';
import type { KeyOf } from './keys.ts';
import { decimalsOf, quoteValue, type Contract, type FundingPayment, type Ledger, type OrderRefusal, type SimFill, type SimOrder } from './ledger.ts';

type BybitKey = KeyOf<'bybit'>;

export const BYBIT_DEFAULT_BALANCES: Record<string, number> = { USDT: 10_000, BTC: 0.2, ETH: 4 };

const fees = { takerFee: 0.00055, makerFee: 0.0002 };
/** Listed in bybit.ts's instruments-info with the same ticks and steps. */
export const BYBIT_CONTRACTS: Contract[] = [
  { symbol: 'BTCUSDT', base: 'BTC', kind: 'linear', settle: 'USDT', tickSize: 0.1, qtyStep: 0.001, minQty: 0.001, maxQty: 1190, minNotional: 5, maxLeverage: 100, maintenanceRate: 0.005, ...fees },
  { symbol: 'ETHUSDT', base: 'ETH', kind: 'linear', settle: 'USDT', tickSize: 0.01, qtyStep: 0.001, minQty: 0.001, maxQty: 7240, minNotional: 5, maxLeverage: 100, maintenanceRate: 0.005, ...fees },
  { symbol: 'BTCUSD', base: 'BTC', kind: 'inverse', settle: 'BTC', tickSize: 0.5, qtyStep: 1, minQty: 1, maxQty: 1_000_000, minNotional: 0, maxLeverage: 100, maintenanceRate: 0.005, ...fees },
  { symbol: 'ETHUSD', base: 'ETH', kind: 'inverse', settle: 'ETH', tickSize: 0.05, qtyStep: 1, minQty: 1, maxQty: 1_000_000, minNotional: 0, maxLeverage: 100, maintenanceRate: 0.005, ...fees },
];

const fail = (retCode: number, retMsg: string): { error: BybitRefusal } => ({ error: { retCode, retMsg } });
const UNKNOWN_SYMBOL = fail(10001, 'Not supported symbols');

export const BYBIT_RATE_LIMITED = (now: number) => envelope({}, 10006, 'Too many visits!', now);

/** `time` is the server's time: the simulator clock. */
export const envelope = (result: unknown, retCode: number, retMsg: string, time: number) => ({ retCode, retMsg, result, retExtInfo: {}, time });

function refusalError(refusal: OrderRefusal, contract: Contract | undefined): { error: BybitRefusal } {
  switch (refusal) {
    case 'unknown-symbol':
      return UNKNOWN_SYMBOL;
    case 'too-small':
      return contract && contract.minNotional > 0 ? fail(110094, `Order does not meet minimum order value ${contract.minNotional}${contract.settle}`) : fail(10001, 'The number of contracts below min limit allowed');
    case 'too-large':
      return fail(10001, 'The number of contracts exceeds maximum limit allowed');
    case 'bad-quantity-step':
      return fail(10001, 'Qty invalid');
    case 'bad-price':
      return fail(10001, 'params error: price invalid');
    case 'insufficient-margin':
      return fail(110007, 'ab not enough for new order');
    case 'duplicate-client-id':
      return fail(110072, 'OrderLinkedID is duplicate');
    case 'reduce-only-rejected':
      return fail(110017, 'Reduce-only rule not satisfied');
    case 'post-only-would-take':
      // Not reached: Bybit accepts such an order and cancels it at once (cancelPostOnlyTaker).
      return fail(10001, 'params error: PostOnly order would take liquidity');
    case 'would-trigger-immediately':
      return fail(110092, 'expect Rising, but trigger_price <= current');
  }
}

type Answer = unknown;
const isError = (value: unknown): value is { error: BybitRefusal } => typeof value === 'object' && value !== null && 'error' in value;

export interface BybitTradingDeps {
  ledger: Ledger;
  authenticate(request: WireRequest): { key: BybitKey } | { refusal: BybitRefusal };
}

export function bybitTradingRoutes(app: FastifyInstance, { ledger, authenticate }: BybitTradingDeps): void {
  const send = (reply: FastifyReply, answer: Answer) =>
    isError(answer) ? reply.code(200).send(envelope({}, answer.error.retCode, answer.error.retMsg, ledger.now())) : envelope(answer, 0, 'OK', ledger.now());
  const publicRoute = (path: string, answer: (params: URLSearchParams) => Answer) =>
    app.get(path, async (request, reply) => {
      ledger.settle();
      return send(reply, answer(new URLSearchParams(wireRequest(request).query)));
    });
  const privateRoute = (method: 'GET' | 'POST', path: string, answer: (key: BybitKey, params: Record<string, unknown>) => Answer) =>
    app.route({
      method,
      url: path,
      handler: async (request: FastifyRequest, reply: FastifyReply) => {
        const wire = wireRequest(request);
        const outcome = authenticate(wire);
        if ('refusal' in outcome) return send(reply, { error: outcome.refusal });
        let params: Record<string, unknown>;
        if (method === 'GET') params = Object.fromEntries(new URLSearchParams(wire.query));
        else {
          try {
            const parsed: unknown = JSON.parse(wire.body.toString('utf8') || '{}');
            if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return send(reply, fail(10001, 'params error: body is not a JSON object'));
            params = parsed as Record<string, unknown>;
          } catch {
            return send(reply, fail(10001, 'params error: body is not valid JSON'));
          }
        }
        ledger.openAccount(outcome.key.apiKey, outcome.key.balances ?? BYBIT_DEFAULT_BALANCES);
        ledger.settle();
        return send(reply, answer(outcome.key, params));
      },
    });
  // An empty parameter counts as not sent, as Bybit reads it (ccxt sends `orderId=` when looking up by orderLinkId).
  const str = (params: Record<string, unknown>, name: string): string | undefined => {
    const value = params[name];
    if (value === '') return undefined;
    return typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
  };
  const contractOf = (params: Record<string, unknown> | URLSearchParams): Contract | { error: BybitRefusal } => {
    const get = (name: string) => (params instanceof URLSearchParams ? (params.get(name) ?? undefined) : str(params, name));
    const category = get('category');
    if (category !== 'linear' && category !== 'inverse') return fail(10001, 'params error: category invalid');
    const contract = ledger.contract(get('symbol') ?? '');
    return contract && contract.kind === category ? contract : UNKNOWN_SYMBOL;
  };
  const inCategory = (category: string | undefined) => ledger.contracts().filter((c) => c.kind === category);

  publicRoute('/v5/market/tickers', (params) => {
    const category = params.get('category');
    if (category !== 'linear' && category !== 'inverse') return fail(10001, 'params error: category invalid');
    const symbol = params.get('symbol');
    const contracts = symbol ? ledger.contracts().filter((c) => c.symbol === symbol && c.kind === category) : inCategory(category);
    if (symbol && contracts.length === 0) return UNKNOWN_SYMBOL;
    return { category, list: contracts.map((c) => ticker(ledger, c)) };
  });
  publicRoute('/v5/market/kline', (params) => {
    const contract = contractOf(params);
    if (isError(contract)) return contract;
    const interval = params.get('interval') ?? '';
    const minutes = interval === 'D' ? 1440 : Number(interval);
    if (![1, 5, 15, 60, 240, 1440].includes(minutes)) return fail(10001, 'params error: interval invalid');
    const timeframe = minutes * MINUTE_MS;
    const limit = Math.min(Number(params.get('limit') ?? 200), 1000);
    if (!Number.isInteger(limit) || limit < 1) return fail(10001, 'params error: limit invalid');
    const start = params.get('start');
    const end = params.get('end');
    if ((start !== null && !/^\d{1,16}$/.test(start)) || (end !== null && !/^\d{1,16}$/.test(end))) return fail(10001, 'params error: start/end invalid');
    const chosen = ledger.candleWindow(contract, timeframe, { start: start === null ? undefined : Number(start), end: end === null ? undefined : Number(end), limit, anchor: 'end' });
    const d = decimalsOf(contract.tickSize);
    // Newest first, as Bybit sends them. Inverse volume is in contracts (USD), turnover in coin.
    const list = chosen.reverse().map((c) => {
      const mid = (c.open + c.close) / 2;
      const volume = contract.kind === 'linear' ? c.volume.toFixed(3) : Math.round(c.volume * mid).toString();
      const turnover = contract.kind === 'linear' ? (c.volume * mid).toFixed(4) : c.volume.toFixed(8);
      return [String(c.time), c.open.toFixed(d), c.high.toFixed(d), c.low.toFixed(d), c.close.toFixed(d), volume, turnover];
    });
    return { symbol: contract.symbol, category: contract.kind, list };
  });

  privateRoute('GET', '/v5/account/info', (key) => {
    const first = ledger.contracts()[0] as Contract;
    return {
      unifiedMarginStatus: 6,
      marginMode: ledger.settings(key.apiKey, first).marginMode === 'isolated' ? 'ISOLATED_MARGIN' : 'REGULAR_MARGIN',
      isMasterTrader: false,
      spotHedgingStatus: 'OFF',
      updatedTime: String(ledger.now()),
      dcpStatus: 'OFF',
      timeWindow: 10,
      smpGroup: 0,
    };
  });
  privateRoute('GET', '/v5/account/wallet-balance', (key, params) => {
    if (str(params, 'accountType') !== 'UNIFIED') return fail(10001, 'accountType only support UNIFIED.');
    return { list: [walletBalance(ledger, key.apiKey)] };
  });
  privateRoute('GET', '/v5/position/list', (key, params) => {
    const category = str(params, 'category');
    if (category !== 'linear' && category !== 'inverse') return fail(10001, 'params error: category invalid');
    const symbol = str(params, 'symbol');
    const settleCoin = str(params, 'settleCoin');
    if (!symbol && !settleCoin) return fail(10001, 'symbol or settleCoin is required');
    if (symbol && !inCategory(category).some((c) => c.symbol === symbol)) return UNKNOWN_SYMBOL;
    const contracts = inCategory(category).filter((c) => (symbol ? c.symbol === symbol : c.settle === settleCoin));
    const list = contracts
      .map((c) => positionView(ledger, key.apiKey, c))
      // A query by symbol shows the (possibly empty) position; by settle coin only the open ones.
      .filter((p) => symbol !== undefined || p.size !== '0');
    return { nextPageCursor: '', category, list };
  });
  privateRoute('POST', '/v5/position/set-leverage', (key, params) => {
    const contract = contractOf(params);
    if (isError(contract)) return contract;
    const buy = Number(str(params, 'buyLeverage'));
    const sell = Number(str(params, 'sellLeverage'));
    if (buy !== sell) return fail(10001, 'buy leverage must equal sell leverage in one-way mode');
    if (ledger.settings(key.apiKey, contract).leverage === buy) return fail(110043, 'Set leverage not modified');
    if (!ledger.setLeverage(key.apiKey, contract, buy)) return fail(10001, 'leverage invalid');
    return {};
  });
  privateRoute('POST', '/v5/account/set-margin-mode', (key, params) => {
    const mode = str(params, 'setMarginMode');
    if (mode !== 'ISOLATED_MARGIN' && mode !== 'REGULAR_MARGIN') return fail(10001, 'params error: setMarginMode invalid');
    const wanted = mode === 'ISOLATED_MARGIN' ? 'isolated' : 'cross';
    // A unified account has one margin mode for all its contracts; it cannot change with positions or orders open.
    const busy = ledger.contracts().some((c) => ledger.position(key.apiKey, c).quantity !== 0) || ledger.orders(key.apiKey).some((o) => o.status === 'open');
    if (busy) return fail(3400045, 'Set margin mode failed: there are positions or active orders');
    for (const contract of ledger.contracts()) ledger.setMarginMode(key.apiKey, contract, wanted);
    return { reasons: [] };
  });

  privateRoute('POST', '/v5/order/create', (key, params) => {
    const contract = contractOf(params);
    if (isError(contract)) return contract;
    const side = str(params, 'side');
    const orderType = str(params, 'orderType');
    if (side !== 'Buy' && side !== 'Sell') return fail(10001, 'params error: side invalid');
    if (orderType !== 'Market' && orderType !== 'Limit') return fail(10001, 'params error: orderType invalid');
    if (params.takeProfit !== undefined || params.stopLoss !== undefined || params.tpslMode !== undefined) {
      return fail(10001, 'params error: takeProfit/stopLoss attached to an order are not supported by this simulator');
    }
    const triggerText = str(params, 'triggerPrice');
    const directionText = str(params, 'triggerDirection');
    if (triggerText !== undefined && directionText !== '1' && directionText !== '2') return fail(10001, 'TriggerDirection invalid');
    const positionIdx = str(params, 'positionIdx');
    if (positionIdx !== undefined && positionIdx !== '0') return fail(10001, 'position idx not match position mode');
    const orderLinkId = str(params, 'orderLinkId');
    if (orderLinkId !== undefined && !/^[A-Za-z0-9_-]{1,36}$/.test(orderLinkId)) return fail(10001, 'params error: orderLinkId invalid');
    const limit = orderType === 'Limit';
    const outcome = ledger.placeOrder(key.apiKey, {
      symbol: contract.symbol,
      side: side === 'Buy' ? 'buy' : 'sell',
      type: limit ? 'limit' : 'market',
      quantity: Number(str(params, 'qty')),
      price: limit ? Number(str(params, 'price')) : undefined,
      trigger: triggerText === undefined ? undefined : { price: Number(triggerText), direction: directionText === '1' ? 'rise' : 'fall' },
      reduceOnly: params.reduceOnly === true || params.reduceOnly === 'true',
      postOnly: str(params, 'timeInForce') === 'PostOnly',
      clientId: orderLinkId,
      cancelPostOnlyTaker: true,
    });
    if ('refusal' in outcome) return refusalError(outcome.refusal, contract);
    return { orderId: outcome.order.id, orderLinkId: outcome.order.clientId ?? '' };
  });
  // ccxt sends trailing stops here; the simulator matches fixed-price stops only and says so.
  privateRoute('POST', '/v5/position/trading-stop', () => fail(10001, 'params error: position trading stops (trailing, take-profit, stop-loss) are not supported by the simulator; place a conditional order'));
  privateRoute('POST', '/v5/order/cancel', (key, params) => {
    const contract = contractOf(params);
    if (isError(contract)) return contract;
    const orderId = str(params, 'orderId');
    const orderLinkId = str(params, 'orderLinkId');
    if (!orderId && !orderLinkId) return fail(10001, 'orderId or orderLinkId is required');
    const order = ledger.order(key.apiKey, orderLinkId ? { clientId: orderLinkId } : { id: orderId });
    if (!order || order.symbol !== contract.symbol || order.status !== 'open') return fail(110001, 'Order does not exist');
    ledger.cancelOrder(key.apiKey, { id: order.id });
    return { orderId: order.id, orderLinkId: order.clientId ?? '' };
  });
  privateRoute('POST', '/v5/order/cancel-all', (key, params) => {
    const category = str(params, 'category');
    if (category !== 'linear' && category !== 'inverse') return fail(10001, 'params error: category invalid');
    const symbol = str(params, 'symbol');
    const settleCoin = str(params, 'settleCoin');
    if (symbol && !inCategory(category).some((c) => c.symbol === symbol)) return UNKNOWN_SYMBOL;
    const contracts = inCategory(category).filter((c) => (symbol ? c.symbol === symbol : !settleCoin || c.settle === settleCoin));
    const symbols = new Set(contracts.map((c) => c.symbol));
    const filter = str(params, 'orderFilter');
    const cancelled = ledger.cancelAll(key.apiKey, (o) => symbols.has(o.symbol) && (filter === undefined || (filter === 'StopOrder') === Boolean(o.trigger)));
    return { list: cancelled.map((o) => ({ orderId: o.id, orderLinkId: o.clientId ?? '' })), success: '1' };
  });
  const orderList = (history: boolean) => (key: BybitKey, params: Record<string, unknown>) => {
    const category = str(params, 'category');
    if (category !== 'linear' && category !== 'inverse') return fail(10001, 'params error: category invalid');
    const symbol = str(params, 'symbol');
    if (symbol && !inCategory(category).some((c) => c.symbol === symbol)) return UNKNOWN_SYMBOL;
    const orderId = str(params, 'orderId');
    const orderLinkId = str(params, 'orderLinkId');
    const trigger = str(params, 'orderFilter') === 'StopOrder';
    const byId = orderId !== undefined || orderLinkId !== undefined;
    const list = ledger
      .orders(key.apiKey)
      .filter((o) => {
        const contract = ledger.contract(o.symbol);
        if (!contract || contract.kind !== category || (symbol && o.symbol !== symbol)) return false;
        if (orderId !== undefined && o.id !== orderId) return false;
        if (orderLinkId !== undefined && o.clientId !== orderLinkId) return false;
        // realtime: open orders (and, asked by id, recent closed ones); history: closed ones.
        if (!byId && (o.status === 'open') === history) return false;
        return byId || !str(params, 'orderFilter') || Boolean(o.trigger) === trigger;
      })
      .reverse()
      .slice(0, Math.min(Number(str(params, 'limit') ?? 20), 50))
      .map((o) => orderView(ledger, key.apiKey, o));
    return { nextPageCursor: '', category, list };
  };
  privateRoute('GET', '/v5/order/realtime', orderList(false));
  privateRoute('GET', '/v5/order/history', orderList(true));
  privateRoute('GET', '/v5/execution/list', (key, params) => {
    const category = str(params, 'category');
    if (category !== 'linear' && category !== 'inverse') return fail(10001, 'params error: category invalid');
    const symbol = str(params, 'symbol');
    const execType = str(params, 'execType');
    const limit = Math.min(Number(str(params, 'limit') ?? 50), 100);
    const trades = execType === undefined || execType === 'Trade' ? ledger.fills(key.apiKey).map((f) => ({ time: f.time, row: executionOfFill(ledger, key.apiKey, f) })) : [];
    const funding = execType === undefined || execType === 'Funding' ? ledger.funding(key.apiKey).map((f) => ({ time: f.time, row: executionOfFunding(ledger, f) })) : [];
    const list = [...trades, ...funding]
      .filter(({ row }) => (!symbol || row.symbol === symbol) && ledger.contract(row.symbol)?.kind === category)
      .sort((a, b) => b.time - a.time)
      .slice(0, limit)
      .map(({ row }) => row);
    return { nextPageCursor: '', category, list };
  });
}

const money = (value: number) => value.toFixed(8);

function ticker(ledger: Ledger, contract: Contract) {
  const now = ledger.now();
  const d = decimalsOf(contract.tickSize);
  const last = ledger.price(contract);
  const day = ledger.candles(contract, 60 * MINUTE_MS, now - 24 * 3_600_000, now + 1);
  const open = day[0]?.open ?? last;
  const volume = day.reduce((sum, c) => sum + c.volume, 0);
  const spread = contract.tickSize;
  return {
    symbol: contract.symbol,
    lastPrice: last.toFixed(d),
    indexPrice: last.toFixed(d),
    markPrice: last.toFixed(d),
    prevPrice24h: open.toFixed(d),
    price24hPcnt: ((last - open) / open).toFixed(6),
    highPrice24h: Math.max(last, ...day.map((c) => c.high)).toFixed(d),
    lowPrice24h: Math.min(last, ...day.map((c) => c.low)).toFixed(d),
    prevPrice1h: ledger.price(contract, now - 3_600_000).toFixed(d),
    openInterest: '50000',
    openInterestValue: (50_000 * last).toFixed(2),
    turnover24h: (volume * last).toFixed(4),
    volume24h: volume.toFixed(4),
    fundingRate: ledger.fundingRate(contract, now).toFixed(8),
    nextFundingTime: String(Math.floor(now / FUNDING_INTERVAL_MS) * FUNDING_INTERVAL_MS + FUNDING_INTERVAL_MS),
    predictedDeliveryPrice: '',
    basisRate: '',
    deliveryFeeRate: '',
    deliveryTime: '0',
    ask1Size: '1.000',
    bid1Price: (last - spread).toFixed(d),
    ask1Price: last.toFixed(d),
    bid1Size: '1.000',
    basis: '',
    preOpenPrice: '',
    preQty: '',
    curPreListingPhase: '',
    timestamp: now,
  };
}

function walletBalance(ledger: Ledger, accountId: string) {
  // Coins are valued at their inverse contract's price; dollar coins at par.
  const usd = (asset: string, amount: number) => {
    const contract = ledger.contracts().find((c) => c.base === asset);
    return contract ? amount * ledger.price(contract) : amount;
  };
  const coins = ledger.assets(accountId).map((asset) => {
    const b = ledger.balance(accountId, asset);
    return { asset, b, usdEquity: usd(asset, b.equity), usdWallet: usd(asset, b.wallet), usdIM: usd(asset, b.positionMargin + b.orderMargin), usdMM: usd(asset, b.maintenanceMargin), usdPnl: usd(asset, b.unrealisedPnl), usdAvailable: usd(asset, b.available) };
  });
  const sum = (pick: (c: (typeof coins)[number]) => number) => coins.reduce((total, c) => total + pick(c), 0);
  const equity = sum((c) => c.usdEquity);
  const im = sum((c) => c.usdIM);
  const mm = sum((c) => c.usdMM);
  return {
    totalEquity: money(equity),
    accountIMRate: equity > 0 ? (im / equity).toFixed(4) : '0',
    totalMarginBalance: money(equity),
    totalInitialMargin: money(im),
    accountType: 'UNIFIED',
    totalAvailableBalance: money(sum((c) => c.usdAvailable)),
    accountMMRate: equity > 0 ? (mm / equity).toFixed(4) : '0',
    totalPerpUPL: money(sum((c) => c.usdPnl)),
    totalWalletBalance: money(sum((c) => c.usdWallet)),
    accountLTV: '0',
    totalMaintenanceMargin: money(mm),
    coin: coins.map(({ asset, b, usdEquity }) => ({
      availableToBorrow: '',
      bonus: '0',
      accruedInterest: '0',
      availableToWithdraw: money(b.available),
      totalOrderIM: money(b.orderMargin),
      equity: money(b.equity),
      totalPositionMM: money(b.maintenanceMargin),
      usdValue: money(usdEquity),
      unrealisedPnl: money(b.unrealisedPnl),
      collateralSwitch: true,
      spotHedgingQty: '0',
      borrowAmount: '0.000000000000000000',
      totalPositionIM: money(b.positionMargin),
      walletBalance: money(b.wallet),
      cumRealisedPnl: money(b.realisedPnl),
      locked: '0',
      marginCollateral: true,
      coin: asset,
    })),
  };
}

function positionView(ledger: Ledger, accountId: string, contract: Contract) {
  const p = ledger.position(accountId, contract);
  const d = decimalsOf(contract.tickSize);
  const q = decimalsOf(contract.qtyStep);
  const open = p.quantity !== 0;
  return {
    symbol: contract.symbol,
    leverage: String(p.leverage),
    autoAddMargin: '0',
    avgPrice: open ? String(Number(p.entryPrice.toFixed(8))) : '0',
    liqPrice: p.liquidationPrice > 0 ? p.liquidationPrice.toFixed(d) : '',
    riskLimitValue: '2000000',
    takeProfit: '',
    positionValue: open ? money(contract.kind === 'linear' ? Math.abs(p.quantity) * p.entryPrice : Math.abs(p.quantity) / p.entryPrice) : '',
    isReduceOnly: false,
    tpslMode: 'Full',
    riskId: '1',
    trailingStop: '0',
    unrealisedPnl: open ? money(p.unrealisedPnl) : '',
    markPrice: p.markPrice.toFixed(d),
    adlRankIndicator: open ? '2' : '0',
    cumRealisedPnl: money(p.realisedPnl),
    positionMM: money(p.maintenanceMargin),
    createdTime: String(p.openedAt),
    positionIdx: '0',
    positionIM: money(p.initialMargin),
    seq: String(p.updatedAt),
    updatedTime: String(p.updatedAt),
    side: p.quantity > 0 ? 'Buy' : p.quantity < 0 ? 'Sell' : '',
    bustPrice: '',
    positionBalance: money(p.initialMargin),
    leverageSysUpdatedTime: '',
    size: String(Number(Math.abs(p.quantity).toFixed(q))),
    positionStatus: 'Normal',
    mmrSysUpdatedTime: '',
    stopLoss: '',
    tradeMode: p.marginMode === 'isolated' ? '1' : '0',
    nextPageCursor: '',
  };
}

function orderStatus(order: SimOrder): string {
  if (order.status === 'filled') return 'Filled';
  if (order.status === 'cancelled') return order.cancelReason === 'reduce-only' ? 'Deactivated' : 'Cancelled';
  return order.trigger && order.triggeredAt === undefined ? 'Untriggered' : 'New';
}

function orderView(ledger: Ledger, accountId: string, order: SimOrder) {
  const contract = ledger.contract(order.symbol) as Contract;
  const d = decimalsOf(contract.tickSize);
  const q = decimalsOf(contract.qtyStep);
  const value = quoteValue(contract, order.filled, order.averagePrice || 1);
  const fee = ledger.fills(accountId).reduce((sum, f) => (f.orderId === order.id ? sum + f.fee : sum), 0);
  const remaining = order.status === 'open' ? order.quantity - order.filled : 0;
  return {
    symbol: order.symbol,
    orderType: order.type === 'limit' ? 'Limit' : 'Market',
    orderLinkId: order.clientId ?? '',
    slLimitPrice: '0',
    orderId: order.id,
    cancelType: order.cancelReason === 'reduce-only' ? 'CancelByReduceOnly' : order.cancelReason === 'owner' ? 'CancelByUser' : 'UNKNOWN',
    avgPrice: order.filled > 0 ? order.averagePrice.toFixed(d) : '',
    stopOrderType: order.trigger ? 'Stop' : '',
    lastPriceOnCreated: ledger.price(contract, order.createdAt).toFixed(d),
    orderStatus: orderStatus(order),
    createType: 'CreateByUser',
    takeProfit: '',
    cumExecValue: order.filled > 0 ? value.toFixed(8) : '0',
    tpslMode: '',
    smpType: 'None',
    triggerDirection: order.trigger ? (order.trigger.direction === 'rise' ? '1' : '2') : '0',
    blockTradeId: '',
    cumFeeDetail: order.filled > 0 ? { [contract.settle]: money(fee) } : {},
    rejectReason: order.cancelReason === 'post-only' ? 'EC_PostOnlyWillTakeLiquidity' : 'EC_NoError',
    isLeverage: '',
    price: (order.price ?? 0).toFixed(d),
    orderIv: '',
    createdTime: String(order.createdAt),
    tpTriggerBy: '',
    positionIdx: '0',
    timeInForce: order.postOnly ? 'PostOnly' : order.type === 'market' ? 'IOC' : 'GTC',
    leavesValue: remaining > 0 ? quoteValue(contract, remaining, order.price ?? ledger.price(contract)).toFixed(8) : '0',
    updatedTime: String(order.updatedAt),
    side: order.side === 'buy' ? 'Buy' : 'Sell',
    smpGroup: '0',
    triggerPrice: order.trigger ? order.trigger.price.toFixed(d) : '',
    tpLimitPrice: '0',
    cumExecFee: money(fee),
    slTriggerBy: '',
    leavesQty: remaining.toFixed(q),
    closeOnTrigger: false,
    slippageToleranceType: 'UNKNOWN',
    placeType: '',
    cumExecQty: order.filled.toFixed(q),
    reduceOnly: order.reduceOnly,
    qty: order.quantity.toFixed(q),
    stopLoss: '',
    smpOrderId: '',
    slippageTolerance: '0',
    triggerBy: order.trigger ? 'LastPrice' : '',
    extraFees: '',
  };
}

function executionOfFill(ledger: Ledger, accountId: string, fill: SimFill) {
  const contract = ledger.contract(fill.symbol) as Contract;
  const d = decimalsOf(contract.tickSize);
  const q = decimalsOf(contract.qtyStep);
  const order = ledger.order(accountId, { id: fill.orderId });
  return {
    symbol: fill.symbol,
    orderType: order?.type === 'limit' ? 'Limit' : 'Market',
    underlyingPrice: '',
    orderLinkId: fill.clientId ?? '',
    orderId: fill.orderId,
    stopOrderType: order?.trigger ? 'Stop' : 'UNKNOWN',
    execTime: String(fill.time),
    feeCurrency: '',
    createType: 'CreateByUser',
    feeRate: String(fill.maker ? contract.makerFee : contract.takerFee),
    tradeIv: '',
    blockTradeId: '',
    markPrice: fill.price.toFixed(d),
    execPrice: fill.price.toFixed(d),
    markIv: '',
    orderQty: (order?.quantity ?? fill.quantity).toFixed(q),
    orderPrice: (order?.price ?? fill.price).toFixed(d),
    execValue: money(contract.kind === 'linear' ? fill.quantity * fill.price : fill.quantity / fill.price),
    closedSize: '0',
    execType: fill.liquidation ? 'BustTrade' : 'Trade',
    seq: String(fill.seq),
    side: fill.side === 'buy' ? 'Buy' : 'Sell',
    indexPrice: '',
    leavesQty: '0',
    isMaker: fill.maker,
    execFee: money(fill.fee),
    execId: fill.id,
    execQty: fill.quantity.toFixed(q),
    marketUnit: '',
    nextPageCursor: '',
  };
}

function executionOfFunding(ledger: Ledger, funding: FundingPayment) {
  const contract = ledger.contract(funding.symbol) as Contract;
  const d = decimalsOf(contract.tickSize);
  const q = decimalsOf(contract.qtyStep);
  const size = Math.abs(funding.positionQty);
  return {
    symbol: funding.symbol,
    orderType: 'UNKNOWN',
    underlyingPrice: '',
    orderLinkId: '',
    orderId: `funding-${funding.seq}`,
    stopOrderType: 'UNKNOWN',
    execTime: String(funding.time),
    feeCurrency: '',
    createType: '',
    feeRate: funding.rate.toFixed(8),
    tradeIv: '',
    blockTradeId: '',
    markPrice: funding.markPrice.toFixed(d),
    execPrice: funding.markPrice.toFixed(d),
    markIv: '',
    orderQty: '0',
    orderPrice: '0',
    execValue: money(contract.kind === 'linear' ? size * funding.markPrice : size / funding.markPrice),
    closedSize: '0',
    execType: 'Funding',
    seq: String(funding.seq),
    side: funding.positionQty > 0 ? 'Buy' : 'Sell',
    indexPrice: '',
    leavesQty: '0',
    isMaker: false,
    // Bybit's execFee is what the account paid: positive when it paid, negative when it received.
    execFee: money(-funding.amount),
    execId: `funding-${funding.seq}`,
    execQty: size.toFixed(q),
    marketUnit: '',
    nextPageCursor: '',
  };
}
