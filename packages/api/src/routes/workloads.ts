import type { FastifyInstance } from 'fastify';
import { messages } from '../contract/index.ts';
import { type Authenticate, register } from '../http/register.ts';
import type { WorkloadService } from '../services/workloads-service.ts';

/** The workloads API: the tool's jobs and webservice. */
export function workloadRoutes(app: FastifyInstance, w: WorkloadService, authenticate: Authenticate): void {
  const tool = (ctx: { identity?: { tool: string } | undefined }) => ctx.identity?.tool as string;
  register(
    app,
    'jobsRun',
    async ({ body }, ctx) => {
      const { job, warnings } = await w.runJob(tool(ctx), body);
      return { job, messages: messages({ info: [`Job '${job.name}' created.`], warning: warnings }) };
    },
    authenticate,
  );
  register(
    app,
    'jobsList',
    async (_i, ctx) => ({ jobs: await w.jobs(tool(ctx)), messages: messages() }),
    authenticate,
  );
  register(
    app,
    'jobsShow',
    async ({ params }, ctx) => ({ job: await w.job(tool(ctx), params.name), messages: messages() }),
    authenticate,
  );
  register(
    app,
    'jobsDelete',
    async ({ params }, ctx) => {
      await w.deleteJob(tool(ctx), params.name);
      return { messages: messages({ info: [`Job '${params.name}' deleted.`] }) };
    },
    authenticate,
  );
  register(
    app,
    'jobsRestart',
    async ({ params }, ctx) => {
      const { job, info, warnings } = await w.restartJob(tool(ctx), params.name);
      return { job, messages: messages({ info, warning: warnings }) };
    },
    authenticate,
  );
  register(
    app,
    'jobsLogs',
    async ({ params, query }, ctx) =>
      w.logs(tool(ctx), 'job', params.name, { follow: query.follow, signal: ctx.signal }),
    authenticate,
  );
  register(
    app,
    'webserviceStart',
    async ({ body }, ctx) => {
      const { webservice, warnings } = await w.startWebservice(tool(ctx), body);
      return { webservice, messages: messages({ info: ['Starting the webservice.'], warning: warnings }) };
    },
    authenticate,
  );
  register(
    app,
    'webserviceStatus',
    async (_i, ctx) => ({ webservice: await w.webservice(tool(ctx)), messages: messages() }),
    authenticate,
  );
  register(
    app,
    'webserviceStop',
    async (_i, ctx) => {
      await w.stopWebservice(tool(ctx));
      return { messages: messages({ info: ['Stopped the webservice.'] }) };
    },
    authenticate,
  );
  register(
    app,
    'webserviceRestart',
    async (_i, ctx) => {
      const { webservice, info, warnings } = await w.restartWebservice(tool(ctx));
      return { webservice, messages: messages({ info, warning: warnings }) };
    },
    authenticate,
  );
  register(
    app,
    'webserviceLogs',
    async ({ query }, ctx) =>
      w.logs(tool(ctx), 'webservice', 'webservice', { follow: query.follow, signal: ctx.signal }),
    authenticate,
  );
}
