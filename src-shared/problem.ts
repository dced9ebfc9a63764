import { z } from 'zod';

/** RFC 9457 problem details, with the stable `code` clients branch on. */
export const Problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  code: z.string(),
  detail: z.string().optional(),
  instance: z.string().optional(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  /** Set with 429: how long to wait before trying again (also in the Retry-After header). */
  retryAfterSeconds: z.number().int().positive().optional(),
});
export type Problem = z.infer<typeof Problem>;

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
