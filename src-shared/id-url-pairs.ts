import { z } from 'zod';

/**
 * An environment variable that carries a map, `id=url,id=url`, parsed into one: each id checked by `ids`,
 * each url by `url`. A bad pair is one issue, worded by `expected` (given the pair; leave it out where a
 * value must not be echoed).
 */
export const idUrlPairs = <Id extends string>(ids: z.ZodType<Id>, url: z.ZodType<string>, expected: (pair: string) => string) =>
  z.string().transform((raw, ctx) => {
    const out: Partial<Record<Id, string>> = {};
    for (const pair of raw.split(',').filter(Boolean)) {
      const [id, value] = pair.split('=', 2);
      const key = ids.safeParse(id?.trim());
      const parsed = url.safeParse(value?.trim());
      if (!key.success || !parsed.success) {
        ctx.addIssue({ code: 'custom', message: expected(pair) });
        return z.NEVER;
      }
      out[key.data] = parsed.data;
    }
    return out;
  });
