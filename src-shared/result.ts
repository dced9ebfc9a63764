import type { ErrorCode } from './errors.ts';

/** What crosses every boundary we own (IPC, the browser-host bridge): a value or a stable error code. */
export type Result<T> = { ok: true; value: T } | { ok: false; code: ErrorCode; message: string; retryAfterSeconds?: number };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
/** `retryAfterSeconds`: when the refusal is a wait (too many attempts), how long, so the UI can count it down. */
export const fail = (code: ErrorCode, message: string, retryAfterSeconds?: number): Result<never> =>
  retryAfterSeconds === undefined ? { ok: false, code, message } : { ok: false, code, message, retryAfterSeconds };
