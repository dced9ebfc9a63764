import { z } from 'zod';
import { ExchangeId } from './exchanges.ts';

/** Where bots can run. Account data stays in the EU whichever region a bot runs in. */
export const RegionId = z.enum(['eu', 'us', 'sg']);
export type RegionId = z.infer<typeof RegionId>;

export const RegionFacts = z.object({
  id: RegionId,
  name: z.string(),
  city: z.string(),
  /** The provider's own name for the location (Fly region code). */
  location: z.string(),
});
export type RegionFacts = z.infer<typeof RegionFacts>;

export const REGION_FACTS: readonly RegionFacts[] = [
  { id: 'eu', name: 'Europe', city: 'Frankfurt', location: 'fra' },
  { id: 'us', name: 'United States', city: 'Ashburn, Virginia', location: 'iad' },
  { id: 'sg', name: 'Singapore', city: 'Singapore', location: 'sin' },
];

/** For the world strip: degrees east of each region's city. */
export const REGION_LONGITUDE: Readonly<Record<RegionId, number>> = { eu: 8.7, us: -77.5, sg: 103.8 };

/**
 * A region's own round trip to an exchange's API host: the median of its recent measurements.
 * `ms` is null until the region has a measurement (or while it cannot reach the exchange).
 */
export const ExchangeLatency = z.object({
  exchange: ExchangeId,
  ms: z.number().nonnegative().nullable(),
  measuredAt: z.iso.datetime().nullable(),
  /** How many measurements the median is over; 0 for a configured (simulated) figure. */
  samples: z.number().int().nonnegative(),
  /** True when the figure comes from configuration (the local stack), not a measurement. */
  simulated: z.boolean(),
});
export type ExchangeLatency = z.infer<typeof ExchangeLatency>;

export const Region = RegionFacts.extend({
  probeUrl: z.url(),
  /** True when the region is a local stand-in (the embedded stack), not a real deployment. */
  simulated: z.boolean(),
  exchangeLatencies: z.array(ExchangeLatency),
});
export type Region = z.infer<typeof Region>;

export const RegionCatalog = z.object({ regions: z.array(Region) });
export type RegionCatalog = z.infer<typeof RegionCatalog>;

/** What a deployed region's edge publishes about itself (`GET /v1/probe/<region>/exchanges`). */
export const PublishedLatencies = z.object({ region: RegionId, exchangeLatencies: z.array(ExchangeLatency) });
export type PublishedLatencies = z.infer<typeof PublishedLatencies>;
