/** The phases of a build, as shown in logs, build records and failures. */
export type Phase = 'prepare' | 'analyze' | 'detect' | 'restore' | 'build' | 'export';

/** Stable reason codes a failed build carries (Build.failure_reason). */
export type FailureReason =
  | 'NOTHING_DETECTED'
  | 'DETECT_ERROR'
  | 'BUILDPACK_FAILED'
  | 'BUILDPACK_OUTPUT_INVALID'
  | 'LIMIT_EXCEEDED'
  | 'TIMEOUT'
  | 'EXPORT_FAILED'
  | 'PLATFORM_ERROR'
  | 'CANCELLED';

/**
 * A build that could not finish, with what a user needs to act: the phase, the buildpack (when one is to
 * blame), a message, a hint, and whether it is the user's input (vs. the platform's) at fault.
 */
export class BuildFailure extends Error {
  readonly phase: Phase;
  readonly buildpack: string | undefined;
  readonly reason: FailureReason;
  readonly hint: string | undefined;
  readonly userError: boolean;
  constructor(
    phase: Phase,
    reason: FailureReason,
    message: string,
    opts: { buildpack?: string; hint?: string; userError?: boolean; cause?: unknown } = {},
  ) {
    super(message, { cause: opts.cause });
    this.name = 'BuildFailure';
    this.phase = phase;
    this.reason = reason;
    this.buildpack = opts.buildpack;
    this.hint = opts.hint;
    this.userError = opts.userError ?? reason !== 'PLATFORM_ERROR';
  }
}
