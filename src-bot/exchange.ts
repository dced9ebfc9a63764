// The bot's one exchange, through ccxt's unified methods: the only file that knows ccxt. Everything the
// trader needs is here in the bot's words (candles, the position, an order by its client id), so the trading
// logic never sees an exchange's quirks.
import type { Exchange, OHLCV, Order, Position as CcxtPosition, Trade } from 'ccxt';
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import type { MarginMode } from '../src-shared/bot-instance.ts';
import type { KeyCheckReport, SealedCredentials } from '../src-shared/exchange-keys.ts';
import type { ExchangeId } from '../src-shared/exchanges.ts';
import {
  BINANCE_DEMO_KEY_REPORT,
  BinanceRestrictions,
  BybitKeyInfo,
  judgeBinance,
  judgeBybit,
  judgeKrakenFutures,
  KrakenFuturesKeyInfo,
} from '../src-shared/key-permissions.ts';
import type { Candle } from '../src-shared/market-series.ts';
import { loadCcxtErrors, loadExchangeClass, type CcxtErrors } from './egress.ts';

export type Side = 'long' | 'short';

export interface HeldPosition {
  side: Side;
  /** In the engine's units: base currency for linear contracts, 1-USD contracts for inverse ones. */
  quantity: number;
  entryPrice: number;
}

export interface PlacedOrder {
  id: string;
  clientOrderId: string;
  /** Filled so far, engine units. */
  filled: number;
  averagePrice: number | null;
  fee: number;
  time: number;
  done: boolean;
}

/** What the exchange says about a request that did not go through, in the bot's terms. */
export type ExchangeFailure =
  /** Unreachable, dropped, 5xx, timed out or rate limited: try again (an order: look it up first). */
  | 'transient'
  /** The exchange refused the order itself (margin, size, reduce-only): do not repeat it. */
  | 'refused'
  /** The client order id exists already: the order went through before. */
  | 'duplicate'
  /** The key was refused (invalid, expired, wrong IP, no permission). */
  | 'auth'
  | 'other';

const KRAKEN_FUTURES_KEY_CHECK = 'api-keys/v3/check';

/** A Kraken Futures fill as the exchange sends it: ccxt leaves an inverse fill's size (in contracts) unparsed. */
const KrakenFuturesFill = z.object({ size: z.coerce.number().positive() });

function rewriteHosts(value: unknown, origin: string): unknown {
  if (typeof value === 'string') return value.replace(/^https?:\/\/[^/]+/, origin);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rewriteHosts(v, origin)]));
  return value;
}

/**
 * The average price of an order's fills (sizes in contracts). A linear contract's fills weigh by size; an inverse
 * contract is worth a fixed number of dollars, so its average is the harmonic one (the price at which the whole size
 * is worth what its parts cost in the coin), as the exchanges state an inverse position's entry price.
 */
export function averageFillPrice(kind: 'linear' | 'inverse', fills: readonly { size: number; price: number }[]): number {
  const size = fills.reduce((sum, f) => sum + f.size, 0);
  if (kind === 'linear') return fills.reduce((sum, f) => sum + f.size * f.price, 0) / size;
  return size / fills.reduce((sum, f) => sum + f.size / f.price, 0);
}

/** One of the account's fills in the bot's terms: sizes in contracts, the fee in the settlement currency. */
export interface AccountFill {
  orderId: string;
  clientOrderId: string | null;
  size: number;
  price: number;
  fee: number;
  time: number;
}

/**
 * The order with this client id as its fills tell it, or null when no fill names it. A market order is immediate or
 * cancel: what filled is all it will ever fill, so the order is done.
 */
export function orderFromFills(clientOrderId: string, fills: readonly AccountFill[], market: { kind: 'linear' | 'inverse'; contractSize: number }): PlacedOrder | null {
  const own = fills.filter((f) => f.clientOrderId === clientOrderId);
  const first = own[0];
  if (!first) return null;
  return {
    id: first.orderId,
    clientOrderId,
    filled: own.reduce((sum, f) => sum + f.size, 0) * market.contractSize,
    averagePrice: averageFillPrice(market.kind, own),
    fee: own.reduce((sum, f) => sum + f.fee, 0),
    time: Math.min(...own.map((f) => f.time)),
    done: true,
  };
}

/** A Kraken Futures fill as `/fills` lists it: it carries the order's client id. */
const KrakenFuturesAccountFill = z.object({
  order_id: z.string(),
  cliOrdId: z.string().nullish(),
  size: z.coerce.number().positive(),
  price: z.coerce.number().positive(),
  fillTime: z.string().datetime({ offset: true }),
});

export interface ExchangeSetup {
  exchange: ExchangeId;
  credentials: SealedCredentials;
  symbol: string;
  testnet: boolean;
  /** The simulator standing in for the exchange (local stack), or null for the real one. */
  exchangeUrl: string | null;
  dispatcher: Dispatcher;
  timeoutMs: number;
}

export class ExchangeClient {
  readonly exchange: ExchangeId;
  readonly symbol: string;
  readonly #ccxt: Exchange;
  /** The exchange's clock minus ours, so signed requests and candle closes follow the exchange's time. */
  #offsetMs = 0;
  #contractSize = 1;
  #inverse = false;
  readonly #errors: CcxtErrors;
  #marketsFailed = false;

  /** Binance demo trading: it has no key-permission endpoint. */
  #binanceDemo = false;

  private constructor(exchange: ExchangeId, symbol: string, ccxt: Exchange, errors: CcxtErrors) {
    this.exchange = exchange;
    this.symbol = symbol;
    this.#ccxt = ccxt;
    this.#errors = errors;
  }

  static async open(setup: ExchangeSetup): Promise<ExchangeClient> {
    const Class = await loadExchangeClass(setup.exchange);
    const { apiKey, secret, passphrase } = setup.credentials;
    // ccxt's client-side throttle would hold an order behind the candle requests just made. The bot's own pace
    // (a few requests per poll) is far below every exchange's limits, and a rate-limit answer is backed off.
    const ccxt = new Class({ apiKey, secret, ...(passphrase ? { password: passphrase } : {}), enableRateLimit: false, timeout: setup.timeoutMs });
    const client = new ExchangeClient(setup.exchange, setup.symbol, ccxt, await loadCcxtErrors());
    client.#binanceDemo = setup.exchange === 'binanceusdm' && setup.testnet && !setup.exchangeUrl;
    // ccxt's own HTTP path with our dispatcher: the egress proxy in a sandbox, a plain agent outside. ccxt makes its
    // own dispatcher when it first loads its HTTP client, so load that first, then replace the dispatcher.
    await ccxt.loadFetchImplementation();
    ccxt.fetchDispatcher = setup.dispatcher;
    ccxt.milliseconds = () => Date.now() + client.#offsetMs;
    ccxt.seconds = () => Math.floor(ccxt.milliseconds() / 1000);
    ccxt.nonce = () => ccxt.milliseconds();
    if (setup.exchangeUrl) {
      const origin = setup.exchangeUrl.replace(/\/$/, '');
      ccxt.urls.api = rewriteHosts(ccxt.urls.api, origin) as typeof ccxt.urls.api;
      if (setup.exchange === 'binanceusdm') {
        // ccxt picks Binance's error tables by production host name: classify our URLs as the hosts they stand for.
        const byProductionUrl = ccxt.getExceptionsByUrl.bind(ccxt);
        ccxt.getExceptionsByUrl = (url: string | undefined, exactOrBroad: string) => {
          if (!url?.startsWith(origin)) return byProductionUrl(url, exactOrBroad);
          const path = url.slice(origin.length);
          const host = /^\/(fapi|dapi|eapi|papi)\//.exec(path)?.[1] ?? 'api';
          return byProductionUrl(`https://${host}.binance.com${path}`, exactOrBroad);
        };
      }
    } else if (setup.testnet) {
      // Testnet as the egress allowlist names it (src-shared/exchange-hosts.ts): Binance's demo trading (its futures
      // testnet is retired), the sandboxes of Bybit and Kraken Futures. Nothing else of the exchange is reachable.
      if (setup.exchange === 'binanceusdm') ccxt.enableDemoTrading(true);
      else ccxt.setSandboxMode(true);
    }
    if (setup.exchange === 'krakenfutures') {
      const origin = /^https?:\/\/[^/]+/.exec(String(ccxt.urls.api.private))?.[0] ?? 'https://futures.kraken.com';
      ccxt.urls.api.auth = `${origin}/api/auth/`;
      ccxt.options.access = { ...ccxt.options.access, auth: { GET: { [KRAKEN_FUTURES_KEY_CHECK]: 'private' } } };
    }
    return client;
  }

  /** The exchange's time now (by our clock and the last measured offset). */
  now(): number {
    return Date.now() + this.#offsetMs;
  }

  /** Asks the exchange for its time and keeps the offset; returns the exchange's time. */
  async syncTime(): Promise<number> {
    const before = Date.now();
    // Kraken Futures has no time endpoint; its ticker carries the server's time.
    const serverTime = Number(this.#ccxt.has.fetchTime ? await this.#ccxt.fetchTime() : (await this.#ccxt.fetchTicker(this.symbol)).timestamp);
    if (!Number.isFinite(serverTime)) throw new Error(`${this.exchange} did not say what time it is`);
    const after = Date.now();
    this.#offsetMs = serverTime - Math.round((before + after) / 2);
    return serverTime;
  }

  async loadMarket(): Promise<void> {
    // ccxt keeps a failed load's promise: another attempt must ask for a reload, or it gets the same failure again.
    try {
      await this.#ccxt.loadMarkets(this.#marketsFailed);
    } catch (error) {
      this.#marketsFailed = true;
      throw error;
    }
    this.#marketsFailed = false;
    const market = this.#ccxt.market(this.symbol);
    this.#contractSize = market.contractSize ?? 1;
    this.#inverse = market.inverse === true;
  }

  /** The key's own permissions, judged by the shared rule set; throws KeyPermissionRefusal. */
  async checkKey(): Promise<KeyCheckReport> {
    // As the desktop pre-check: a demo key cannot be asked about, and it reaches no real funds.
    if (this.#binanceDemo) return BINANCE_DEMO_KEY_REPORT;
    if (this.exchange === 'binanceusdm') return judgeBinance(BinanceRestrictions.parse(await this.#ccxt.sapiGetAccountApiRestrictions()));
    if (this.exchange === 'bybit') return judgeBybit(BybitKeyInfo.parse(((await this.#ccxt.privateGetV5UserQueryApi()) as { result?: unknown }).result));
    return judgeKrakenFutures(KrakenFuturesKeyInfo.parse(await this.#ccxt.request(KRAKEN_FUTURES_KEY_CHECK, 'auth', 'GET', { version: 'v1' })));
  }

  /**
   * Margin mode, then leverage. Kraken Futures has no margin-mode call: a symbol with a leverage set trades
   * isolated, one without trades cross at its margin tier, so cross there means leaving the leverage unset.
   */
  async applyMarginAndLeverage(mode: MarginMode, leverage: number): Promise<void> {
    if (!this.#ccxt.has.setMarginMode) {
      if (mode === 'isolated') await this.#ccxt.setLeverage(leverage, this.symbol);
      return;
    }
    await this.#setMarginMode(mode);
    try {
      await this.#ccxt.setLeverage(leverage, this.symbol);
    } catch (error) {
      // Already at that leverage (a restart): Bybit refuses the change with "Set leverage not modified" (110043).
      if (error instanceof Error && /110043|not modified/i.test(error.message)) return;
      throw error;
    }
  }

  async #setMarginMode(mode: MarginMode): Promise<void> {
    try {
      await this.#ccxt.setMarginMode(mode, this.symbol);
    } catch (error) {
      // Already in that mode: Binance refuses the change with "No need to change margin type" (-4046).
      if (error instanceof Error && /-4046|No need to change margin type|not modified/i.test(error.message)) return;
      // Bybit refuses any change of a unified account's mode while a position is open (3400045), as after a restart
      // with the position adopted: the refusal is harmless when the account already has the mode asked for.
      if (this.#ccxt.has.fetchMarginMode && (await this.#ccxt.fetchMarginMode(this.symbol)).marginMode === mode) return;
      throw error;
    }
  }

  /** Closed candles of `timeframe` opening at or after `since`, oldest first: the forming one is left out. */
  async closedCandles(timeframe: string, timeframeMs: number, since: number, limit: number): Promise<Candle[]> {
    const rows: OHLCV[] = await this.#ccxt.fetchOHLCV(this.symbol, timeframe, since, limit);
    const now = this.now();
    return rows
      .map(([time, open, high, low, close, volume]) => ({ time: Number(time), open: Number(open), high: Number(high), low: Number(low), close: Number(close), volume: Number(volume ?? 0) }))
      .filter((c) => c.time >= since && c.time + timeframeMs <= now);
  }

  /** The balance in the settlement currency: wallet plus unrealised PnL. */
  async equity(settle: string): Promise<number> {
    // Kraken Futures keeps each inverse contract's coin in its own margin account, named in lower case after the
    // contract (PI_XBTUSD: fi_xbtusd); ccxt's own name for it keeps the id's case, so it is named here.
    const account = this.exchange === 'krakenfutures' && settle !== 'USD' ? { type: `fi_${((this.#ccxt.market(this.symbol).id ?? '').split('_')[1] ?? '').toLowerCase()}` } : {};
    const balance = await this.#ccxt.fetchBalance(account);
    const total = (balance.total as unknown as Record<string, number | undefined>)[settle];
    return Number(total ?? 0);
  }

  async position(): Promise<HeldPosition | null> {
    const positions: CcxtPosition[] = await this.#ccxt.fetchPositions([this.symbol]);
    const held = positions.find((p) => p.symbol === this.symbol && Number(p.contracts ?? 0) > 0);
    if (!held) return null;
    return {
      side: held.side === 'short' ? 'short' : 'long',
      quantity: this.#toEngine(Number(held.contracts)),
      entryPrice: Number(held.entryPrice),
    };
  }

  /** Open orders on the symbol: id and client id. */
  async openOrders(): Promise<{ id: string; clientOrderId: string | null }[]> {
    const orders = await this.#ccxt.fetchOpenOrders(this.symbol);
    return orders.map((o) => ({ id: String(o.id), clientOrderId: o.clientOrderId ?? null }));
  }

  async cancel(id: string): Promise<void> {
    await this.#ccxt.cancelOrder(id, this.symbol);
  }

  /** Rounds an engine quantity down to what the exchange accepts; 0 when too small to trade. */
  tradable(quantity: number): number {
    const amount = Number(this.#ccxt.amountToPrecision(this.symbol, this.#toExchange(quantity)));
    const minimum = this.#ccxt.market(this.symbol).limits.amount?.min ?? 0;
    return amount >= minimum && amount > 0 ? this.#toEngine(amount) : 0;
  }

  async placeMarket(order: { side: 'buy' | 'sell'; quantity: number; clientOrderId: string; reduceOnly: boolean }): Promise<PlacedOrder> {
    const placed = await this.#ccxt.createOrder(this.symbol, 'market', order.side, this.#toExchange(order.quantity), undefined, {
      clientOrderId: order.clientOrderId,
      ...(order.reduceOnly ? { reduceOnly: true } : {}),
    });
    const described = this.#describe(placed, order.clientOrderId);
    // Bybit v5 answers a create with the order's ids only, no status; a market order has filled by then, so one
    // look-up at once reads it filled instead of the trader's timed follow-up.
    if (placed.status === undefined || placed.status === null) {
      const found = await this.findOrder(order.clientOrderId).catch(() => null);
      if (found) return found;
    }
    // The order is placed: if its fills cannot be read now, it is followed up by its client id like any unfinished one.
    return this.#priced(placed, described).catch(() => described);
  }

  /** The order with this client id, or null when the exchange has none. */
  async findOrder(clientOrderId: string): Promise<PlacedOrder | null> {
    try {
      const found = await this.#orderByClientId(clientOrderId);
      if (found) return await this.#priced(found, this.#describe(found, clientOrderId));
      return this.exchange === 'krakenfutures' ? await this.#krakenOrderFromFills(clientOrderId) : null;
    } catch (error) {
      if (this.classify(error) === 'refused') return null;
      throw error;
    }
  }

  /**
   * Kraken Futures' order status "returns information on specified orders which are open or were filled/cancelled in
   * the last 5 seconds" (docs.kraken.com, Get Specific Orders' Status), and a finished order's client id may be sent
   * again: a look-up after a longer outage or a restart must read the account's fills, which keep the client id, before
   * the trader may send the order again.
   */
  async #krakenOrderFromFills(clientOrderId: string): Promise<PlacedOrder | null> {
    const trades = await this.#ccxt.fetchMyTrades(this.symbol);
    const fills = trades.map((t) => {
      const info = KrakenFuturesAccountFill.parse(t.info);
      return { orderId: info.order_id, clientOrderId: info.cliOrdId ?? null, size: info.size, price: info.price, fee: Number(t.fee?.cost ?? 0), time: Date.parse(info.fillTime) };
    });
    return orderFromFills(clientOrderId, fills, { kind: this.#inverse ? 'inverse' : 'linear', contractSize: this.#contractSize });
  }

  async #orderByClientId(clientOrderId: string): Promise<Order | null> {
    if (this.exchange === 'krakenfutures') {
      // Kraken's order status takes a list of client ids (`cliOrdIds`); an id it does not know is left out of the answer.
      const orders = await this.#ccxt.fetchOrders(this.symbol, undefined, undefined, { cliOrdIds: [clientOrderId] });
      return orders.find((o) => o.clientOrderId === clientOrderId) ?? null;
    }
    const params =
      this.exchange === 'binanceusdm'
        ? { origClientOrderId: clientOrderId }
        : // Bybit finds an order this way among the account's last 500, which a bot's own orders are.
          { orderLinkId: clientOrderId, acknowledged: true };
    return this.#ccxt.fetchOrder('', this.symbol, params);
  }

  /** The fee of an order from its trades (an order answer may not carry it), settlement currency. */
  async feeOf(orderId: string, since: number): Promise<number | null> {
    const own = await this.#fillsOf(orderId, since);
    if (own.length === 0) return null;
    return own.reduce((sum, t) => sum + Number(t.fee?.cost ?? 0), 0);
  }

  async #fillsOf(orderId: string, since: number): Promise<Trade[]> {
    const trades = await this.#ccxt.fetchMyTrades(this.symbol, since - 60_000, undefined, this.exchange === 'binanceusdm' ? { orderId } : {});
    return trades.filter((t) => String(t.order) === orderId);
  }

  /**
   * An answer that says the order traded (closed, a filled size, or executions) but gives no price: ccxt reads none
   * from Kraken Futures' order status, nor any size from its inverse contracts' executions. The order's fills on the
   * exchange say what it filled, at what price and fee, so the bot need not wait for an answer that never has them.
   */
  async #priced(answer: Order, order: PlacedOrder): Promise<PlacedOrder> {
    const traded = order.done || order.filled > 0 || (answer.trades?.length ?? 0) > 0;
    if (order.averagePrice !== null || !traded) return order;
    const fills = await this.#fillsOf(order.id, order.time);
    if (fills.length === 0) return order;
    const parts = fills.map((t) => ({ size: typeof t.amount === 'number' ? t.amount : KrakenFuturesFill.parse(t.info).size, price: Number(t.price) }));
    const contracts = parts.reduce((sum, part) => sum + part.size, 0);
    const requested = Number(answer.amount ?? Number.POSITIVE_INFINITY);
    return {
      ...order,
      filled: this.#toEngine(contracts),
      averagePrice: averageFillPrice(this.#inverse ? 'inverse' : 'linear', parts),
      fee: fills.reduce((sum, t) => sum + Number(t.fee?.cost ?? 0), 0),
      done: order.done || contracts >= requested,
    };
  }

  /** The exchange refused a signed request's timestamp: our reading of its clock was off, not the key. */
  isClockRefusal(error: unknown): boolean {
    return error instanceof this.#errors.InvalidNonce;
  }

  classify(error: unknown): ExchangeFailure {
    const e = this.#errors;
    const message = error instanceof Error ? error.message : '';
    if (/-4116|ClientOrderId is duplicated|duplicate client|orderLinkId.*(exist|repeat)/i.test(message)) return 'duplicate';
    if (error instanceof e.NetworkError) return 'transient';
    if (error instanceof e.InsufficientFunds || error instanceof e.InvalidOrder || error instanceof e.BadRequest || error instanceof e.OperationRejected) return 'refused';
    if (error instanceof e.AuthenticationError) return 'auth';
    return 'other';
  }

  #toExchange(quantity: number): number {
    return quantity / this.#contractSize;
  }

  #toEngine(amount: number): number {
    return amount * this.#contractSize;
  }

  #describe(order: Order, clientOrderId: string): PlacedOrder {
    const filled = this.#toEngine(Number(order.filled ?? 0));
    return {
      id: String(order.id),
      clientOrderId: order.clientOrderId ?? clientOrderId,
      filled,
      averagePrice: order.average !== undefined && Number(order.average) > 0 ? Number(order.average) : null,
      fee: Number(order.fee?.cost ?? 0),
      time: Number(order.timestamp ?? order.lastTradeTimestamp ?? this.now()),
      done: order.status === 'closed' || order.status === 'canceled' || order.status === 'rejected' || order.status === 'expired',
    };
  }
}
