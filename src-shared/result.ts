import type { ErrorCode } from './errors.ts';

/** What crosses every boundary we own (IPC, the browser-host bridge): a value or a stable error code. */
export type Result<T> = { ok: true; value: T } | { ok: false; code: ErrorCode; message: string };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = (code: ErrorCode, message: string): Result<never> => ({ ok: false, code, message });
