/**
 * Tests wait for a signal (a condition that becomes true), never for a length of time. The deadline only
 * turns a signal that never comes into a failure with a name; it is generous because a loaded 2-core
 * machine is slow, not wrong, and it stays under Vitest's 30 s test timeout so the name is what you see.
 */
export const SIGNAL_TIMEOUT_MS = 20_000;

/** How often a condition is looked at again: a poll, not a pause the test relies on. */
const POLL_MS = 20;

export interface WaitOptions {
  /** What is awaited, for the failure message. */
  what?: string;
  timeoutMs?: number;
}

/** Resolves with the first truthy value `probe` gives; fails naming `what` after the deadline. */
export async function waitFor<T>(
  probe: () => T | null | undefined | false | Promise<T | null | undefined | false>,
  { what = 'the condition', timeoutMs = SIGNAL_TIMEOUT_MS }: WaitOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
