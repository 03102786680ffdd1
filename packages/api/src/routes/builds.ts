import type { FastifyInstance } from 'fastify';
import { messages } from '../contract/index.ts';
import { type Authenticate, register } from '../http/register.ts';
import type { BuildService } from '../services/build-service.ts';

/** The builds API v1: every handler is a call into the BuildService with the caller's tool. */
export function buildRoutes(app: FastifyInstance, builds: BuildService, authenticate: Authenticate): void {
  const tool = (ctx: { identity?: { tool: string } | undefined }) => ctx.identity?.tool as string;
  register(app, 'start', async ({ body }, ctx) => builds.start(tool(ctx), body), authenticate);
  register(
    app,
    'list',
    async (_i, ctx) => ({ messages: messages(), builds: await builds.list(tool(ctx)) }),
    authenticate,
  );
  register(
    app,
    'latest',
    async (_i, ctx) => ({ messages: messages(), build: await builds.latest(tool(ctx)) }),
    authenticate,
  );
  register(
    app,
    'get',
    async ({ params }, ctx) => ({ messages: messages(), build: await builds.get(tool(ctx), params.id) }),
    authenticate,
  );
  register(
    app,
    'delete',
    async ({ params }, ctx) => {
      await builds.delete(tool(ctx), params.id);
      return { messages: messages({ info: [`Build ${params.id} deleted.`] }), id: params.id };
    },
    authenticate,
  );
  register(
    app,
    'cancel',
    async ({ params }, ctx) => {
      await builds.cancel(tool(ctx), params.id);
      return { messages: messages({ info: [`Build ${params.id} cancelled.`] }), id: params.id };
    },
    authenticate,
  );
  register(
    app,
    'logs',
    async ({ params, query }, ctx) =>
      builds.logs(tool(ctx), params.id, { follow: query.follow, signal: ctx.signal }),
    authenticate,
  );
  register(
    app,
    'clean',
    async ({ query }, ctx) => builds.clean(tool(ctx), { keepLatest: query.keep_latest }),
    authenticate,
  );
  register(
    app,
    'quota',
    async (_i, ctx) => ({ messages: messages(), quota: await builds.quota(tool(ctx)) }),
    authenticate,
  );
}
