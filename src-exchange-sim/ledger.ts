// The exchange-neutral trading core: accounts, orders, fills, positions, margin, funding and
// liquidation for linear (settled in the quote asset) and inverse (settled in the coin) perpetuals.
// Each exchange's routes are a thin dialect over one Ledger; the accounting lives here once.
//
// Prices come from the shared deterministic market (src-shared/market-series.ts), rounded to each
// contract's tick as an exchange reports them. Between minutes the price stands still: a market order
// fills at the last minute's close (= the next minute's open), and resting orders, triggers and
// liquidations are matched against each 1-minute candle once it has closed on the simulator clock.
import { randomUUID } from 'node:crypto';
import { FUNDING_INTERVAL_MS, MINUTE_MS, defaultSeries, type Candle, type MarketSeries } from '../src-shared/market-series.ts';
import type { SimClock } from './clock.ts';

export type ContractKind = 'linear' | 'inverse';
export type Side = 'buy' | 'sell';
export type MarginMode = 'cross' | 'isolated';

/** One perpetual as the core trades it. Quantities are in contracts: 1 coin (linear) or 1 USD (inverse). */
export interface Contract {
  /** The exchange's own id, e.g. BTCUSDT, PF_XBTUSD, PI_XBTUSD. */
  symbol: string;
  base: string;
  kind: ContractKind;
  /** The asset margin, PnL, fees and funding are settled in. */
  settle: string;
  tickSize: number;
  qtyStep: number;
  minQty: number;
  maxQty: number;
  /** Smallest order value in the quote currency (USD/USDT); 0 = none. */
  minNotional: number;
  maxLeverage: number;
  maintenanceRate: number;
  takerFee: number;
  makerFee: number;
}

export interface Trigger {
  price: number;
  /** 'rise': fires when the price reaches it from below; 'fall': from above. */
  direction: 'rise' | 'fall';
}

export interface SimOrder {
  /** Sequence number, for exchanges whose ids are integers. */
  seq: number;
  /** UUID, for exchanges whose ids are strings. */
  id: string;
  clientId: string | undefined;
  symbol: string;
  side: Side;
  type: 'market' | 'limit';
  /** The limit price (limit orders only). */
  price: number | undefined;
  trigger: Trigger | undefined;
  triggeredAt: number | undefined;
  quantity: number;
  filled: number;
  /** Average fill price; 0 until filled. */
  averagePrice: number;
  reduceOnly: boolean;
  postOnly: boolean;
  status: 'open' | 'filled' | 'cancelled';
  /** Why a cancelled order was cancelled: by the owner, a reduce-only order with nothing to reduce, a post-only order that would have taken. */
  cancelReason: 'owner' | 'reduce-only' | 'post-only' | undefined;
  createdAt: number;
  updatedAt: number;
}

export interface SimFill {
  seq: number;
  id: string;
  orderSeq: number;
  orderId: string;
  clientId: string | undefined;
  symbol: string;
  side: Side;
  quantity: number;
  price: number;
  fee: number;
  feeAsset: string;
  /** PnL this fill realised (closing part only), before the fee. */
  realisedPnl: number;
  maker: boolean;
  liquidation: boolean;
  time: number;
}

export interface FundingPayment {
  seq: number;
  symbol: string;
  time: number;
  rate: number;
  markPrice: number;
  /** The signed position it was charged on. */
  positionQty: number;
  /** Signed: positive is received, negative is paid. */
  amount: number;
  asset: string;
}

export interface PositionView {
  symbol: string;
  /** Signed contracts: positive long, negative short. */
  quantity: number;
  entryPrice: number;
  markPrice: number;
  unrealisedPnl: number;
  /** PnL realised since the account opened, fees and funding not included. */
  realisedPnl: number;
  leverage: number;
  marginMode: MarginMode;
  initialMargin: number;
  maintenanceMargin: number;
  /** 0 when the position cannot be liquidated (or there is none). */
  liquidationPrice: number;
  /** Position value in the settle asset at the mark price. */
  value: number;
  /** Position value in the quote currency at the mark price. */
  notional: number;
  openedAt: number;
  updatedAt: number;
}

export interface BalanceView {
  asset: string;
  wallet: number;
  unrealisedPnl: number;
  positionMargin: number;
  orderMargin: number;
  maintenanceMargin: number;
  available: number;
  equity: number;
  realisedPnl: number;
}

export type OrderRefusal =
  | 'unknown-symbol'
  | 'too-small'
  | 'too-large'
  | 'bad-quantity-step'
  | 'bad-price'
  | 'insufficient-margin'
  | 'duplicate-client-id'
  | 'reduce-only-rejected'
  | 'post-only-would-take'
  | 'would-trigger-immediately';

export interface OrderRequest {
  symbol: string;
  side: Side;
  type: 'market' | 'limit';
  quantity: number;
  price?: number | undefined;
  trigger?: Trigger | undefined;
  reduceOnly?: boolean | undefined;
  postOnly?: boolean | undefined;
  clientId?: string | undefined;
  /** Kraken Futures checks a client id only against the account's open orders: a finished order's id may be used again. */
  clientIdUniqueAmongOpen?: boolean | undefined;
  /** Binance refuses a stop that would fire at once; the others accept it and fire it. */
  refuseImmediateTrigger?: boolean | undefined;
  /** Bybit accepts a post-only order that would take and cancels it at once; the others refuse it. */
  cancelPostOnlyTaker?: boolean | undefined;
}

interface Position {
  quantity: number;
  entryPrice: number;
  /** Margin set aside for an isolated position (at the entry prices). */
  isolatedMargin: number;
  openedAt: number;
  updatedAt: number;
}

interface SymbolSettings {
  leverage: number;
  marginMode: MarginMode;
}

interface Account {
  wallet: Map<string, number>;
  realised: Map<string, number>;
  positions: Map<string, Position>;
  realisedBySymbol: Map<string, number>;
  settings: Map<string, SymbolSettings>;
  orders: SimOrder[];
  /** The orders still open, so matching each minute does not walk the account's whole history. */
  open: Set<SimOrder>;
  byClientId: Map<string, SimOrder>;
  fills: SimFill[];
  funding: FundingPayment[];
}

export interface LedgerOptions {
  clock: SimClock;
  contracts: readonly Contract[];
  /** The leverage and margin mode of a symbol nobody has configured yet. */
  defaults: (contract: Contract) => SymbolSettings;
  /** One series per base asset, shared by every exchange so a coin has one price. */
  market: MarketData;
}

/** How many minute prices MarketData remembers: reading one regenerates its 12-hour block. */
const PRICE_CACHE_SIZE = 4096;

/** The shared deterministic market, one series per base asset, made on first use. */
export class MarketData {
  readonly #series = new Map<string, MarketSeries>();
  readonly #prices = new Map<string, number>();

  /** The series' last price at `ms` (constant within a minute), remembered. */
  priceAt(base: string, ms: number): number {
    const key = `${base}:${Math.floor(ms / MINUTE_MS)}`;
    let price = this.#prices.get(key);
    if (price === undefined) {
      price = this.series(base).priceAt(ms);
      if (this.#prices.size >= PRICE_CACHE_SIZE) this.#prices.clear();
      this.#prices.set(key, price);
    }
    return price;
  }

  series(base: string): MarketSeries {
    let series = this.#series.get(base);
    if (!series) {
      series = defaultSeries(base);
      this.#series.set(base, series);
    }
    return series;
  }
}

const EPSILON = 1e-9;
/** How many minutes settle() matches per step, to keep memory flat when the clock jumps far. */
const SETTLE_CHUNK_MINUTES = 1440;

export const roundTo = (value: number, step: number): number => {
  const decimals = decimalsOf(step);
  return Number((Math.round(value / step) * step).toFixed(decimals));
};

export function decimalsOf(step: number): number {
  const text = String(step);
  if (text.includes('e-')) return Number(text.split('e-')[1]);
  return text.split('.')[1]?.length ?? 0;
}

const isMultiple = (value: number, step: number) => Math.abs(value / step - Math.round(value / step)) < 1e-6;

/** Position value in the settle asset: coins × price (linear) or USD ÷ price (inverse). */
export function settleValue(contract: Contract, quantity: number, price: number): number {
  return contract.kind === 'linear' ? quantity * price : quantity / price;
}

/** Value in the quote currency (USD/USDT). */
export function quoteValue(contract: Contract, quantity: number, price: number): number {
  return contract.kind === 'linear' ? quantity * price : quantity;
}

/** PnL in the settle asset of closing `quantity` contracts of a position held in `direction`. */
export function pnlOf(contract: Contract, direction: 1 | -1, quantity: number, entry: number, exit: number): number {
  return contract.kind === 'linear' ? direction * quantity * (exit - entry) : direction * quantity * (1 / entry - 1 / exit);
}

export class Ledger {
  readonly #clock: SimClock;
  readonly #contracts: Map<string, Contract>;
  readonly #defaults: LedgerOptions['defaults'];
  readonly #market: MarketData;
  readonly #accounts = new Map<string, Account>();
  /** Every minute that closed before this time has been matched. */
  #settledTo: number;
  #seq = 0;

  constructor(options: LedgerOptions) {
    this.#clock = options.clock;
    this.#contracts = new Map(options.contracts.map((c) => [c.symbol, c]));
    this.#defaults = options.defaults;
    this.#market = options.market;
    this.#settledTo = Math.floor(this.#clock.now() / MINUTE_MS) * MINUTE_MS;
    options.clock.onChange(() => this.settle());
  }

  now(): number {
    return this.#clock.now();
  }

  contract(symbol: string): Contract | undefined {
    return this.#contracts.get(symbol);
  }

  contracts(): Contract[] {
    return [...this.#contracts.values()];
  }

  /** The last traded price, on the contract's tick. */
  price(contract: Contract, at = this.#clock.now()): number {
    return roundTo(this.#market.priceAt(contract.base, at), contract.tickSize);
  }

  /**
   * Candles of `timeframeMs` opening in [from, to), prices on the contract's tick. The last one may be
   * the candle still forming, as exchanges send it: built from the minutes closed so far, never later ones.
   */
  candles(contract: Contract, timeframeMs: number, from: number, to: number): Candle[] {
    const now = this.#clock.now();
    const forming = Math.floor(now / timeframeMs) * timeframeMs;
    const series = this.#market.series(contract.base);
    const out = series.candles(timeframeMs, from, Math.min(to, forming)).map((c) => this.#onTick(contract, c));
    if (forming >= from && forming < to) {
      const closed = series.candles(MINUTE_MS, forming, Math.floor(now / MINUTE_MS) * MINUTE_MS);
      const open = series.priceAt(forming);
      out.push(
        this.#onTick(contract, {
          time: forming,
          open,
          high: Math.max(open, ...closed.map((m) => m.high)),
          low: Math.min(open, ...closed.map((m) => m.low)),
          close: closed.at(-1)?.close ?? open,
          volume: closed.reduce((sum, m) => sum + m.volume, 0),
        }),
      );
    }
    return out;
  }

  /**
   * At most `limit` candles between `start` and `end` (default: now). When both bounds are given,
   * `anchor` says which end the exchange counts from; only that window is generated, whatever range
   * a client asks for.
   */
  candleWindow(contract: Contract, timeframeMs: number, window: { start?: number | undefined; end?: number | undefined; limit: number; anchor: 'start' | 'end' }): Candle[] {
    const { start, end, limit } = window;
    const latest = Math.min(this.#clock.now() + timeframeMs, end === undefined ? Infinity : end + 1);
    if (start !== undefined && (end === undefined || window.anchor === 'start')) {
      // Counting starts at the first candle that exists, as it does for a contract listed after `start`.
      const first = Math.max(start, this.#market.series(contract.base).spec.originMs);
      return this.candles(contract, timeframeMs, first, Math.min(latest, first + limit * timeframeMs));
    }
    const from = Math.max(start ?? 0, latest - (limit + 1) * timeframeMs);
    return this.candles(contract, timeframeMs, from, latest).slice(-limit);
  }

  fundingRate(contract: Contract, at = this.#clock.now()): number {
    return this.#market.series(contract.base).fundingRate(at);
  }

  #onTick(contract: Contract, c: Candle): Candle {
    const tick = contract.tickSize;
    return { time: c.time, open: roundTo(c.open, tick), high: roundTo(c.high, tick), low: roundTo(c.low, tick), close: roundTo(c.close, tick), volume: c.volume };
  }

  openAccount(id: string, balances: Record<string, number>): void {
    if (this.#accounts.has(id)) return;
    this.#accounts.set(id, {
      wallet: new Map(Object.entries(balances)),
      realised: new Map(),
      positions: new Map(),
      realisedBySymbol: new Map(),
      settings: new Map(),
      orders: [],
      open: new Set(),
      byClientId: new Map(),
      fills: [],
      funding: [],
    });
  }

  closeAccount(id: string): void {
    this.#accounts.delete(id);
  }

  #account(id: string): Account {
    const account = this.#accounts.get(id);
    if (!account) throw new Error('no simulated account for this key');
    return account;
  }

  settings(accountId: string, contract: Contract): SymbolSettings {
    return this.#settingsOf(this.#account(accountId), contract);
  }

  #settingsOf(account: Account, contract: Contract): SymbolSettings {
    return account.settings.get(contract.symbol) ?? this.#defaults(contract);
  }

  /** Sets leverage; false when it is outside the contract's range. */
  setLeverage(accountId: string, contract: Contract, leverage: number): boolean {
    if (!(leverage >= 1 && leverage <= contract.maxLeverage)) return false;
    const account = this.#account(accountId);
    account.settings.set(contract.symbol, { ...this.settings(accountId, contract), leverage });
    return true;
  }

  /** 'unchanged' if already so; 'busy' while the symbol has a position or open orders (exchanges refuse then). */
  setMarginMode(accountId: string, contract: Contract, marginMode: MarginMode): 'ok' | 'unchanged' | 'busy' {
    const account = this.#account(accountId);
    const current = this.settings(accountId, contract);
    if (current.marginMode === marginMode) return 'unchanged';
    const position = account.positions.get(contract.symbol);
    if ((position && position.quantity !== 0) || [...account.open].some((o) => o.symbol === contract.symbol)) return 'busy';
    account.settings.set(contract.symbol, { ...current, marginMode });
    return 'ok';
  }

  orders(accountId: string): readonly SimOrder[] {
    return this.#account(accountId).orders;
  }

  order(accountId: string, by: { id?: string | undefined; seq?: number | undefined; clientId?: string | undefined }): SimOrder | undefined {
    const account = this.#account(accountId);
    if (by.clientId !== undefined) return account.byClientId.get(by.clientId);
    return account.orders.find((o) => (by.id !== undefined && o.id === by.id) || (by.seq !== undefined && o.seq === by.seq));
  }

  fills(accountId: string): readonly SimFill[] {
    return this.#account(accountId).fills;
  }

  funding(accountId: string): readonly FundingPayment[] {
    return this.#account(accountId).funding;
  }

  assets(accountId: string): string[] {
    const account = this.#account(accountId);
    const assets = new Set([...account.wallet.keys(), ...this.contracts().map((c) => c.settle)]);
    return [...assets];
  }

  placeOrder(accountId: string, request: OrderRequest): { order: SimOrder } | { refusal: OrderRefusal } {
    this.settle();
    const account = this.#account(accountId);
    const contract = this.#contracts.get(request.symbol);
    if (!contract) return { refusal: 'unknown-symbol' };
    const namesake = request.clientId === undefined ? undefined : account.byClientId.get(request.clientId);
    if (namesake && (!request.clientIdUniqueAmongOpen || namesake.status === 'open')) return { refusal: 'duplicate-client-id' };
    const { quantity, side } = request;
    if (!(quantity > 0) || !isMultiple(quantity, contract.qtyStep)) return { refusal: 'bad-quantity-step' };
    if (quantity < contract.minQty - EPSILON) return { refusal: 'too-small' };
    if (quantity > contract.maxQty + EPSILON) return { refusal: 'too-large' };
    if (request.type === 'limit' && !(request.price !== undefined && request.price > 0 && isMultiple(request.price, contract.tickSize))) return { refusal: 'bad-price' };
    if (request.trigger && !(request.trigger.price > 0)) return { refusal: 'bad-price' };

    const now = this.#clock.now();
    const mark = this.price(contract, now);
    const reference = request.type === 'limit' ? (request.price as number) : mark;
    const position = account.positions.get(contract.symbol);
    const held = position?.quantity ?? 0;
    const direction = side === 'buy' ? 1 : -1;
    const reducible = held * direction < 0 ? Math.abs(held) : 0;
    if (request.reduceOnly && reducible === 0 && !request.trigger) return { refusal: 'reduce-only-rejected' };
    if (!request.reduceOnly && contract.minNotional > 0 && quoteValue(contract, quantity, reference) < contract.minNotional - EPSILON) return { refusal: 'too-small' };

    const fires = request.trigger ? this.#fires(request.trigger, mark, mark) : false;
    if (request.trigger && fires && request.refuseImmediateTrigger) return { refusal: 'would-trigger-immediately' };
    const marketable = request.type === 'market' || (direction === 1 ? reference >= mark : reference <= mark);
    const postOnlyTakes = Boolean(request.postOnly && marketable && !request.trigger);
    if (postOnlyTakes && !request.cancelPostOnlyTaker) return { refusal: 'post-only-would-take' };

    if (!request.reduceOnly && !postOnlyTakes) {
      const settings = this.settings(accountId, contract);
      const opening = Math.max(0, quantity - reducible);
      const required = settleValue(contract, opening, reference) / settings.leverage + settleValue(contract, quantity, reference) * contract.takerFee;
      if (required > this.balance(accountId, contract.settle).available + EPSILON) return { refusal: 'insufficient-margin' };
    }

    const order: SimOrder = {
      seq: this.#nextSeq(),
      id: randomUUID(),
      clientId: request.clientId,
      symbol: contract.symbol,
      side,
      type: request.type,
      price: request.type === 'limit' ? request.price : undefined,
      trigger: request.trigger,
      triggeredAt: undefined,
      quantity,
      filled: 0,
      averagePrice: 0,
      reduceOnly: request.reduceOnly ?? false,
      postOnly: request.postOnly ?? false,
      status: 'open',
      cancelReason: undefined,
      createdAt: now,
      updatedAt: now,
    };
    account.orders.push(order);
    account.open.add(order);
    if (order.clientId !== undefined) account.byClientId.set(order.clientId, order);
    if (postOnlyTakes) this.#finish(account, order, 'cancelled', now, 'post-only');
    else if (!order.trigger && marketable) this.#execute(account, contract, order, mark, false, now);
    return { order };
  }

  /** Cancels an open order; returns it (whatever its state) or undefined if there is no such order. */
  cancelOrder(accountId: string, by: { id?: string | undefined; seq?: number | undefined; clientId?: string | undefined }): SimOrder | undefined {
    this.settle();
    const order = this.order(accountId, by);
    if (order && order.status === 'open') this.#finish(this.#account(accountId), order, 'cancelled', this.#clock.now(), 'owner');
    return order;
  }

  /** Cancels every open order that `matches`; returns the cancelled orders. */
  cancelAll(accountId: string, matches: (order: SimOrder) => boolean): SimOrder[] {
    this.settle();
    const account = this.#account(accountId);
    const cancelled = [...account.open].filter(matches);
    for (const order of cancelled) this.#finish(account, order, 'cancelled', this.#clock.now(), 'owner');
    return cancelled;
  }

  positions(accountId: string): PositionView[] {
    const account = this.#account(accountId);
    return [...account.positions.keys()].flatMap((symbol) => {
      const contract = this.#contracts.get(symbol);
      return contract ? [this.position(accountId, contract)] : [];
    });
  }

  position(accountId: string, contract: Contract): PositionView {
    const account = this.#account(accountId);
    const settings = this.settings(accountId, contract);
    const position = account.positions.get(contract.symbol);
    const quantity = position?.quantity ?? 0;
    const entryPrice = position?.entryPrice ?? 0;
    const mark = this.price(contract);
    const size = Math.abs(quantity);
    const value = quantity === 0 ? 0 : settleValue(contract, size, mark);
    const initialMargin = quantity === 0 ? 0 : settings.marginMode === 'isolated' ? (position?.isolatedMargin ?? 0) : value / settings.leverage;
    return {
      symbol: contract.symbol,
      quantity,
      entryPrice,
      markPrice: mark,
      unrealisedPnl: quantity === 0 ? 0 : pnlOf(contract, quantity > 0 ? 1 : -1, size, entryPrice, mark),
      realisedPnl: account.realisedBySymbol.get(contract.symbol) ?? 0,
      leverage: settings.leverage,
      marginMode: settings.marginMode,
      initialMargin,
      maintenanceMargin: value * contract.maintenanceRate,
      liquidationPrice: quantity === 0 ? 0 : this.#liquidationPrice(account, contract, settings),
      value,
      notional: quantity === 0 ? 0 : quoteValue(contract, size, mark),
      openedAt: position?.openedAt ?? 0,
      updatedAt: position?.updatedAt ?? 0,
    };
  }

  balance(accountId: string, asset: string): BalanceView {
    return this.#balanceOf(this.#account(accountId), asset);
  }

  /** `marks` prices positions at a past minute while settling; otherwise the current price is used. */
  #balanceOf(account: Account, asset: string, marks?: ReadonlyMap<string, number>): BalanceView {
    const wallet = account.wallet.get(asset) ?? 0;
    let unrealisedPnl = 0;
    let crossPnl = 0;
    let positionMargin = 0;
    let maintenanceMargin = 0;
    for (const [symbol, position] of account.positions) {
      const contract = this.#contracts.get(symbol);
      if (!contract || contract.settle !== asset || position.quantity === 0) continue;
      const settings = this.#settingsOf(account, contract);
      const mark = marks?.get(symbol) ?? this.price(contract);
      const size = Math.abs(position.quantity);
      const pnl = pnlOf(contract, position.quantity > 0 ? 1 : -1, size, position.entryPrice, mark);
      unrealisedPnl += pnl;
      if (settings.marginMode === 'cross') crossPnl += pnl;
      positionMargin += settings.marginMode === 'isolated' ? position.isolatedMargin : settleValue(contract, size, mark) / settings.leverage;
      maintenanceMargin += settleValue(contract, size, mark) * contract.maintenanceRate;
    }
    const orderMargin = this.#orderMargin(account, asset);
    return {
      asset,
      wallet,
      unrealisedPnl,
      positionMargin,
      orderMargin,
      maintenanceMargin,
      available: Math.max(0, wallet + crossPnl - positionMargin - orderMargin),
      equity: wallet + unrealisedPnl,
      realisedPnl: account.realised.get(asset) ?? 0,
    };
  }

  /** Margin held for resting, untriggered-or-triggered limit orders that would open exposure. */
  #orderMargin(account: Account, asset: string): number {
    let margin = 0;
    for (const order of account.open) {
      if (order.reduceOnly || order.type !== 'limit' || (order.trigger && order.triggeredAt === undefined)) continue;
      const contract = this.#contracts.get(order.symbol);
      if (!contract || contract.settle !== asset) continue;
      const leverage = this.#settingsOf(account, contract).leverage;
      margin += settleValue(contract, order.quantity - order.filled, order.price as number) / leverage;
    }
    return margin;
  }

  /**
   * The price at which margin plus unrealised PnL falls to the maintenance margin. An isolated position
   * is backed by its own margin; a cross position by the wallet less what everything else uses.
   */
  #liquidationPrice(account: Account, contract: Contract, settings: SymbolSettings, marks?: ReadonlyMap<string, number>): number {
    const position = account.positions.get(contract.symbol);
    if (!position || position.quantity === 0) return 0;
    const q = Math.abs(position.quantity);
    const entry = position.entryPrice;
    const mmr = contract.maintenanceRate;
    let margin: number;
    if (settings.marginMode === 'isolated') {
      margin = position.isolatedMargin;
    } else {
      const balance = this.#balanceOf(account, contract.settle, marks);
      const mark = marks?.get(contract.symbol) ?? this.price(contract);
      const own = pnlOf(contract, position.quantity > 0 ? 1 : -1, q, entry, mark);
      const ownMargin = settleValue(contract, q, mark) / settings.leverage;
      margin = balance.available + ownMargin - own;
    }
    let price: number;
    if (contract.kind === 'linear') {
      price = position.quantity > 0 ? (q * entry - margin) / (q * (1 - mmr)) : (q * entry + margin) / (q * (1 + mmr));
    } else {
      const denominator = position.quantity > 0 ? margin + q / entry : q / entry - margin;
      price = denominator <= 0 ? 0 : (q * (position.quantity > 0 ? 1 + mmr : 1 - mmr)) / denominator;
    }
    return price > 0 && Number.isFinite(price) ? roundTo(price, contract.tickSize) : 0;
  }

  /**
   * Matches every minute that has closed since the last call: resting limits, triggers and
   * liquidations against each 1-minute candle, and funding at every 8-hour boundary.
   */
  settle(): void {
    const closedTo = Math.floor(this.#clock.now() / MINUTE_MS) * MINUTE_MS;
    while (this.#settledTo < closedTo) {
      const from = this.#settledTo;
      const to = Math.min(closedTo, from + SETTLE_CHUNK_MINUTES * MINUTE_MS);
      this.#settleRange(from, to);
      this.#settledTo = to;
    }
  }

  #settleRange(from: number, to: number): void {
    const active = this.contracts().filter((contract) =>
      [...this.#accounts.values()].some(
        (a) => (a.positions.get(contract.symbol)?.quantity ?? 0) !== 0 || [...a.open].some((o) => o.symbol === contract.symbol),
      ),
    );
    if (active.length === 0) return;
    const minutes = new Map(active.map((contract) => [contract.symbol, this.#market.series(contract.base).candles(MINUTE_MS, from, to).map((c) => this.#onTick(contract, c))]));
    for (let t = from; t < to; t += MINUTE_MS) {
      const index = (t - from) / MINUTE_MS;
      const marks = new Map(active.map((contract) => [contract.symbol, minutes.get(contract.symbol)?.[index]?.close ?? this.price(contract, t + MINUTE_MS)]));
      for (const contract of active) {
        const candle = minutes.get(contract.symbol)?.[index];
        if (candle) for (const account of this.#accounts.values()) this.#matchMinute(account, contract, candle, marks);
      }
      const close = t + MINUTE_MS;
      if (close % FUNDING_INTERVAL_MS === 0) {
        for (const contract of active) {
          const candle = minutes.get(contract.symbol)?.[index];
          if (candle) for (const account of this.#accounts.values()) this.#chargeFunding(account, contract, close, candle.close);
        }
      }
    }
  }

  #matchMinute(account: Account, contract: Contract, candle: Candle, marks: ReadonlyMap<string, number>): void {
    const closesAt = candle.time + MINUTE_MS;
    for (const order of account.open) {
      if (order.symbol !== contract.symbol || order.createdAt >= closesAt) continue;
      if (order.trigger && order.triggeredAt === undefined) {
        if (!this.#fires(order.trigger, candle.high, candle.low)) continue;
        order.triggeredAt = closesAt;
        const at = order.trigger.direction === 'rise' ? Math.max(order.trigger.price, candle.open) : Math.min(order.trigger.price, candle.open);
        const triggerPrice = roundTo(at, contract.tickSize);
        const limit = order.price;
        const takes = order.type === 'market' || (order.side === 'buy' ? (limit as number) >= triggerPrice : (limit as number) <= triggerPrice);
        if (takes) {
          this.#execute(account, contract, order, triggerPrice, false, closesAt);
          continue;
        }
      }
      if (order.type !== 'limit' || order.price === undefined) continue;
      const limit = order.price;
      if (order.side === 'buy' ? candle.low <= limit : candle.high >= limit) {
        // A limit resting since before this minute gets the better open if the market gapped through it;
        // one a stop placed during this minute was only there after the trigger, so gets its price.
        const gapped = order.triggeredAt === closesAt ? limit : order.side === 'buy' ? Math.min(limit, candle.open) : Math.max(limit, candle.open);
        this.#execute(account, contract, order, gapped, true, closesAt);
      }
    }
    const position = account.positions.get(contract.symbol);
    if (position && position.quantity !== 0) {
      const liquidation = this.#liquidationPrice(account, contract, this.#settingsOf(account, contract), marks);
      if (liquidation > 0 && (position.quantity > 0 ? candle.low <= liquidation : candle.high >= liquidation)) this.#liquidate(account, contract, liquidation, closesAt);
    }
  }

  #fires(trigger: Trigger, high: number, low: number): boolean {
    return trigger.direction === 'rise' ? high >= trigger.price : low <= trigger.price;
  }

  /** Fills an order in full (reduce-only orders only up to the position they reduce). */
  #execute(account: Account, contract: Contract, order: SimOrder, price: number, maker: boolean, time: number): void {
    const held = account.positions.get(contract.symbol)?.quantity ?? 0;
    const direction = order.side === 'buy' ? 1 : -1;
    let quantity = order.quantity - order.filled;
    if (order.reduceOnly) {
      const reducible = held * direction < 0 ? Math.abs(held) : 0;
      quantity = Math.min(quantity, reducible);
      if (quantity <= 0) {
        this.#finish(account, order, 'cancelled', time, 'reduce-only');
        return;
      }
    }
    const fill = this.#applyFill(account, contract, order.side, quantity, price, maker, time, false);
    order.averagePrice = (order.averagePrice * order.filled + price * quantity) / (order.filled + quantity);
    order.filled += quantity;
    this.#finish(account, order, 'filled', time, undefined);
    account.fills.push({ ...fill, orderSeq: order.seq, orderId: order.id, clientId: order.clientId });
  }

  #applyFill(account: Account, contract: Contract, side: Side, quantity: number, price: number, maker: boolean, time: number, liquidation: boolean): SimFill {
    const direction = side === 'buy' ? 1 : -1;
    const settings = this.#settingsOf(account, contract);
    const position = account.positions.get(contract.symbol) ?? { quantity: 0, entryPrice: 0, isolatedMargin: 0, openedAt: time, updatedAt: time };
    const held = position.quantity;
    let realised = 0;
    let opening = quantity;
    if (held * direction < 0) {
      const closing = Math.min(quantity, Math.abs(held));
      realised = pnlOf(contract, held > 0 ? 1 : -1, closing, position.entryPrice, price);
      position.isolatedMargin *= (Math.abs(held) - closing) / Math.abs(held);
      position.quantity += direction * closing;
      opening = quantity - closing;
      if (position.quantity === 0) position.entryPrice = 0;
    }
    if (opening > 0) {
      const size = Math.abs(position.quantity);
      if (size === 0) position.openedAt = time;
      position.entryPrice =
        contract.kind === 'linear'
          ? (size * position.entryPrice + opening * price) / (size + opening)
          : (size + opening) / ((size === 0 ? 0 : size / position.entryPrice) + opening / price);
      position.quantity += direction * opening;
      position.isolatedMargin += settleValue(contract, opening, price) / settings.leverage;
    }
    position.quantity = roundTo(position.quantity, contract.qtyStep);
    position.updatedAt = time;
    account.positions.set(contract.symbol, position);

    const fee = liquidation ? settleValue(contract, quantity, price) * contract.maintenanceRate : settleValue(contract, quantity, price) * (maker ? contract.makerFee : contract.takerFee);
    this.#credit(account, contract.settle, realised - fee);
    account.realised.set(contract.settle, (account.realised.get(contract.settle) ?? 0) + realised);
    account.realisedBySymbol.set(contract.symbol, (account.realisedBySymbol.get(contract.symbol) ?? 0) + realised);
    return {
      seq: this.#nextSeq(),
      id: randomUUID(),
      orderSeq: 0,
      orderId: '',
      clientId: undefined,
      symbol: contract.symbol,
      side,
      quantity,
      price,
      fee,
      feeAsset: contract.settle,
      realisedPnl: realised,
      maker,
      liquidation,
      time,
    };
  }

  /** Closes the whole position at its liquidation price; what maintenance margin is left goes as the liquidation fee. */
  #liquidate(account: Account, contract: Contract, price: number, time: number): void {
    const position = account.positions.get(contract.symbol);
    if (!position || position.quantity === 0) return;
    const side: Side = position.quantity > 0 ? 'sell' : 'buy';
    account.fills.push(this.#applyFill(account, contract, side, Math.abs(position.quantity), price, false, time, true));
    for (const order of account.open) {
      if (order.symbol === contract.symbol && order.reduceOnly) this.#finish(account, order, 'cancelled', time, 'reduce-only');
    }
  }

  #chargeFunding(account: Account, contract: Contract, time: number, markPrice: number): void {
    const position = account.positions.get(contract.symbol);
    if (!position || position.quantity === 0) return;
    // The rate settled at a boundary is the one for the interval that ends there.
    const rate = this.fundingRate(contract, time - 1);
    const amount = -(position.quantity > 0 ? 1 : -1) * rate * settleValue(contract, Math.abs(position.quantity), markPrice);
    this.#credit(account, contract.settle, amount);
    account.funding.push({ seq: this.#nextSeq(), symbol: contract.symbol, time, rate, markPrice, positionQty: position.quantity, amount, asset: contract.settle });
  }

  #finish(account: Account, order: SimOrder, status: 'filled' | 'cancelled', time: number, reason: SimOrder['cancelReason']): void {
    order.status = status;
    order.cancelReason = reason;
    order.updatedAt = time;
    account.open.delete(order);
  }

  #credit(account: Account, asset: string, amount: number): void {
    account.wallet.set(asset, (account.wallet.get(asset) ?? 0) + amount);
  }

  #nextSeq(): number {
    this.#seq += 1;
    return this.#seq;
  }
}
