import type { ExchangeId } from '../src-shared/exchanges.ts';

/** Trading fees in basis points of the traded value: the exchanges' base tier, and what the simulator charges. */
export interface FeeSchedule {
  takerBps: number;
  makerBps: number;
}

export const EXCHANGE_FEES: { readonly [E in ExchangeId]: FeeSchedule } = {
  binanceusdm: { takerBps: 5, makerBps: 2 },
  bybit: { takerBps: 5.5, makerBps: 2 },
  krakenfutures: { takerBps: 5, makerBps: 2 },
};
