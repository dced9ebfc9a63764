import { z } from 'zod';
import { Region, RegionId } from './regions.ts';

/** The median of some round trips; null for none. */
export function median(values: readonly number[]): number | null {
  return percentile(values, 50);
}

/** The p-th percentile (0–100), interpolated between the nearest ranks; null for none. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (Math.min(Math.max(p, 0), 100) / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (rank - low);
}

/** Median, p90 and spread (p90 − p10: the span of the middle 80 % of round trips). */
export function summarize(values: readonly number[]): { medianMs: number | null; p90Ms: number | null; spreadMs: number | null } {
  const p10 = percentile(values, 10);
  const p90 = percentile(values, 90);
  return { medianMs: median(values), p90Ms: p90, spreadMs: p10 === null || p90 === null ? null : p90 - p10 };
}

const Ms = z.number().nonnegative();

/** The user's own round trips to one region, measured by the desktop app. */
export const RegionProbe = z.object({
  region: RegionId,
  status: z.enum(['ok', 'unreachable']),
  /** Connection set-up (TCP, and TLS for https), measured apart from the request round trips. */
  connectMs: Ms.nullable(),
  /** The request round trips kept, over the warmed connection; the first one is discarded. */
  samplesMs: z.array(Ms),
  medianMs: Ms.nullable(),
  p90Ms: Ms.nullable(),
  spreadMs: Ms.nullable(),
  /** Requests that failed or timed out after the connection was up. */
  lost: z.number().int().nonnegative(),
  /** Why a region counts as unreachable, in words. */
  error: z.string().optional(),
});
export type RegionProbe = z.infer<typeof RegionProbe>;

/** One probe of every region, with the catalog it went by (the regions' own exchange latencies at that time). */
export const ProbeRun = z.object({
  id: z.number().int().nonnegative(),
  startedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime(),
  durationMs: Ms,
  regions: z.array(Region),
  results: z.array(RegionProbe),
});
export type ProbeRun = z.infer<typeof ProbeRun>;

/** Progress of a probe under way, one region at a time; `run` is set once every region has answered or timed out. */
export const ProbeProgress = z.object({
  startedAt: z.iso.datetime(),
  total: z.number().int().nonnegative(),
  results: z.array(RegionProbe),
  run: ProbeRun.nullable(),
});
export type ProbeProgress = z.infer<typeof ProbeProgress>;
