/** Exit codes: 0 ok; 1 the operation failed (including "the build finished but failed"); 2 usage error. */
export const EXIT = { OK: 0, FAILED: 1, USAGE: 2 } as const;

/** An error meant for the user: a message, an optional hint, and the exit code to leave with. */
export class CliError extends Error {
  readonly hint: string | undefined;
  readonly exitCode: number;
  readonly code: string | undefined;
  constructor(
    message: string,
    opts: { hint?: string; exitCode?: number; code?: string; cause?: unknown } = {},
  ) {
    super(message, { cause: opts.cause });
    this.name = 'CliError';
    this.hint = opts.hint;
    this.exitCode = opts.exitCode ?? EXIT.FAILED;
    this.code = opts.code;
  }
}
