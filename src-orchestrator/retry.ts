// Retries for the cloud engines' transient answers (rate limits, server errors, conflicts): exponential backoff
// with full jitter, so many orchestrators retrying at once spread out instead of hitting the engine together.
import { setTimeout as sleep } from 'node:timers/promises';
import type { OrchestratorLog } from './log.ts';

export interface RetryPolicy {
  /** Tries in all, the first included. */
  attempts: number;
  firstDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, firstDelayMs: 200, maxDelayMs: 10_000 };

/** What a failed call says about trying again: not at all, or after at least this long (the engine's Retry-After). */
export type RetryVerdict = { retry: false } | { retry: true; afterMs: number; why: string };

/** Retry-After in seconds or as an HTTP date, as milliseconds from now; 0 when absent or unreadable. */
export function retryAfterMs(header: string | null | undefined, now = Date.now()): number {
  if (!header) return 0;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? 0 : Math.max(0, at - now);
}

export async function withRetries<T>(
  what: string,
  call: () => Promise<T>,
  classify: (error: unknown) => RetryVerdict,
  policy: RetryPolicy,
  log: OrchestratorLog,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const verdict = classify(error);
      if (!verdict.retry || attempt >= policy.attempts) throw error;
      const ceiling = Math.min(policy.maxDelayMs, policy.firstDelayMs * 2 ** (attempt - 1));
      const delay = Math.max(verdict.afterMs, Math.random() * ceiling);
      log.warn({ call: what, attempt, delayMs: Math.round(delay), why: verdict.why }, 'transient engine error: retrying');
      await sleep(delay);
    }
  }
}
