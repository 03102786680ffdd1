import type { ErrorCode } from './contract/index.ts';
import { STATUS_BY_CODE } from './contract/index.ts';

/**
 * A domain error with a code from the closed list; the one error handler turns it into the reference
 * envelope. Throw these from services; anything else that escapes is a bug and becomes a 500 INTERNAL.
 */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly details: unknown;
  constructor(
    code: ErrorCode,
    message: string,
    opts: { hint?: string; details?: unknown; cause?: unknown } = {},
  ) {
    super(message, { cause: opts.cause });
    this.name = 'AppError';
    this.code = code;
    this.hint = opts.hint;
    this.details = opts.details;
  }
  get status(): number {
    return STATUS_BY_CODE[this.code];
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}
