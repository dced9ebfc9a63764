import type { ErrorCode } from '../../src-shared/errors.ts';

/** An error a user can act on: a stable code for the UI (one of src-shared/errors.ts) and a message that says what to do. */
export class ServiceError extends Error {
  readonly code: ErrorCode;
  /** Set when the refusal is a wait: the seconds until trying again makes sense. */
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, message: string, retryAfterSeconds?: number) {
    super(message);
    this.name = 'ServiceError';
    this.code = code;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
