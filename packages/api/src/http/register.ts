import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { RouteDef, RouteName, Routes } from '../contract/index.ts';
import { messages, routes } from '../contract/index.ts';
import { AppError } from '../errors.ts';
import type { Identity } from './identity.ts';

type Parsed<R extends RouteDef> = {
  params: R['params'] extends z.ZodType ? z.output<R['params']> : Record<string, never>;
  query: R['query'] extends z.ZodType ? z.output<R['query']> : Record<string, never>;
  body: R['body'] extends z.ZodType ? z.output<R['body']> : undefined;
};

export interface HandlerContext {
  req: FastifyRequest;
  reply: FastifyReply;
  /** Set on authenticated routes: who is calling. */
  identity: Identity | undefined;
  /** Aborts when the client goes away or the server shuts down (used to stop following logs). */
  signal: AbortSignal;
}

type Result<R extends RouteDef> = R['kind'] extends 'stream'
  ? AsyncIterable<z.input<R['response']>>
  : z.input<R['response']>;

export type Handler<N extends RouteName> = (
  input: Parsed<Routes[N]>,
  ctx: HandlerContext,
) => Promise<Result<Routes[N]>>;

export type Authenticate = (req: FastifyRequest) => Promise<Identity>;

const closing = new WeakMap<FastifyInstance, AbortSignal>();

/** Aborts when the server starts closing: open log follows end so that shutdown does not wait on them. */
function closingSignal(app: FastifyInstance): AbortSignal {
  let signal = closing.get(app);
  if (!signal) {
    const c = new AbortController();
    app.addHook('preClose', async () => c.abort());
    signal = c.signal;
    closing.set(app, signal);
  }
  return signal;
}

/** `{param}` (OpenAPI) → `:param` (fastify). */
export const fastifyPath = (path: string) => path.replace(/\{(\w+)\}/g, ':$1');

function validate<T>(schema: z.ZodType<T> | undefined, value: unknown, where: string): T {
  if (!schema) return value as T;
  const parsed = schema.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${[where, ...i.path].join('.')}: ${i.message}`);
  throw new AppError('VALIDATION_FAILED', `Bad parameters passed: ${problems.join('; ')}`, {
    details: problems,
  });
}

/**
 * Register one contract route: validate params, query and body with its zod schemas, authenticate, check
 * that the path's tool is the caller's, then run the handler and send what it returns.
 */
export function register<N extends RouteName>(
  app: FastifyInstance,
  name: N,
  handler: Handler<N>,
  authenticate?: Authenticate,
): void {
  const route: RouteDef = routes[name];
  const shutdown = closingSignal(app);
  app.route({
    method: route.method,
    url: fastifyPath(route.path),
    handler: async (req, reply) => {
      let identity: Identity | undefined;
      if (route.auth) {
        if (!authenticate) throw new AppError('INTERNAL', 'no authentication configured');
        identity = await authenticate(req);
        const tool = (req.params as { toolname?: string }).toolname;
        if (tool !== undefined && tool !== identity.tool) {
          throw new AppError(
            'FORBIDDEN',
            `You are authenticated as tool '${identity.tool}', not '${tool}'.`,
            {
              hint: `Use the path /v1/tool/${identity.tool}/…`,
            },
          );
        }
      }
      const input = {
        params: validate(route.params, req.params, 'path'),
        query: validate(route.query, req.query, 'query'),
        body: route.body ? validate(route.body, req.body, 'body') : undefined,
      } as Parsed<Routes[N]>;
      const abort = new AbortController();
      reply.raw.on('close', () => abort.abort());
      const signal = AbortSignal.any([abort.signal, shutdown]);
      const result = await handler(input, { req, reply, identity, signal });
      if (route.kind === 'stream')
        return streamNdjson(reply, result as AsyncIterable<unknown>, signal, shutdown);
      if (route.kind === 'text') return reply.type('text/plain; version=0.0.4; charset=utf-8').send(result);
      if (route.status) reply.code(route.status);
      return reply.send(result);
    },
  });
}

/** NDJSON with backpressure; an error after the first byte becomes a final ErrorResponse line. */
async function streamNdjson(
  reply: FastifyReply,
  lines: AsyncIterable<unknown>,
  signal: AbortSignal,
  shutdown: AbortSignal,
) {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/plain; charset=utf-8',
    'cache-control': 'no-store',
    // Tell proxies (nginx in front of upstream's API does this) not to buffer a follow.
    'x-accel-buffering': 'no',
  });
  const write = (obj: unknown) =>
    new Promise<void>((resolve) => {
      if (res.write(`${JSON.stringify(obj)}\n`)) resolve();
      else res.once('drain', resolve);
    });
  const fail = (e: AppError) =>
    write({ ...messages({ error: [e.message] }), code: e.code, ...(e.hint ? { hint: e.hint } : {}) });
  try {
    for await (const line of lines) {
      if (signal.aborted || res.destroyed) break;
      await write(line);
    }
    if (shutdown.aborted && !res.destroyed)
      await fail(
        new AppError('NOT_READY', 'The build service is restarting; the log stopped here.', {
          hint: 'Follow it again in a moment.',
        }),
      );
  } catch (err) {
    const e =
      err instanceof AppError ? err : new AppError('INTERNAL', 'The log stream failed on the server.');
    if (!(err instanceof AppError)) reply.log.error({ err }, 'log stream failed');
    if (!res.destroyed) await fail(e);
  }
  res.end();
}
