import http from 'node:http';
import https from 'node:https';
import type { z } from 'zod';
import { ErrorResponseSchema } from './errors.ts';
import type { RouteDef, RouteName, Routes } from './routes.ts';
import { routes as allRoutes } from './routes.ts';

export interface ClientOptions {
  /** e.g. http://127.0.0.1:8000, or https://gateway:30003/builds behind the Toolforge API gateway. */
  baseUrl: string;
  token?: string;
  tls?: { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer };
  /** Only for a gateway that trusts it; never sent unless set. */
  toolHeader?: string;
  userAgent?: string;
  /** Per-request timeout for ordinary calls (streams have none). */
  timeoutMs?: number;
}

type Input<R extends RouteDef> = (R['params'] extends z.ZodType ? { params: z.input<R['params']> } : object) &
  (R['query'] extends z.ZodType ? { query?: Partial<z.input<R['query']>> } : object) &
  (R['body'] extends z.ZodType ? { body: z.input<R['body']> } : object);
type Output<R extends RouteDef> = z.output<R['response']>;

/** Why a call failed: the server answered an error (`http`), nobody answered (`network`), or garbage came back. */
export class ApiClientError extends Error {
  readonly kind: 'http' | 'network' | 'protocol';
  readonly status: number | undefined;
  readonly code: string | undefined;
  readonly hint: string | undefined;
  constructor(
    kind: 'http' | 'network' | 'protocol',
    message: string,
    opts: { status?: number; code?: string; hint?: string; cause?: unknown } = {},
  ) {
    super(message, { cause: opts.cause });
    this.name = 'ApiClientError';
    this.kind = kind;
    this.status = opts.status;
    this.code = opts.code;
    this.hint = opts.hint;
  }
}

function fillPath(path: string, params: Record<string, string> = {}): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params[name] ?? ''));
}

function errorFromBody(status: number, text: string): ApiClientError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return new ApiClientError('http', text.trim() || `HTTP ${status}`, { status });
  }
  const body = ErrorResponseSchema.safeParse(parsed);
  if (body.success && body.data.error?.length) {
    return new ApiClientError('http', body.data.error.join('\n'), {
      status,
      ...(body.data.code ? { code: body.data.code } : {}),
      ...(body.data.hint ? { hint: body.data.hint } : {}),
    });
  }
  const message = (parsed as { message?: unknown })?.message;
  return new ApiClientError('http', typeof message === 'string' ? message : `HTTP ${status}`, { status });
}

/** A typed client for every route of the contract; the CLI's only way to reach the API. */
export function createClient(opts: ClientOptions) {
  const base = new URL(opts.baseUrl.endsWith('/') ? opts.baseUrl : `${opts.baseUrl}/`);
  const lib = base.protocol === 'https:' ? https : http;

  function send(route: RouteDef, input: Record<string, unknown>, signal?: AbortSignal) {
    const url = new URL(fillPath(route.path, input.params as Record<string, string>).slice(1), base);
    for (const [k, v] of Object.entries((input.query as Record<string, unknown>) ?? {})) {
      if (v !== undefined) url.searchParams.set(k, String(v));
    }
    const body = route.body ? JSON.stringify(input.body) : undefined;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.toolHeader) headers['x-toolforge-tool'] = opts.toolHeader;
    if (opts.userAgent) headers['user-agent'] = opts.userAgent;
    return new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = lib.request(
        url,
        { method: route.method, headers, ...(opts.tls ?? {}), ...(signal ? { signal } : {}) },
        resolve,
      );
      if (route.kind !== 'stream' && opts.timeoutMs) {
        req.setTimeout(opts.timeoutMs, () => req.destroy(new Error(`no answer within ${opts.timeoutMs} ms`)));
      }
      req.on('error', (err) =>
        reject(
          new ApiClientError('network', `cannot reach the build service at ${base.origin}: ${err.message}`, {
            cause: err,
          }),
        ),
      );
      req.end(body);
    });
  }

  async function readAll(res: http.IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  return {
    /** Call one route; resolves to its parsed success body, throws ApiClientError otherwise. */
    async call<N extends RouteName>(name: N, input: Input<Routes[N]>): Promise<Output<Routes[N]>> {
      const route: RouteDef = allRoutes[name];
      const res = await send(route, input as Record<string, unknown>);
      const text = await readAll(res);
      const status = res.statusCode ?? 0;
      if (status >= 400) throw errorFromBody(status, text);
      if (route.kind === 'text') return text as Output<Routes[N]>;
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (cause) {
        throw new ApiClientError(
          'protocol',
          `the build service sent a reply that is not JSON (HTTP ${status})`,
          { status, cause },
        );
      }
      const parsed = route.response.safeParse(json);
      if (!parsed.success) {
        throw new ApiClientError(
          'protocol',
          `unexpected reply from ${route.operationId}: ${parsed.error.message}`,
          { status },
        );
      }
      return parsed.data as Output<Routes[N]>;
    },

    /**
     * Stream an NDJSON route (logs). Yields each line's object; a final ErrorResponse line (an error after
     * streaming began) is thrown as ApiClientError, as is a non-2xx status before streaming.
     */
    async *stream<N extends RouteName>(
      name: N,
      input: Input<Routes[N]>,
      signal?: AbortSignal,
    ): AsyncGenerator<Output<Routes[N]>> {
      const route: RouteDef = allRoutes[name];
      const res = await send(route, input as Record<string, unknown>, signal);
      const status = res.statusCode ?? 0;
      if (status >= 400) throw errorFromBody(status, await readAll(res));
      let buffered = '';
      const handle = (line: string) => {
        if (!line.trim()) return undefined;
        let obj: unknown;
        try {
          obj = JSON.parse(line);
        } catch (cause) {
          throw new ApiClientError('protocol', `bad log line from the build service: ${line.slice(0, 200)}`, {
            cause,
          });
        }
        const err = ErrorResponseSchema.safeParse(obj);
        if (err.success && err.data.error?.length) throw errorFromBody(500, line);
        return route.response.parse(obj) as Output<Routes[N]>;
      };
      try {
        for await (const chunk of res) {
          buffered += (chunk as Buffer).toString('utf8');
          let nl = buffered.indexOf('\n');
          while (nl >= 0) {
            const out = handle(buffered.slice(0, nl));
            buffered = buffered.slice(nl + 1);
            if (out !== undefined) yield out;
            nl = buffered.indexOf('\n');
          }
        }
      } catch (err) {
        if (err instanceof ApiClientError) throw err;
        if (signal?.aborted) return;
        throw new ApiClientError('network', `the log stream broke: ${(err as Error).message}`, {
          cause: err,
        });
      }
      const last = handle(buffered);
      if (last !== undefined) yield last;
    },
  };
}
export type ApiClient = ReturnType<typeof createClient>;
