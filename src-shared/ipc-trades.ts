import { z } from 'zod';
import { MAX_TRADES_PAGE, Trade, TradeDetail, TradeFilter, TradeId, TradeSort, TradeSummary } from './trades.ts';

/**
 * The trades part of the IPC contract. Main keeps the signed-in account's trades in a local copy (one database per
 * account in the app's data folder), brought up to date through the API's change feed whenever the event stream
 * says a bot filled, and answers the Trades page from it: at once, and offline too.
 */

/** How current the local copy is. */
export const TradesSyncState = z.object({
  /** `syncing`: catching up now; `current`: holds everything the API had at `lastSyncedAt`; `offline`: the API is out of reach, the copy is as of `lastSyncedAt`. */
  state: z.enum(['syncing', 'current', 'offline']),
  /** Null before the first complete sync on this device. */
  lastSyncedAt: z.iso.datetime().nullable(),
  /** How many trades the copy holds. */
  trades: z.number().int().nonnegative(),
});
export type TradesSyncState = z.infer<typeof TradesSyncState>;

/**
 * A page of the table. The renderer asks for windows of rows by position (a virtualised table asks for the rows it
 * is about to show): `offset` is a position in the filtered, sorted list the local copy holds now; `total` is that
 * list's length, so the scroll bar is right before the rows are there.
 */
export const TradesPageInput = z.strictObject({
  filter: TradeFilter,
  sort: TradeSort,
  offset: z.number().int().nonnegative(),
  limit: z.number().int().min(1).max(MAX_TRADES_PAGE),
});
export type TradesPageInput = z.input<typeof TradesPageInput>;
export const TradesWindow = z.object({ total: z.number().int().nonnegative(), offset: z.number().int().nonnegative(), trades: z.array(Trade) });
export type TradesWindow = z.infer<typeof TradesWindow>;

/** The choices the filter offers: the bots and symbols the copy has trades of. */
export const TradesFacets = z.object({
  bots: z.array(z.object({ id: z.string(), name: z.string() })),
  symbols: z.array(z.string()),
});
export type TradesFacets = z.infer<typeof TradesFacets>;

export const tradesInvokeContract = {
  'trades.window': { input: TradesPageInput, output: TradesWindow },
  /** One summary per currency over the filter. */
  'trades.summary': { input: z.strictObject({ filter: TradeFilter }), output: z.array(TradeSummary) },
  'trades.facets': { input: z.undefined(), output: TradesFacets },
  /** The trade with its decision, orders and fills; from the API when reachable (orders live there), else what the copy holds with no orders. */
  'trades.detail': { input: z.strictObject({ id: TradeId }), output: TradeDetail },
  'trades.syncState': { input: z.undefined(), output: TradesSyncState },
  /** Catch up with the API now (the page's "Sync now"); resolves when the copy is current or the API is out of reach. */
  'trades.syncNow': { input: z.undefined(), output: TradesSyncState },
} as const satisfies Record<string, { input: z.ZodType; output: z.ZodType }>;

export const tradesEventContract = {
  /** The copy changed (new trades, a bot's trades removed) or its sync state did: the page asks for its window again. */
  'trades.onChange': TradesSyncState,
} as const satisfies Record<string, z.ZodType>;
