import type { Candle } from '../src-shared/market-series.ts';

export type { Candle };
export type Side = 'long' | 'short';
export type Score = -1 | 0 | 1;

/** What the engine sees at one candle close: the candle and the latest known funding rate (a fraction per 8 h). */
export interface Bar {
  candle: Candle;
  fundingRate: number | null;
}

export type Check = { pass: true } | { pass: false; reason: string };

/** The parts of an open position the exit rules read. */
export interface PositionView {
  side: Side;
  entryPrice: number;
  /** Best close since the fill: the highest for a long, the lowest for a short (the fill price to begin with). */
  bestClose: number;
  /** Candle closes since the fill. */
  candlesHeld: number;
}
