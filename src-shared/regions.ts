import { z } from 'zod';

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

export const Region = RegionFacts.extend({
  probeUrl: z.url(),
  /** True when the region is a local stand-in (the embedded stack), not a real deployment. */
  simulated: z.boolean(),
});
export type Region = z.infer<typeof Region>;

export const RegionCatalog = z.object({ regions: z.array(Region) });
export type RegionCatalog = z.infer<typeof RegionCatalog>;
