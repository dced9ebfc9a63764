import { z } from 'zod';

/** Responses of the API's public routes, parsed by the desktop app's client. */
export const Health = z.object({
  status: z.literal('ok'),
  version: z.string(),
  database: z.enum(['sqlite', 'postgres']),
  time: z.iso.datetime(),
});
export type Health = z.infer<typeof Health>;

export const ProbeResponse = z.object({ region: z.string(), time: z.number() });
export type ProbeResponse = z.infer<typeof ProbeResponse>;
