/**
 * src-engine: the pure trading core. The live bot, the desktop backtest worker and the API's
 * template checks all import from here, so a backtest and a live run decide alike.
 *
 * Pure: no I/O, no clock, no randomness, no timers, no `node:*`. Time comes in with the candles.
 *
 * ## Templates
 * The document is `TemplateBody` (src-shared/templates.ts, zod). `SYSTEM_TEMPLATES` are the eight
 * read-only ones; `systemTemplate(id)` finds one.
 *
 * ## Running a strategy: `Engine`
 * ```ts
 * const engine = Engine.create({ template, timeframeMs, contract: 'linear', limits }, 10_000);
 * engine.warmUp(lastCandles);                   // optional: `engine.memory` bars of history, no decisions
 * // at each candle close, with the latest known funding rate (fraction per 8 h) or null:
 * const decisions = engine.step({ candle, fundingRate }, { otherOpenPositions });
 * // an 'enter' or 'exit' decision is a market order to place; 'blocked' is a record of an entry
 * // the signals wanted and a session, filter, entry guard, risk gate or bot limit refused.
 * engine.fill({ time, price, quantity, fee });   // the order filled: returns the Trade on an exit
 * engine.rejectOrder();                          // or the exchange refused it
 * engine.settleFunding({ rate, markPrice });     // at each funding time, with a position open
 * engine.requestExit(time, 'stop', 'bot stopped'); // close outside the exit rules
 * const snapshot = engine.snapshot();            // plain JSON
 * const again = Engine.restore(config, snapshot); // continues exactly as if never stopped
 * ```
 * While an order waits for its fill the engine decides nothing more. Amounts are in the settlement
 * currency: USDT for linear contracts, the coin for inverse ones (quantity then counts 1-USD contracts).
 *
 * Indicators come from trading-signals, whose state cannot be serialised: a snapshot keeps the bars
 * the indicators are rebuilt from, and the engine rebuilds them on a fixed cadence so a restored
 * engine and an unbroken one compute bit-identical values (see Engine#rebuildEvery).
 *
 * ## Backtests: `runBacktest`
 * Replays candles through the same Engine: fills at the next candle's open with slippage and the
 * taker fee, funding at each settlement, progress and cancellation every N candles for a worker.
 * The result (summary, trades, equity curve, every decision) is a deterministic function of the
 * input: the same input gives byte-identical JSON.
 *
 * ## Candles
 * `defaultSeries(base)` in src-shared/market-series.ts is the simulator's market;
 * `seriesFundingRates` gives its funding settlements. `parseKlineCsv` reads Binance and Bybit kline
 * exports from text.
 */
export { Engine, EngineConfig, EngineSnapshot } from './engine.ts';
export type { BlockedBy, Decision, Fill, Order, Position, StepContext, Trade } from './engine.ts';
export { runBacktest, seriesFundingRates, FundingRatePoint } from './backtest.ts';
export type { BacktestInput, BacktestOptions, BacktestResult, BacktestSummary, CancelFlag, EquityPoint } from './backtest.ts';
export { parseKlineCsv } from './csv.ts';
export type { CsvProblem, KlineFormat, KlineParse } from './csv.ts';
export { SYSTEM_TEMPLATES, systemTemplate } from './system-templates.ts';
export type { SystemTemplate } from './system-templates.ts';
export { EXCHANGE_FEES } from './fees.ts';
export type { FeeSchedule } from './fees.ts';
export { fundingPayment, grossPnl, positionValue, quantityFor, slippedPrice, tradeFee } from './ledger.ts';
export { combineScores } from './combine.ts';
export { inAnySession, inSession, weekdayOf } from './sessions.ts';
export type { Bar, Candle, Score, Side } from './types.ts';
