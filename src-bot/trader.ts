// The live loop around the engine: candles in at each close (the exchange's clock), the engine decides,
// orders out with client ids derived from the run and the decision, fills back into the engine. It
// reconciles with the exchange on start and after every reconnect, and never places an order twice: an
// order whose answer was lost is looked up by its client id before anything is sent again.
import { Engine, grossPnl, type Decision, type EngineConfig } from '../src-engine/index.ts';
import type { BotInstanceSpec, DesiredState, InstanceReportBody } from '../src-shared/bot-instance.ts';
import { TIMEFRAMES, type Candle } from '../src-shared/market-series.ts';
import type { ExchangeFailure, HeldPosition, PlacedOrder, Side } from './exchange.ts';
import type { BotLog } from './log.ts';
import { clientOrderId, runOrderPrefix, type OrderPurpose } from './order-ids.ts';

/** What the trader needs of the exchange (ExchangeClient in the bot, the same in tests). */
export interface TradingVenue {
  now(): number;
  syncTime(): Promise<number>;
  closedCandles(timeframe: string, timeframeMs: number, since: number, limit: number): Promise<Candle[]>;
  equity(settle: string): Promise<number>;
  position(): Promise<HeldPosition | null>;
  openOrders(): Promise<{ id: string; clientOrderId: string | null }[]>;
  cancel(id: string): Promise<void>;
  tradable(quantity: number): number;
  placeMarket(order: { side: 'buy' | 'sell'; quantity: number; clientOrderId: string; reduceOnly: boolean }): Promise<PlacedOrder>;
  findOrder(clientOrderId: string): Promise<PlacedOrder | null>;
  feeOf(orderId: string, since: number): Promise<number | null>;
  classify(error: unknown): ExchangeFailure;
}

export interface TraderOptions {
  spec: BotInstanceSpec;
  venue: TradingVenue;
  report: (body: InstanceReportBody) => void;
  log: BotLog;
  describe: (error: unknown) => string;
  /** Waits `ms`, or less when the trader is asked to stop. */
  sleep: (ms: number) => Promise<void>;
  pollMs: number;
  /** Taker fee per side in basis points, for an order whose fee the exchange does not say. */
  takerFeeBps: number;
}

/** Raised when the trader cannot go on (the exchange refused the key, the settlement currency is unknown, …). */
export class TraderHalt extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'TraderHalt';
    this.code = code;
  }
}

const ORDER_ATTEMPTS = 8;
const BACKOFF_MS = { first: 200, max: 5_000 };
const MAX_CANDLES_PER_FETCH = 500;

const settleOf = (symbol: string) => symbol.split(':')[1] ?? '';
const sideToOrder = (side: Side, action: 'enter' | 'exit'): 'buy' | 'sell' => ((side === 'long') === (action === 'enter') ? 'buy' : 'sell');

export class Trader {
  readonly #o: TraderOptions;
  readonly #timeframeMs: number;
  readonly #engineConfig: EngineConfig;
  #engine: Engine | null = null;
  /** Open time of the last candle the engine took in. */
  #lastCandle = 0;
  #desired: DesiredState = 'running';
  #stopRequested = false;
  #disconnected = false;
  #reconcileAttempt = 0;

  constructor(options: TraderOptions) {
    this.#o = options;
    const { spec } = options;
    this.#timeframeMs = TIMEFRAMES[spec.timeframe];
    this.#engineConfig = {
      template: { ...spec.template, sizing: { equityPercent: spec.equityPercent ?? spec.template.sizing.equityPercent, leverage: spec.leverage } },
      timeframeMs: this.#timeframeMs,
      contract: spec.contract,
      limits: spec.limits,
    };
  }

  get desired(): DesiredState {
    return this.#desired;
  }

  setDesired(desired: DesiredState): void {
    this.#desired = desired;
    if (desired === 'stopping') this.#stopRequested = true;
  }

  /** No new positions from now on; `run` returns after the evaluation under way. */
  requestStop(): void {
    this.#stopRequested = true;
  }

  get stopping(): boolean {
    return this.#stopRequested;
  }

  /** The engine, its history warmed up, and the exchange reconciled: ready for the first close. */
  async prepare(): Promise<void> {
    const { venue, spec } = this.#o;
    const now = await venue.syncTime();
    const equity = await venue.equity(settleOf(spec.symbol));
    if (!(equity > 0)) throw new TraderHalt('no_balance', `The account holds no ${settleOf(spec.symbol)} to trade with.`);
    const engine = Engine.create(this.#engineConfig, equity);
    const currentOpen = Math.floor(now / this.#timeframeMs) * this.#timeframeMs;
    const history = await venue.closedCandles(spec.timeframe, this.#timeframeMs, currentOpen - engine.memory * this.#timeframeMs, Math.min(engine.memory, 1_000));
    engine.warmUp(history.map((candle) => ({ candle, fundingRate: null })));
    this.#engine = engine;
    this.#lastCandle = history.at(-1)?.time ?? currentOpen - this.#timeframeMs;
    this.#o.log('info', 'warmed up', { candles: history.length, lastCandle: this.#lastCandle });
    await this.reconcile('start');
  }

  /** Polls for closes until asked to stop. Exchange outages are waited out, then reconciled. */
  async run(): Promise<void> {
    while (!this.#stopRequested) {
      await this.evaluateDue();
      if (!this.#stopRequested) await this.#o.sleep(this.#o.pollMs);
    }
  }

  /** One pass of the loop: the exchange's time, a reconcile if it was away, then every close that is due. */
  async evaluateDue(): Promise<void> {
    try {
      await this.#o.venue.syncTime();
      if (this.#disconnected) {
        this.#disconnected = false;
        await this.reconcile('reconnect');
      }
      await this.#evaluateClosed();
    } catch (error) {
      if (error instanceof TraderHalt) throw error;
      this.#disconnected = true;
      this.#o.log('warn', 'exchange unavailable; will reconcile when it answers again', { error: this.#o.describe(error) });
    }
  }

  /** Closes the position if the spec says so (reduce-only, its own client id); otherwise leaves it. */
  async closeOnStop(instanceId: string): Promise<void> {
    if (this.#o.spec.onStop !== 'close') return;
    const held = await this.#o.venue.position();
    if (!held) return;
    await this.#closeHeld(held, { kind: 'stop', instanceId });
  }

  /**
   * Makes the engine agree with the exchange: cancels orders of this run left open, then adopts or closes a
   * position the engine does not know, forgets one the exchange no longer has, and takes the exchange's side
   * and size where they differ. Nothing is ever opened here.
   */
  async reconcile(why: 'start' | 'reconnect' | 'exit refused'): Promise<void> {
    const { venue, spec } = this.#o;
    const prefix = runOrderPrefix(spec.runId);
    for (const order of await venue.openOrders()) {
      if (order.clientOrderId?.startsWith(prefix)) await venue.cancel(order.id);
    }
    const held = await venue.position();
    const mine = this.#engine?.position ?? null;
    const time = venue.now();
    if (held && !mine) {
      if (spec.reconcile === 'close') {
        this.#o.log('info', 'closing a position found on the exchange', { why, side: held.side });
        await this.#closeHeld(held, { kind: 'reconcile', instanceId: spec.instanceId, attempt: this.#reconcileAttempt++ });
        return;
      }
      this.#setPosition(held, time);
      this.#o.report({ kind: 'position', time, side: held.side, quantity: held.quantity, entryPrice: held.entryPrice, origin: 'adopted' });
      this.#o.log('info', 'adopted the position found on the exchange', { why, side: held.side, quantity: held.quantity });
    } else if (!held && mine) {
      this.#setPosition(null, time, await venue.equity(settleOf(spec.symbol)));
      this.#o.report({ kind: 'position', time, side: null, quantity: 0, entryPrice: null, origin: 'closed' });
      this.#o.log('warn', 'the position is gone from the exchange; the engine forgets it', { why });
    } else if (held && mine && (held.side !== mine.side || Math.abs(held.quantity - mine.quantity) > 1e-12)) {
      this.#setPosition(held, time);
      this.#o.report({ kind: 'position', time, side: held.side, quantity: held.quantity, entryPrice: held.entryPrice, origin: 'adopted' });
    }
  }

  async #evaluateClosed(): Promise<void> {
    const { venue, spec } = this.#o;
    const next = this.#lastCandle + this.#timeframeMs;
    if (venue.now() < next + this.#timeframeMs) return;
    const candles = await venue.closedCandles(spec.timeframe, this.#timeframeMs, next, MAX_CANDLES_PER_FETCH);
    for (const candle of candles) {
      if (candle.time <= this.#lastCandle) continue;
      await this.#evaluate(candle);
      if (this.#stopRequested) return;
    }
  }

  async #evaluate(candle: Candle): Promise<void> {
    const engine = this.#requireEngine();
    const decisions = engine.step({ candle, fundingRate: null }, { otherOpenPositions: 0 });
    this.#lastCandle = candle.time;
    for (const decision of decisions) await this.#act(decision);
    const time = candle.time + this.#timeframeMs;
    this.#o.report({ kind: 'equity', time, equity: engine.equity(), balance: engine.balance });
    this.#o.log('info', 'evaluated', { candle: candle.time, decisions: decisions.length });
  }

  async #act(decision: Decision): Promise<void> {
    const engine = this.#requireEngine();
    const { report } = this.#o;
    if (decision.type === 'blocked') {
      report({ kind: 'decision', time: decision.time, type: 'blocked', side: decision.side, quantity: null, price: null, by: `${decision.role}:${decision.by}`, reason: decision.reason.slice(0, 500) });
      return;
    }
    if (decision.type === 'enter' && (this.#desired !== 'running' || this.#stopRequested)) {
      engine.rejectOrder();
      const reason = this.#stopRequested ? 'The bot is stopping: no new positions.' : 'The bot is paused: it manages exits only.';
      report({ kind: 'decision', time: decision.time, type: 'blocked', side: decision.side, quantity: null, price: null, by: this.#stopRequested ? 'stopping' : 'paused', reason });
      return;
    }
    report({
      kind: 'decision',
      time: decision.time,
      type: decision.type,
      side: decision.side,
      quantity: decision.quantity,
      price: decision.price,
      by: decision.type === 'exit' ? decision.by : null,
      reason: decision.reason.slice(0, 500),
    });
    const decided = performance.now();
    const side = sideToOrder(decision.side, decision.type);
    const placed = await this.#place({
      action: decision.type,
      side,
      quantity: decision.quantity,
      reduceOnly: decision.type === 'exit',
      purpose: { kind: decision.type, decidedAt: decision.time },
    });
    if (placed) this.#o.log('info', 'order acknowledged', { clientOrderId: placed.clientOrderId, ms: Math.round((performance.now() - decided) * 1000) / 1000 });
    if (!placed) {
      engine.rejectOrder();
      // A refused exit usually means the position is no longer what the engine thinks: ask the exchange.
      if (decision.type === 'exit') await this.reconcile('exit refused');
      return;
    }
    const fee = await this.#feeOf(placed);
    // The engine's closed trade carries the PnL it booked (in coin for an inverse contract); an entry realises none.
    const closed = engine.fill({ time: placed.time, price: placed.averagePrice!, quantity: placed.filled, fee });
    report({ kind: 'fill', time: placed.time, clientOrderId: placed.clientOrderId, price: placed.averagePrice!, quantity: placed.filled, fee, side, realizedPnl: closed?.grossPnl ?? null });
    const position = engine.position;
    report({ kind: 'position', time: placed.time, side: position?.side ?? null, quantity: position?.quantity ?? 0, entryPrice: position?.entryPrice ?? null, origin: position ? 'order' : 'closed' });
  }

  /** Closes a position the engine may not know (stop, reconcile), and tells the engine it is flat. */
  async #closeHeld(held: HeldPosition, purpose: OrderPurpose): Promise<void> {
    const side = held.side === 'long' ? 'sell' : 'buy';
    const placed = await this.#place({ action: 'exit', side, quantity: held.quantity, reduceOnly: true, purpose });
    if (!placed) return;
    const fee = await this.#feeOf(placed);
    const realizedPnl = grossPnl(this.#o.spec.contract, held.side, placed.filled, held.entryPrice, placed.averagePrice);
    this.#o.report({ kind: 'fill', time: placed.time, clientOrderId: placed.clientOrderId, price: placed.averagePrice, quantity: placed.filled, fee, side, realizedPnl });
    this.#o.report({ kind: 'position', time: placed.time, side: null, quantity: 0, entryPrice: null, origin: 'closed' });
    if (this.#engine) this.#setPosition(null, placed.time, await this.#o.venue.equity(settleOf(this.#o.spec.symbol)));
  }

  /**
   * Places a market order once. A lost answer, a dropped connection, a 5xx or a rate limit: look the order up
   * by its client id; only if the exchange has none is it sent again, under the same id. Null: not placed.
   */
  async #place(order: { action: 'enter' | 'exit'; side: 'buy' | 'sell'; quantity: number; reduceOnly: boolean; purpose: OrderPurpose }): Promise<(PlacedOrder & { averagePrice: number }) | null> {
    const { venue, report, spec } = this.#o;
    const id = clientOrderId(spec.runId, order.purpose);
    const quantity = venue.tradable(order.quantity);
    const base = { clientOrderId: id, action: order.action, side: order.side, reduceOnly: order.reduceOnly } as const;
    if (quantity === 0) {
      report({ kind: 'order', time: venue.now(), ...base, exchangeOrderId: null, quantity: order.quantity, status: 'refused', detail: 'Below the smallest size the exchange trades.' });
      return null;
    }
    let placed: PlacedOrder | null = null;
    let status: 'placed' | 'found' = 'placed';
    let delay = BACKOFF_MS.first;
    for (let attempt = 1; placed === null; attempt++) {
      try {
        placed = await venue.placeMarket({ side: order.side, quantity, clientOrderId: id, reduceOnly: order.reduceOnly });
      } catch (error) {
        const failure = venue.classify(error);
        if (failure === 'refused' || failure === 'auth' || failure === 'other') {
          report({ kind: 'order', time: venue.now(), ...base, exchangeOrderId: null, quantity, status: 'refused', detail: this.#o.describe(error) });
          return null;
        }
        // Duplicate or transient: the order may exist. Ask before sending anything again.
        placed = await this.#lookUp(id);
        if (placed) status = 'found';
        else if (failure === 'duplicate' || attempt >= ORDER_ATTEMPTS) {
          report({ kind: 'order', time: venue.now(), ...base, exchangeOrderId: null, quantity, status: 'refused', detail: this.#o.describe(error) });
          return null;
        } else {
          this.#o.log('warn', 'order not confirmed; retrying under the same client id', { clientOrderId: id, attempt, error: this.#o.describe(error) });
          await this.#pause(delay);
          delay = Math.min(delay * 2, BACKOFF_MS.max);
        }
      }
    }
    const done = await this.#untilDone(placed);
    report({ kind: 'order', time: done.time, ...base, exchangeOrderId: done.id, quantity, status, detail: null });
    if (done.averagePrice === null || !(done.filled > 0)) return null;
    return { ...done, averagePrice: done.averagePrice };
  }

  /** The order by its client id; a transient failure of the look-up itself is retried. */
  async #lookUp(id: string): Promise<PlacedOrder | null> {
    let delay = BACKOFF_MS.first;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#o.venue.findOrder(id);
      } catch (error) {
        if (this.#o.venue.classify(error) !== 'transient' || attempt >= ORDER_ATTEMPTS * 4) throw error;
        await this.#pause(delay);
        delay = Math.min(delay * 2, BACKOFF_MS.max);
      }
    }
  }

  /** Waits before trying again, then measures the exchange's clock anew: signed requests carry our idea of its time. */
  async #pause(ms: number): Promise<void> {
    await this.#o.sleep(ms);
    await this.#o.venue.syncTime().catch(() => undefined);
  }

  /** A market order normally answers filled; if not, it is followed until it is. */
  async #untilDone(order: PlacedOrder): Promise<PlacedOrder> {
    let current = order;
    for (let attempt = 0; !(current.done && current.averagePrice !== null) && attempt < ORDER_ATTEMPTS * 4; attempt++) {
      await this.#o.sleep(BACKOFF_MS.first);
      current = (await this.#lookUp(current.clientOrderId)) ?? current;
    }
    return current;
  }

  async #feeOf(order: PlacedOrder & { averagePrice: number }): Promise<number> {
    if (order.fee > 0) return order.fee;
    try {
      const fee = await this.#o.venue.feeOf(order.id, order.time);
      if (fee !== null) return fee;
    } catch (error) {
      this.#o.log('warn', 'could not read the order’s fee; using the taker rate', { error: this.#o.describe(error) });
    }
    const value = this.#o.spec.contract === 'linear' ? order.filled * order.averagePrice : order.filled / order.averagePrice;
    return (value * this.#o.takerFeeBps) / 10_000;
  }

  /** The engine with `position` (or none) instead of what it had; the engine's own snapshot and restore. */
  #setPosition(position: HeldPosition | null, time: number, balance?: number): void {
    const snapshot = this.#requireEngine().snapshot();
    snapshot.pending = null;
    snapshot.position = position
      ? {
          side: position.side,
          quantity: position.quantity,
          entryPrice: position.entryPrice,
          entryTime: time,
          bestClose: position.entryPrice,
          candlesHeld: 0,
          fees: 0,
          funding: 0,
          entryReason: 'found on the exchange and adopted',
        }
      : null;
    if (balance !== undefined && balance > 0) snapshot.balance = balance;
    this.#engine = Engine.restore(this.#engineConfig, snapshot);
  }

  #requireEngine(): Engine {
    if (!this.#engine) throw new Error('the trader is not prepared');
    return this.#engine;
  }
}
