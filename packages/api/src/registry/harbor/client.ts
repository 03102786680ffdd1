import { AppError } from '../../errors.ts';

/** A Harbor answer other than success; `status` 0 when Harbor could not be reached or timed out. */
export class HarborError extends Error {
  readonly status: number;
  constructor(status: number, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.status = status;
  }
}

/**
 * What callers turn every Harbor failure into: one clear 503 naming the operation and the HTTP status,
 * never Harbor's own text (an error body may echo what it was sent) or a stack.
 */
export function harborUnavailable(what: string, err: unknown): AppError {
  const detail =
    err instanceof HarborError ? (err.status ? `HTTP ${err.status}` : err.message) : 'unexpected error';
  return new AppError('REGISTRY_UNAVAILABLE', `Harbor unavailable (${what}: ${detail}).`, {
    hint: 'Retry in a few minutes; if it persists, tell the Toolforge admins.',
    cause: err,
  });
}

export interface HarborClientOptions {
  url: string;
  username: string;
  password: string;
  timeoutMs?: number;
}

/**
 * Harbor's REST API v2.0 with Basic auth (no session cookie, so no CSRF token is needed). Reads are
 * retried once on 5xx or a timeout; writes are not (the caller decides how to undo).
 */
export class HarborClient {
  readonly url: URL;
  private readonly auth: string;
  private readonly timeoutMs: number;

  constructor(o: HarborClientOptions) {
    this.url = new URL(o.url);
    this.auth = `Basic ${Buffer.from(`${o.username}:${o.password}`).toString('base64')}`;
    this.timeoutMs = o.timeoutMs ?? 10_000;
  }

  /** `/api/v2.0/<path>` with JSON; resolves to the parsed body (undefined when empty), 404 → undefined if allowed. */
  async request<T>(
    method: string,
    path: string,
    opts: { body?: unknown; allow404?: boolean; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; body: T | undefined; headers: Headers }> {
    const attempts = method === 'GET' || method === 'HEAD' ? 2 : 1;
    let last: unknown;
    for (let i = 0; i < attempts; i++) {
      try {
        const res = await fetch(new URL(`/api/v2.0${path}`, this.url), {
          method,
          headers: {
            authorization: this.auth,
            accept: 'application/json',
            'X-Is-Resource-Name': 'true',
            ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
            ...opts.headers,
          },
          ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        const text = await res.text();
        if (res.ok)
          return { status: res.status, body: text ? parseJson<T>(text) : undefined, headers: res.headers };
        if (res.status === 404 && opts.allow404)
          return { status: 404, body: undefined, headers: res.headers };
        // Not Harbor's message: the error is logged (as a 503's cause), and Harbor's text may echo secrets.
        last = new HarborError(res.status, `${method} ${path.split('?')[0]}: HTTP ${res.status}`);
        if (res.status < 500) throw last;
      } catch (err) {
        if (err instanceof HarborError && err.status < 500 && err.status !== 0) throw err;
        last =
          err instanceof HarborError
            ? err
            : new HarborError(0, (err as Error).name === 'TimeoutError' ? 'timed out' : 'unreachable', err);
      }
    }
    throw last;
  }

  /** Every page of a list endpoint (Harbor pages at most 100). */
  async list<T>(path: string): Promise<T[]> {
    const out: T[] = [];
    const sep = path.includes('?') ? '&' : '?';
    for (let page = 1; page < 10_000; page++) {
      const { body, headers } = await this.request<T[]>('GET', `${path}${sep}page=${page}&page_size=100`, {
        allow404: true,
      });
      out.push(...(body ?? []));
      const total = Number(headers.get('x-total-count') ?? Number.NaN);
      if (!body || body.length < 100 || (Number.isFinite(total) && out.length >= total)) break;
    }
    return out;
  }
}

function parseJson<T>(text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    // JSON.parse quotes the text it refused: keep that (a robot's secret, say) out of the error.
    throw new HarborError(0, 'Harbor answered something other than JSON');
  }
}
