export interface RetryOptions {
  /** Retries after the first attempt (default 4). */
  retries?: number;
  /** First backoff step (default 250 ms); doubles each retry, with full jitter. */
  baseDelayMs?: number;
  /** Cap of one backoff (default 8 s). */
  maxDelayMs?: number;
  /** Cap applied to a server's Retry-After (default 30 s). */
  maxRetryAfterMs?: number;
}

export type ResolvedRetry = Required<RetryOptions>;

export function resolveRetry(options: RetryOptions = {}): ResolvedRetry {
  return {
    retries: options.retries ?? 4,
    baseDelayMs: options.baseDelayMs ?? 250,
    maxDelayMs: options.maxDelayMs ?? 8000,
    maxRetryAfterMs: options.maxRetryAfterMs ?? 30_000,
  };
}

/** 5xx (except 501 Not Implemented) and 429 are worth another try; other 4xx never are. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status !== 501);
}

/** Full-jitter exponential backoff; a Retry-After (seconds or HTTP date) is honoured as a minimum. */
export function backoffDelay(attempt: number, retry: ResolvedRetry, retryAfter?: string | null): number {
  const exp = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** attempt);
  let delay = Math.random() * exp;
  if (retryAfter) {
    const seconds = Number(retryAfter);
    const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(retryAfter) - Date.now();
    if (Number.isFinite(ms) && ms > 0) delay = Math.max(delay, Math.min(ms, retry.maxRetryAfterMs));
  }
  return delay;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
