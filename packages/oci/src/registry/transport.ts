import { Authenticator, type RegistryCredentials } from './auth.ts';
import { parseErrorBody, RegistryError } from './errors.ts';
import { RegistryResponse, Watchdog } from './response.ts';
import { backoffDelay, isRetryableStatus, type ResolvedRetry, sleep } from './retry.ts';

/** Request body: bytes, or a factory so the body can be sent again after an auth challenge. */
export type RequestBody = Uint8Array | (() => AsyncIterable<Uint8Array>);

export interface RequestSpec {
  method: string;
  /** Absolute, or relative to the registry base URL. */
  url: string | URL;
  /** Token scopes the request needs, e.g. ['repository:foo:pull']. */
  scopes: readonly string[];
  headers?: Record<string, string>;
  body?: RequestBody;
  /** Retry 5xx/429/network failures here (default true). Off for upload steps, which restart instead. */
  retry?: boolean;
  /** Non-2xx statuses handed back instead of thrown (e.g. 404 for existence checks). */
  allow?: readonly number[];
  /** Count body bytes as blob bytes. */
  blobTransfer?: boolean;
}

export interface RegistryStats {
  requests: number;
  retries: number;
  blobBytesUploaded: number;
  blobBytesDownloaded: number;
  blobsUploaded: number;
  blobsMounted: number;
  blobsSkipped: number;
  chunkedUploads: number;
}

export interface TransportOptions {
  baseUrl: URL;
  credentials: RegistryCredentials | undefined;
  timeoutMs: number;
  retry: ResolvedRetry;
  fetch: typeof fetch;
  userAgent: string;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;

/**
 * HTTP plumbing of the registry client: auth challenges, bounded retries with backoff, manual redirects
 * (Authorization never leaves the registry's host), inactivity timeouts and typed errors.
 */
export class Transport {
  readonly stats: RegistryStats = {
    requests: 0,
    retries: 0,
    blobBytesUploaded: 0,
    blobBytesDownloaded: 0,
    blobsUploaded: 0,
    blobsMounted: 0,
    blobsSkipped: 0,
    chunkedUploads: 0,
  };
  readonly options: TransportOptions;
  readonly auth: Authenticator;

  constructor(options: TransportOptions) {
    this.options = options;
    this.auth = new Authenticator(options.credentials, (url, authorization) => {
      const spec: RequestSpec = { method: 'GET', url, scopes: [], allow: [401, 403] };
      return this.#withRetries(spec, () => this.#send(spec, authorization, true));
    });
  }

  /** Sends a request; returns 2xx (and `allow`ed) responses, throws RegistryError for the rest. */
  request(spec: RequestSpec): Promise<RegistryResponse> {
    return this.#withRetries(spec, () => this.#authenticated(spec));
  }

  /** Waits as the retry policy says before retry number `attempt` (0-based). */
  async backoff(attempt: number, retryAfter?: string | null): Promise<void> {
    this.stats.retries++;
    await sleep(backoffDelay(attempt, this.options.retry, retryAfter));
  }

  /** Whether an error is worth retrying: network failures, timeouts, 5xx and 429. */
  isRetryable(err: unknown): boolean {
    return err instanceof RegistryError && (err.status === undefined || isRetryableStatus(err.status));
  }

  async #withRetries(spec: RequestSpec, send: () => Promise<RegistryResponse>): Promise<RegistryResponse> {
    const maxAttempts = spec.retry === false ? 1 : this.options.retry.retries + 1;
    for (let attempt = 0; ; attempt++) {
      const last = attempt + 1 >= maxAttempts;
      let res: RegistryResponse;
      try {
        res = await send();
      } catch (err) {
        if (err instanceof RegistryError && err.status !== undefined) throw err;
        const error = err instanceof RegistryError ? err : this.#networkError(spec, err);
        if (last) throw error;
        await this.backoff(attempt);
        continue;
      }
      if (res.ok || spec.allow?.includes(res.status)) return res;
      const error = await this.#errorFrom(spec, res);
      if (last || !isRetryableStatus(res.status)) throw error;
      await this.backoff(attempt, res.headers.get('retry-after'));
    }
  }

  /** One attempt, re-sent once after a 401 with (fresh) credentials for the challenge. */
  async #authenticated(spec: RequestSpec): Promise<RegistryResponse> {
    const authorization = await this.auth.authorization(spec.scopes);
    const res = await this.#send(spec, authorization);
    if (res.status !== 401) return res;
    const scopes = this.auth.challenge(res.headers.get('www-authenticate'), spec.scopes, authorization);
    if (!scopes) return res;
    await res.discard();
    return this.#send(spec, await this.auth.authorization(scopes));
  }

  /** Sends with manual redirects; `tokenRealm` lets credentials go to the realm's host instead. */
  async #send(
    spec: RequestSpec,
    authorization: string | undefined,
    tokenRealm = false,
  ): Promise<RegistryResponse> {
    const base = this.options.baseUrl;
    let url = new URL(spec.url, base);
    const authHost = tokenRealm ? url.host : base.host;
    let method = spec.method;
    let body = spec.body;
    for (let hop = 0; ; hop++) {
      const headers = new Headers(spec.headers);
      headers.set('user-agent', this.options.userAgent);
      // Never forward credentials to another host (redirects to storage, foreign upload URLs).
      if (authorization && url.host === authHost) headers.set('authorization', authorization);
      const watchdog = new Watchdog(this.options.timeoutMs);
      const init: RequestInit & { duplex?: 'half' } = {
        method,
        headers,
        redirect: 'manual',
        signal: watchdog.signal,
      };
      if (body instanceof Uint8Array) {
        init.body = body;
        if (spec.blobTransfer) this.stats.blobBytesUploaded += body.length;
      } else if (body) {
        init.body = this.#streamBody(
          body(),
          watchdog,
          spec.blobTransfer === true,
        ) as unknown as RequestInit['body'];
        init.duplex = 'half';
      }
      let res: Response;
      try {
        this.stats.requests++;
        res = await this.options.fetch(url, init);
        watchdog.kick();
      } catch (err) {
        watchdog.clear();
        throw this.#networkError({ ...spec, method, url }, err, watchdog.fired);
      }
      const location = res.headers.get('location');
      if (REDIRECTS.has(res.status) && location && hop < MAX_REDIRECTS) {
        watchdog.clear();
        await res.body?.cancel().catch(() => {});
        url = new URL(location, url);
        if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
          method = 'GET';
          body = undefined;
        }
        continue;
      }
      const onBytes =
        spec.blobTransfer && method === 'GET'
          ? (n: number) => (this.stats.blobBytesDownloaded += n)
          : undefined;
      return new RegistryResponse(res, url, watchdog, onBytes);
    }
  }

  async *#streamBody(source: AsyncIterable<Uint8Array>, watchdog: Watchdog, count: boolean) {
    for await (const chunk of source) {
      watchdog.kick();
      if (count) this.stats.blobBytesUploaded += chunk.length;
      yield chunk;
    }
  }

  async #errorFrom(spec: RequestSpec, res: RegistryResponse): Promise<RegistryError> {
    let text = '';
    if (spec.method !== 'HEAD') {
      try {
        text = (await res.bytes(64 * 1024)).toString('utf8');
      } catch {
        await res.discard();
      }
    } else await res.discard();
    const errors = parseErrorBody(text);
    const auth = res.headers.get('www-authenticate');
    const reason =
      res.status === 401 && auth?.includes('insufficient_scope') ? 'insufficient scope' : undefined;
    return new RegistryError({
      method: spec.method,
      url: res.url,
      status: res.status,
      errors,
      reason,
      secrets: this.auth.secrets,
    });
  }

  #networkError(spec: RequestSpec, err: unknown, timedOut = false): RegistryError {
    if (err instanceof RegistryError) return err;
    const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
    const what = timedOut
      ? `timed out after ${this.options.timeoutMs} ms without progress`
      : `network error (${cause?.code ?? cause?.message ?? (err as Error)?.message ?? String(err)})`;
    return new RegistryError({
      method: spec.method,
      url: new URL(spec.url, this.options.baseUrl),
      reason: what,
      secrets: this.auth.secrets,
      cause: err,
    });
  }
}
