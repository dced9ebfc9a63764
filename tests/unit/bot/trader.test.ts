// The trader's decisions about the exchange, against a scripted venue: what it adopts or closes on start,
// which open orders it cancels, that a lost answer is looked up instead of sent again, and that a paused bot
// opens nothing but still closes by its exit rules.
import { describe, expect, it } from 'vitest';
import type { HeldPosition, PlacedOrder } from '../../../src-bot/exchange.ts';
import { clientOrderId, runOrderPrefix } from '../../../src-bot/order-ids.ts';
import { Trader, type TradingVenue } from '../../../src-bot/trader.ts';
import type { BotInstanceSpec, ReportBody } from '../../../src-shared/bot-instance.ts';
import { defaultSeries, type Candle } from '../../../src-shared/market-series.ts';
import { busyTradingConfig } from './busy-template.ts';

const MINUTE = 60_000;
const START = Date.UTC(2026, 2, 1);

class TransientError extends Error {}
class RefusedError extends Error {}

/** An exchange in memory: the default series' candles, market orders filled at the current candle's open. */
class ScriptedVenue implements TradingVenue {
  time = START;
  held: HeldPosition | null = null;
  open: { id: string; clientOrderId: string | null }[] = [];
  cancelled: string[] = [];
  placed: { clientOrderId: string; side: 'buy' | 'sell'; quantity: number; reduceOnly: boolean }[] = [];
  orders = new Map<string, PlacedOrder>();
  /** Accept the next order, then fail as if its answer was lost. */
  loseNextAnswer = false;
  readonly #candles = defaultSeries('BTC').candles(MINUTE, START - 200 * MINUTE, START + 600 * MINUTE);

  now() {
    return this.time;
  }
  async syncTime() {
    return this.time;
  }
  async closedCandles(_tf: string, tfMs: number, since: number, limit: number): Promise<Candle[]> {
    return this.#candles.filter((c) => c.time >= since && c.time + tfMs <= this.time).slice(0, limit);
  }
  async equity() {
    return 10_000;
  }
  async position() {
    return this.held;
  }
  async openOrders() {
    return this.open;
  }
  async cancel(id: string) {
    this.cancelled.push(id);
  }
  tradable(quantity: number) {
    return Math.floor(quantity * 1000) / 1000;
  }
  async placeMarket(order: { side: 'buy' | 'sell'; quantity: number; clientOrderId: string; reduceOnly: boolean }): Promise<PlacedOrder> {
    if (this.orders.has(order.clientOrderId)) throw new RefusedError('duplicate');
    this.placed.push(order);
    const price = this.#candles.find((c) => c.time === this.time)?.open ?? 100;
    const filled: PlacedOrder = { id: String(this.orders.size + 1), clientOrderId: order.clientOrderId, filled: order.quantity, averagePrice: price, fee: 0.01, time: this.time, done: true };
    this.orders.set(order.clientOrderId, filled);
    const signed = (this.held ? (this.held.side === 'long' ? 1 : -1) * this.held.quantity : 0) + (order.side === 'buy' ? 1 : -1) * order.quantity;
    this.held = Math.abs(signed) < 1e-12 ? null : { side: signed > 0 ? 'long' : 'short', quantity: Math.abs(signed), entryPrice: price };
    if (this.loseNextAnswer) {
      this.loseNextAnswer = false;
      throw new TransientError('answer lost');
    }
    return filled;
  }
  async findOrder(id: string) {
    return this.orders.get(id) ?? null;
  }
  async feeOf() {
    return null;
  }
  classify(error: unknown) {
    if (error instanceof TransientError) return 'transient' as const;
    if (error instanceof RefusedError) return error.message === 'duplicate' ? ('duplicate' as const) : ('refused' as const);
    return 'other' as const;
  }
}

const spec = (overrides: Partial<BotInstanceSpec> = {}): BotInstanceSpec => ({
  botId: 'bot-1',
  instanceId: 'instance-1',
  runId: 'run-1',
  userId: 'user-1',
  key: { recordId: 'rec-1', exchange: 'binanceusdm', sealedKey: 'unused' },
  ...busyTradingConfig({ templateVersionId: 'v1' }),
  ...overrides,
});

function trader(venue: ScriptedVenue, overrides: Partial<BotInstanceSpec> = {}) {
  const reports: ReportBody[] = [];
  const t = new Trader({ spec: spec(overrides), venue, report: (r) => reports.push(r), log: () => {}, describe: (e) => String(e), sleep: async () => {}, pollMs: 1, takerFeeBps: 5 });
  return { t, reports };
}

/** Moves the venue's clock one close at a time, the trader evaluating each. */
async function closes(venue: ScriptedVenue, t: Trader, minutes: number) {
  for (let i = 0; i < minutes; i++) {
    venue.time += MINUTE;
    await t.evaluateDue();
  }
}

const isFill = (r: ReportBody): r is Extract<ReportBody, { kind: 'fill' }> => r.kind === 'fill';

describe('trader', () => {
  it('start, policy adopt: takes over the exchange’s position and cancels only this run’s open orders', async () => {
    const venue = new ScriptedVenue();
    venue.held = { side: 'short', quantity: 0.05, entryPrice: 80_000 };
    venue.open = [
      { id: 'a', clientOrderId: `${runOrderPrefix('run-1')}-old` },
      { id: 'b', clientOrderId: 'manual-order' },
      { id: 'c', clientOrderId: null },
    ];
    const { t, reports } = trader(venue);
    await t.prepare();
    expect(venue.cancelled).toEqual(['a']);
    expect(venue.placed).toEqual([]);
    expect(reports).toEqual([{ kind: 'position', time: START, side: 'short', quantity: 0.05, entryPrice: 80_000, origin: 'adopted' }]);
  });

  it('start, policy close: closes the position found, reduce-only, under its own client id', async () => {
    const venue = new ScriptedVenue();
    venue.held = { side: 'long', quantity: 0.05, entryPrice: 80_000 };
    const { t } = trader(venue, { reconcile: 'close' });
    await t.prepare();
    expect(venue.placed).toEqual([{ side: 'sell', quantity: 0.05, reduceOnly: true, clientOrderId: clientOrderId('run-1', { kind: 'reconcile', instanceId: 'instance-1', attempt: 0 }) }]);
    expect(venue.held).toBeNull();
  });

  it('reports each fill with its order’s side and the PnL it realised: none on entry, the engine’s on exit, the held position’s on a close', async () => {
    const venue = new ScriptedVenue();
    const { t, reports } = trader(venue);
    await t.prepare();
    await closes(venue, t, 240);
    const fills = reports.filter(isFill);
    expect(fills.filter((f) => f.realizedPnl !== null).length).toBeGreaterThan(0);
    let entry: { price: number; side: 'buy' | 'sell' } | null = null;
    for (const fill of fills) {
      const placed = reports.find((r) => r.kind === 'order' && r.clientOrderId === fill.clientOrderId);
      expect(fill.side).toBe(placed?.kind === 'order' ? placed.side : undefined);
      if (placed?.kind === 'order' && placed.action === 'enter') {
        expect(fill.realizedPnl).toBeNull();
        entry = { price: fill.price, side: fill.side! };
      } else {
        // Linear: (exit - entry) x quantity, for a long; the other way round for a short.
        const direction = entry!.side === 'buy' ? 1 : -1;
        expect(fill.realizedPnl).toBeCloseTo((fill.price - entry!.price) * fill.quantity * direction, 9);
      }
    }

    const closing = new ScriptedVenue();
    closing.held = { side: 'short', quantity: 0.05, entryPrice: 80_000 };
    const closed = trader(closing, { reconcile: 'close' });
    await closed.t.prepare();
    const fill = closed.reports.find(isFill);
    expect(fill?.side).toBe('buy');
    expect(fill?.realizedPnl).toBeCloseTo((80_000 - fill!.price) * 0.05, 6);
  });

  it('a lost answer is looked up by client id, never sent twice; paused: exits only', async () => {
    const venue = new ScriptedVenue();
    venue.loseNextAnswer = true;
    const { t, reports } = trader(venue);
    await t.prepare();
    await closes(venue, t, 240);
    const entries = venue.placed.filter((o) => !o.reduceOnly);
    expect(entries.length).toBeGreaterThan(2);
    expect(new Set(venue.placed.map((o) => o.clientOrderId)).size).toBe(venue.placed.length);
    expect(reports.find((r) => r.kind === 'order')).toMatchObject({ status: 'found' });

    // Paused with a position open: no entry is placed, and the exit rules still close it.
    while (!venue.held) await closes(venue, t, 1);
    t.setDesired('paused');
    const placedBefore = venue.placed.length;
    await closes(venue, t, 240);
    const whilePaused = venue.placed.slice(placedBefore);
    expect(whilePaused).toHaveLength(1);
    expect(whilePaused[0]!.reduceOnly).toBe(true);
    expect(venue.held).toBeNull();
    expect(reports.some((r) => r.kind === 'decision' && r.type === 'blocked' && r.by === 'paused')).toBe(true);
  });
});
