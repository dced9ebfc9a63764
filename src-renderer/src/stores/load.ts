import type { Result } from '../../../src-shared/result.ts';

/** Where a list the store fetches from main stands. */
export type Load = { state: 'idle' } | { state: 'loading' } | { state: 'ready' } | { state: 'error'; message: string };

/**
 * Fetches a list unless a fetch is already under way: `set` hears `loading`, then `ready` with the
 * value, or `error` with the reason.
 */
export async function guardedLoad<T>(current: Load, fetch: () => Promise<Result<T>>, set: (load: Load, value?: T) => void): Promise<void> {
  if (current.state === 'loading') return;
  set({ state: 'loading' });
  const result = await fetch();
  if (result.ok) set({ state: 'ready' }, result.value);
  else set({ state: 'error', message: result.message });
}
