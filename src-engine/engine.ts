import { z } from 'zod';
import { ContractType } from '../src-shared/exchanges.ts';
import type { BotLimits, Component } from '../src-shared/templates.ts';
import { BotLimits as BotLimitsSchema, TemplateBody } from '../src-shared/templates.ts';
import type { WeightedScore } from './combine.ts';
import { combineScores } from './combine.ts';
import type { CheckComponent, CheckRuntime, ExitComponent, SignalRuntime } from './components.ts';
import { checkRuntime, exitReason, signalRuntime } from './components.ts';
import { fundingPayment, grossPnl, quantityFor } from './ledger.ts';
import { inAnySession, utcDay } from './sessions.ts';
import type { Bar, Side } from './types.ts';

export const EngineConfig = z
  .object({
    template: TemplateBody,
    /** Candle length in ms; a candle's decisions are taken at its close, `time + timeframeMs`. */
    timeframeMs: z.number().int().positive(),
    contract: ContractType,
    /** The bot's limits; null: only the template decides. */
    limits: BotLimitsSchema.nullable(),
  })
  .strict();
export type EngineConfig = z.input<typeof EngineConfig>;
type ParsedConfig = z.output<typeof EngineConfig>;

const CandleSchema = z.object({
  time: z.number().int(),
  open: z.number().positive(),
  high: z.number().positive(),
  low: z.number().positive(),
  close: z.number().positive(),
  volume: z.number().nonnegative(),
});
const BarSchema = z.object({ candle: CandleSchema, fundingRate: z.number().nullable() });
const SideSchema = z.enum(['long', 'short']);

const PositionSchema = z.object({
  side: SideSchema,
  quantity: z.number().positive(),
  entryPrice: z.number().positive(),
  entryTime: z.number().int(),
  bestClose: z.number().positive(),
  candlesHeld: z.number().int().nonnegative(),
  /** Fees paid on this position so far (the entry's), settlement currency. */
  fees: z.number(),
  /** Funding received (negative: paid) while open. */
  funding: z.number(),
  entryReason: z.string(),
});
export type Position = z.infer<typeof PositionSchema>;

const OrderSchema = z.object({
  action: z.enum(['enter', 'exit']),
  side: SideSchema,
  quantity: z.number().positive(),
  decidedAt: z.number().int(),
  by: z.string(),
  reason: z.string(),
});
/** A market order the engine has decided and waits to hear the fill of. */
export type Order = z.infer<typeof OrderSchema>;

/** Everything the engine knows, as plain JSON: restore it with the same config to continue exactly. */
export const EngineSnapshot = z
  .object({
    version: z.literal(1),
    /** The config it was taken with, so a snapshot is never continued under another template. */
    config: z.string(),
    balance: z.number(),
    position: PositionSchema.nullable(),
    pending: OrderSchema.nullable(),
    /** The bars the indicators are rebuilt from (see Engine.#rebuild). */
    bars: z.array(BarSchema),
    barCount: z.number().int().nonnegative(),
    lastTime: z.number().int().nullable(),
    lastClose: z.number().positive().nullable(),
    day: z.number().int().nullable(),
    dayStartEquity: z.number(),
    lastEquity: z.number(),
  })
  .strict();
export type EngineSnapshot = z.infer<typeof EngineSnapshot>;

export type BlockedBy = 'session' | 'filter' | 'entryGuard' | 'riskGate' | 'limit';

/** What the engine decided at one close. Entries and exits are orders to place; blocked entries are a record. */
export type Decision =
  | { type: 'enter'; time: number; side: Side; quantity: number; price: number; reason: string }
  | { type: 'exit'; time: number; side: Side; quantity: number; price: number; by: string; reason: string }
  | { type: 'blocked'; time: number; side: Side; role: BlockedBy; by: string; reason: string };

/** A fill of the pending order, as the exchange (or the backtest's fill model) reports it. */
export interface Fill {
  time: number;
  price: number;
  quantity: number;
  /** Fee charged, settlement currency. */
  fee: number;
}

/** A closed round trip. */
export interface Trade {
  side: Side;
  quantity: number;
  entryTime: number;
  entryPrice: number;
  exitTime: number;
  exitPrice: number;
  grossPnl: number;
  fees: number;
  funding: number;
  netPnl: number;
  entryReason: string;
  exitBy: string;
  exitReason: string;
}

export interface StepContext {
  /** Positions the same bot holds on other symbols, for the total limit. */
  otherOpenPositions: number;
}

/** Indicators are rebuilt every this many memories of bars (see #rebuildEvery). */
const REBUILD_CADENCE = 4;

type SignalComponent = Extract<Component, { role: 'signal' }>;

interface Runtimes {
  signals: { component: SignalComponent; runtime: SignalRuntime }[];
  checks: { component: CheckComponent; runtime: CheckRuntime }[];
}

/**
 * One strategy on one symbol. Feed it each closed candle with `step`; it answers with decisions.
 * Report fills with `fill` (or `rejectOrder`), funding settlements with `settleFunding`. Same inputs
 * in the same order give the same decisions, whether run live or in a backtest, in one go or
 * across a snapshot and restore.
 */
export class Engine {
  readonly config: ParsedConfig;
  readonly #exits: ExitComponent[];
  /** Bars of history the indicators need to be rebuilt exactly. */
  readonly memory: number;
  #state: EngineSnapshot;
  #runtimes: Runtimes;
  /** Reused every close, so a step allocates nothing for the combination. */
  readonly #scores: WeightedScore[];

  private constructor(config: ParsedConfig, state: EngineSnapshot) {
    this.config = config;
    this.#exits = config.template.components.filter((c): c is ExitComponent => c.role === 'exitRule');
    this.#state = state;
    this.#runtimes = this.#freshRuntimes();
    this.#scores = this.#runtimes.signals.map((s) => ({ weight: s.component.weight, score: 0 }));
    this.memory = Math.max(1, ...this.#runtimes.signals.map((s) => s.runtime.memory), ...this.#runtimes.checks.map((c) => c.runtime.memory));
    for (const bar of state.bars) this.#feed(bar);
  }

  /** A new engine with `balance` in the settlement currency (USDT for linear, the coin for inverse). */
  static create(config: EngineConfig, balance: number): Engine {
    if (!(balance > 0)) throw new RangeError('the starting balance must be positive');
    const parsed = EngineConfig.parse(config);
    return new Engine(parsed, {
      version: 1,
      config: JSON.stringify(parsed),
      balance,
      position: null,
      pending: null,
      bars: [],
      barCount: 0,
      lastTime: null,
      lastClose: null,
      day: null,
      dayStartEquity: balance,
      lastEquity: balance,
    });
  }

  /** Continues from a snapshot taken with the same config; refuses one taken with another. */
  static restore(config: EngineConfig, snapshot: unknown): Engine {
    const parsed = EngineConfig.parse(config);
    const state = EngineSnapshot.parse(snapshot);
    if (state.config !== JSON.stringify(parsed)) throw new Error('the snapshot was taken with another template or market');
    return new Engine(parsed, state);
  }

  snapshot(): EngineSnapshot {
    return structuredClone(this.#state);
  }

  get balance(): number {
    return this.#state.balance;
  }

  get position(): Readonly<Position> | null {
    return this.#state.position;
  }

  get pendingOrder(): Readonly<Order> | null {
    return this.#state.pending;
  }

  /** Balance plus the open position's gross PnL at `markPrice` (the last close by default). */
  equity(markPrice: number | null = this.#state.lastClose): number {
    const { position, balance } = this.#state;
    if (!position || markPrice === null) return balance;
    return balance + grossPnl(this.config.contract, position.side, position.quantity, position.entryPrice, markPrice);
  }

  #freshRuntimes(): Runtimes {
    const runtimes: Runtimes = { signals: [], checks: [] };
    for (const component of this.config.template.components) {
      if (component.role === 'signal') runtimes.signals.push({ component, runtime: signalRuntime(component) });
      else if (component.role !== 'exitRule') runtimes.checks.push({ component, runtime: checkRuntime(component) });
    }
    return runtimes;
  }

  #feed(bar: Bar): void {
    for (const s of this.#runtimes.signals) s.runtime.update(bar);
    for (const c of this.#runtimes.checks) c.runtime.update(bar);
  }

  /**
   * trading-signals keeps indicator state in private fields, so it cannot be serialised. Instead
   * every REBUILD_CADENCE × `memory` bars the indicators are rebuilt from the last `memory` bars,
   * and the snapshot keeps the bars since that rebuild's start: replaying them reproduces the
   * indicators bit for bit. Exponential averages forget older bars to below 1e-9 within `memory`
   * (see components.ts). The cadence trades snapshot size (up to cadence + 1 memories of bars)
   * against the replay work (one memory per cadence).
   */
  #rebuildEvery(): void {
    const state = this.#state;
    if (state.barCount % (REBUILD_CADENCE * this.memory) !== 0 || state.bars.length <= this.memory) return;
    state.bars = state.bars.slice(-this.memory);
    this.#runtimes = this.#freshRuntimes();
    for (const bar of state.bars) this.#feed(bar);
  }

  /** Takes in a closed candle: the indicator window and the clock, nothing else. */
  #advance(bar: Bar): void {
    const state = this.#state;
    const { candle } = bar;
    if (state.lastTime !== null && candle.time <= state.lastTime) {
      throw new RangeError(`candle ${candle.time} is not after the last one (${state.lastTime})`);
    }
    if (!(candle.low > 0 && candle.high >= candle.low && candle.close > 0 && candle.open > 0)) {
      throw new RangeError(`candle ${candle.time} has impossible prices`);
    }
    // A copy: the window must not change if the caller reuses its candle objects.
    state.bars.push({ candle: { ...candle }, fundingRate: bar.fundingRate });
    state.barCount++;
    state.lastTime = candle.time;
    state.lastClose = candle.close;
    this.#feed(bar);
    this.#rebuildEvery();
  }

  /**
   * History before going live: the indicators take these closed candles in, but no decision is
   * taken on them (a bot starting up feeds the last `memory` candles so its first decision is
   * made on warm indicators). Only before any position or order exists.
   */
  warmUp(history: readonly Bar[]): void {
    if (this.#state.position || this.#state.pending) throw new Error('warm-up is for an engine with no position and no order');
    for (const bar of history) this.#advance(bar);
    this.#state.lastEquity = this.equity();
  }

  /** One closed candle in, the decisions at its close out. */
  step(bar: Bar, context: StepContext = { otherOpenPositions: 0 }): Decision[] {
    this.#advance(bar);
    const state = this.#state;
    const { candle } = bar;
    const closeTime = candle.time + this.config.timeframeMs;
    const position = state.position;
    if (position) {
      position.candlesHeld++;
      const better = position.side === 'long' ? candle.close > position.bestClose : candle.close < position.bestClose;
      if (better) position.bestClose = candle.close;
    }
    const equity = this.equity(candle.close);
    const day = utcDay(closeTime);
    if (state.day !== day) {
      state.day = day;
      state.dayStartEquity = state.lastEquity;
    }
    state.lastEquity = equity;
    const limits = this.config.limits;
    const dayLossPercent = ((state.dayStartEquity - equity) / state.dayStartEquity) * 100;
    const dailyLossHit = limits !== null && dayLossPercent >= limits.maxDailyLossPercent;
    const dailyLossReason = () => `down ${dayLossPercent.toFixed(2)}% today, the limit is ${limits?.maxDailyLossPercent}%`;

    if (state.pending) return [];
    const scores = this.#scores;
    this.#runtimes.signals.forEach((s, i) => {
      (scores[i] as WeightedScore).score = s.runtime.score();
    });
    const combined = combineScores(this.config.template.combination, scores);

    if (position) {
      let by: string | null = null;
      let reason: string | null = null;
      if (dailyLossHit) {
        by = 'maxDailyLoss';
        reason = dailyLossReason();
      } else {
        for (const exit of this.#exits) {
          reason = exitReason(exit, position, candle.close, combined);
          if (reason !== null) {
            by = exit.id;
            break;
          }
        }
      }
      if (by === null || reason === null) return [];
      state.pending = { action: 'exit', side: position.side, quantity: position.quantity, decidedAt: closeTime, by, reason };
      return [{ type: 'exit', time: closeTime, side: position.side, quantity: position.quantity, price: candle.close, by, reason }];
    }

    if (combined === null || !this.#sideAllowed(combined)) return [];
    const blocked = (role: BlockedBy, by: string, reason: string): Decision[] => [
      { type: 'blocked', time: closeTime, side: combined, role, by, reason },
    ];
    if (!inAnySession(this.config.template.sessions, closeTime)) return blocked('session', 'sessions', 'outside the trading sessions');
    for (const role of ['filter', 'entryGuard', 'riskGate'] as const) {
      for (const { component, runtime } of this.#runtimes.checks) {
        if (component.role !== role) continue;
        const check = runtime.check(bar, combined);
        if (!check.pass) return blocked(role, component.id, check.reason);
      }
    }
    if (limits !== null) {
      const limit = this.#limitBlocking(limits, context, dailyLossHit ? dailyLossReason() : null);
      if (limit) return blocked('limit', limit.by, limit.reason);
    }

    if (!(equity > 0)) return blocked('limit', 'noEquity', 'no equity left to trade with');
    const leverage = Math.min(this.config.template.sizing.leverage, limits?.maxLeverage ?? Infinity);
    const value = equity * (this.config.template.sizing.equityPercent / 100) * leverage;
    const quantity = quantityFor(this.config.contract, value, candle.close);
    const reason = this.#runtimes.signals
      .map((s) => `${s.component.id} ${s.runtime.score() > 0 ? '+1' : s.runtime.score() < 0 ? '-1' : '0'} (${s.runtime.explain()})`)
      .join('; ');
    state.pending = { action: 'enter', side: combined, quantity, decidedAt: closeTime, by: 'signals', reason };
    return [{ type: 'enter', time: closeTime, side: combined, quantity, price: candle.close, reason }];
  }

  #sideAllowed(side: Side): boolean {
    const sides = this.config.template.sides;
    return sides === 'both' || (sides === 'longOnly' ? side === 'long' : side === 'short');
  }

  #limitBlocking(limits: BotLimits, context: StepContext, dailyLoss: string | null): { by: string; reason: string } | null {
    // This engine holds no position when it considers an entry, so the entry would be its first.
    if (limits.maxOpenPositionsPerSymbol < 1) {
      return { by: 'maxOpenPositionsPerSymbol', reason: `the bot allows ${limits.maxOpenPositionsPerSymbol} positions on this symbol` };
    }
    if (context.otherOpenPositions + 1 > limits.maxOpenPositionsTotal) {
      return { by: 'maxOpenPositionsTotal', reason: `${context.otherOpenPositions} positions open, the bot allows ${limits.maxOpenPositionsTotal}` };
    }
    if (dailyLoss !== null) return { by: 'maxDailyLoss', reason: dailyLoss };
    return null;
  }

  /** The pending order was filled. An exit closes the whole position and returns the trade. */
  fill(fill: Fill): Trade | null {
    const state = this.#state;
    const order = state.pending;
    if (!order) throw new Error('no order is waiting for a fill');
    if (!(fill.price > 0) || !(fill.quantity > 0) || !(fill.fee >= 0)) throw new RangeError('a fill needs a positive price and quantity and a fee ≥ 0');
    if (order.action === 'enter') {
      state.pending = null;
      state.balance -= fill.fee;
      state.position = {
        side: order.side,
        quantity: fill.quantity,
        entryPrice: fill.price,
        entryTime: fill.time,
        bestClose: fill.price,
        candlesHeld: 0,
        fees: fill.fee,
        funding: 0,
        entryReason: order.reason,
      };
      return null;
    }
    const position = state.position;
    if (!position) throw new Error('an exit was filled with no position open');
    if (fill.quantity !== position.quantity) throw new RangeError('an exit fill must close the whole position');
    state.pending = null;
    state.balance -= fill.fee;
    const gross = grossPnl(this.config.contract, position.side, position.quantity, position.entryPrice, fill.price);
    state.balance += gross;
    state.position = null;
    const fees = position.fees + fill.fee;
    return {
      side: position.side,
      quantity: position.quantity,
      entryTime: position.entryTime,
      entryPrice: position.entryPrice,
      exitTime: fill.time,
      exitPrice: fill.price,
      grossPnl: gross,
      fees,
      funding: position.funding,
      netPnl: gross - fees + position.funding,
      entryReason: position.entryReason,
      exitBy: order.by,
      exitReason: order.reason,
    };
  }

  /**
   * Closes the open position outside the exit rules (the bot is stopping, a backtest ran out of
   * candles): an exit order, answered by a fill like any other. Null with nothing to close.
   */
  requestExit(time: number, by: string, reason: string): Decision | null {
    const { position, pending } = this.#state;
    if (!position || pending) return null;
    this.#state.pending = { action: 'exit', side: position.side, quantity: position.quantity, decidedAt: time, by, reason };
    return { type: 'exit', time, side: position.side, quantity: position.quantity, price: this.#state.lastClose ?? position.entryPrice, by, reason };
  }

  /** The pending order was refused or cancelled by the exchange: forget it, decide again at the next close. */
  rejectOrder(): void {
    this.#state.pending = null;
  }

  /** A funding settlement; returns the payment to the account (negative: paid), 0 with no position. */
  settleFunding(settlement: { rate: number; markPrice: number }): number {
    const position = this.#state.position;
    if (!position) return 0;
    const payment = fundingPayment(this.config.contract, position.side, position.quantity, settlement.markPrice, settlement.rate);
    position.funding += payment;
    this.#state.balance += payment;
    return payment;
  }
}
