// Trade history across all of an account's bots and runs: one trade per fill an instance reported. The API's
// `trades` routes serve it (a cursor for the Trades page and API users, a change feed for the desktop's local
// copy); main keeps that local copy and answers the renderer's Trades page from it, offline too.
import { z } from 'zod';
import { ExchangeId } from './exchanges.ts';

/** A trade's id: stable for ever, the same in the API and in every local copy. */
export const TradeId = z.string().min(1).max(200);

/** The decision that caused a trade: what the engine decided at a candle close, and why. */
export const TradeDecision = z.object({
  time: z.number().int().nonnegative(),
  type: z.enum(['enter', 'exit']),
  side: z.enum(['long', 'short']),
  /** The exit rule that fired (e.g. `stop-loss`), null for an entry. */
  by: z.string().max(200).nullable(),
  reason: z.string().max(500),
});
export type TradeDecision = z.infer<typeof TradeDecision>;

/** One fill of one of the account's bots. */
export const Trade = z.object({
  id: TradeId,
  /**
   * Where the trade sits in the account's change feed: grows with every trade the API stores, never reused, so
   * a copy that holds every trade up to `feedSeq` n asks for what came after n.
   */
  feedSeq: z.number().int().positive(),
  /** When the exchange filled it (ms since the epoch). */
  time: z.number().int().nonnegative(),
  botId: z.string().min(1).max(100),
  /** The bot's name when the trade was made (renaming a bot later does not rewrite its history). */
  botName: z.string().max(100),
  runId: z.string().min(1).max(100),
  instanceId: z.string().min(1).max(100),
  exchange: ExchangeId,
  /** The exchange's unified symbol, e.g. `BTC/USDT:USDT`. */
  symbol: z.string().min(1).max(50),
  testnet: z.boolean(),
  side: z.enum(['buy', 'sell']),
  /** Opened or added to a position, or reduced or closed one. */
  action: z.enum(['enter', 'exit']),
  quantity: z.number().positive(),
  price: z.number().positive(),
  fee: z.number().finite(),
  /** The currency fee and PnL are in: the quote of a linear contract, the base coin of an inverse one. */
  currency: z.string().regex(/^[A-Z0-9]{2,10}$/),
  /** The PnL this fill realised (before fees); null for a fill that only opened or added. */
  realizedPnl: z.number().finite().nullable(),
  clientOrderId: z.string().min(1).max(64),
  /** Null for a fill no candle decision caused (the bot closing at stop, or a reconcile). */
  decision: TradeDecision.nullable(),
});
export type Trade = z.infer<typeof Trade>;

/** Which trades: every field optional, all given ones must hold. `from`/`to` are ms since the epoch, `to` exclusive. */
export const TradeFilter = z.strictObject({
  botId: z.string().min(1).max(100).optional(),
  symbol: z.string().min(1).max(50).optional(),
  side: z.enum(['buy', 'sell']).optional(),
  testnet: z.boolean().optional(),
  from: z.number().int().nonnegative().optional(),
  to: z.number().int().nonnegative().optional(),
});
export type TradeFilter = z.infer<typeof TradeFilter>;

export const TRADE_SORT_FIELDS = ['time', 'price', 'quantity', 'fee', 'realizedPnl'] as const;
export const TradeSort = z.strictObject({
  field: z.enum(TRADE_SORT_FIELDS).default('time'),
  direction: z.enum(['asc', 'desc']).default('desc'),
});
export type TradeSort = z.infer<typeof TradeSort>;

/** Most trades one page holds. */
export const MAX_TRADES_PAGE = 1000;

/**
 * `GET /v1/trades?botId=&symbol=&side=&testnet=&from=&to=&after=&limit=`: newest first, a page at a time. The
 * cursor is a position in that order (not an offset), so trades stored while a user pages never shift or repeat
 * what the next page holds.
 */
export const TradesQuery = z.strictObject({
  botId: TradeFilter.shape.botId,
  symbol: TradeFilter.shape.symbol,
  side: TradeFilter.shape.side,
  testnet: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
  from: z.coerce.number().int().nonnegative().optional(),
  to: z.coerce.number().int().nonnegative().optional(),
  after: z.string().min(1).max(200).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_TRADES_PAGE).default(200),
});
export const TradesPage = z.object({ trades: z.array(Trade), nextAfter: z.string().nullable() });
export type TradesPage = z.infer<typeof TradesPage>;

/**
 * `GET /v1/trades/changes?since=&limit=`: the account's change feed for local copies, oldest first. `trades` are
 * those stored after `since` (a `feedSeq`); `removedBotIds` name bots deleted since (their trades must go from the
 * copy). `next` is what to ask with next time; `more` says a further page is waiting now.
 */
export const TradeChangesQuery = z.strictObject({
  since: z.coerce.number().int().nonnegative().default(0),
  limit: z.coerce.number().int().min(1).max(MAX_TRADES_PAGE).default(MAX_TRADES_PAGE),
});
export const TradeChanges = z.object({
  trades: z.array(Trade),
  removedBotIds: z.array(z.string().min(1).max(100)),
  next: z.number().int().nonnegative(),
  more: z.boolean(),
});
export type TradeChanges = z.infer<typeof TradeChanges>;

/** A trade opened on its own: the decision, the orders and the fills of that decision (or of that order). */
export const TradeDetail = z.object({
  trade: Trade,
  /** The order reports of the trade's client order id, in the order they were reported. */
  orders: z.array(
    z.object({
      time: z.number().int().nonnegative(),
      clientOrderId: z.string().max(64),
      exchangeOrderId: z.string().max(128).nullable(),
      side: z.enum(['buy', 'sell']),
      quantity: z.number().positive(),
      reduceOnly: z.boolean(),
      status: z.enum(['placed', 'found', 'refused']),
      detail: z.string().max(500).nullable(),
    }),
  ),
  /** Every fill of the same order (a market order may fill in parts), this one included. */
  fills: z.array(Trade),
});
export type TradeDetail = z.infer<typeof TradeDetail>;

/** One point of a PnL curve: cumulative net PnL (realised minus fees) after a trade, and the drawdown from its peak. */
export const PnlPoint = z.object({ time: z.number().int(), pnl: z.number(), drawdown: z.number() });
export type PnlPoint = z.infer<typeof PnlPoint>;

/** The summary over a filter, for one currency (PnL in USDT and in BTC are never added together). */
export const TradeSummary = z.object({
  currency: z.string(),
  trades: z.number().int().nonnegative(),
  /** Fills that realised PnL: the ones win rate and profit factor count. */
  closingTrades: z.number().int().nonnegative(),
  netPnl: z.number(),
  fees: z.number(),
  maxDrawdown: z.number(),
  winRatePercent: z.number().nullable(),
  profitFactor: z.number().nullable(),
  /** At most MAX_CURVE_POINTS points; a longer curve is bucketed, keeping each bucket's deepest drawdown. */
  curve: z.array(PnlPoint),
  byBot: z.array(z.object({ botId: z.string(), botName: z.string(), netPnl: z.number(), trades: z.number().int() })),
  /** UTC days, oldest first. */
  byDay: z.array(z.object({ day: z.iso.date(), netPnl: z.number(), trades: z.number().int() })),
});
export type TradeSummary = z.infer<typeof TradeSummary>;
export const MAX_CURVE_POINTS = 2000;
