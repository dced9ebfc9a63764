import { z } from 'zod';
import { ExchangeId } from '../../../src-shared/exchanges.ts';
import { RegionId } from '../../../src-shared/regions.ts';

export type ExchangeLatencyTable = Record<RegionId, Record<ExchangeId, number>>;

/**
 * What the simulated regions publish as their round trip to each exchange's API host (ms): typical
 * internet round trips between the regions' cities (Frankfurt, Ashburn, Singapore) and the matching
 * engines' (Tokyo, Singapore, London). Plausible, not measured; always labelled simulated.
 */
export const SIMULATED_EXCHANGE_LATENCIES: ExchangeLatencyTable = {
  eu: { binanceusdm: 230, bybit: 160, krakenfutures: 15 },
  us: { binanceusdm: 150, bybit: 215, krakenfutures: 75 },
  sg: { binanceusdm: 70, bybit: 2, krakenfutures: 170 },
};

/** `region.exchange=ms` pairs, comma-separated, over the built-in table. */
export const ExchangeLatencyOverrides = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    const table = structuredClone(SIMULATED_EXCHANGE_LATENCIES);
    for (const pair of (raw ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
      const match = /^(\w+)\.(\w+)=(\d+(?:\.\d+)?)$/.exec(pair);
      const region = RegionId.safeParse(match?.[1]);
      const exchange = ExchangeId.safeParse(match?.[2]);
      const ms = Number(match?.[3]);
      if (!match || !region.success || !exchange.success || !(ms <= 10_000)) {
        ctx.addIssue({
          code: 'custom',
          message: `expected region.exchange=ms pairs like "sg.bybit=2" (regions ${RegionId.options.join(', ')}; exchanges ${ExchangeId.options.join(', ')}), got "${pair}"`,
        });
        return z.NEVER;
      }
      table[region.data][exchange.data] = ms;
    }
    return table;
  });
