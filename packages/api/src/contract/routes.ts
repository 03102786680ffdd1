import { z } from 'zod';
import {
  BuildLogSchema,
  BuildParametersSchema,
  CancelResponseSchema,
  CleanResponseSchema,
  DeleteResponseSchema,
  GetResponseSchema,
  LatestResponseSchema,
  ListResponseSchema,
  QuotaResponseSchema,
  StartResponseSchema,
} from './builds.ts';
import { HealthResponseSchema } from './health.ts';
import { ImageListResponseSchema, SupportedVersionsResponseSchema } from './images.ts';
import {
  JobListResponseSchema,
  JobResponseSchema,
  MessagesOnlySchema,
  NewJobSchema,
  NewWebserviceSchema,
  WebserviceResponseSchema,
  WorkloadLogLineSchema,
} from './workloads.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/**
 * One route of the API: the single description that the server registers, the typed client calls and the
 * OpenAPI document is generated from. Paths use OpenAPI `{param}` syntax.
 */
export interface RouteDef {
  operationId: string;
  method: HttpMethod;
  path: string;
  summary: string;
  tags: readonly string[];
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** Body of the success reply (status `status`, default 200). */
  response: z.ZodType;
  status?: number;
  /** `stream` replies are NDJSON lines of `response`; `text` replies are plain text. */
  kind?: 'json' | 'stream' | 'text';
  /** Error statuses this route may answer with (each body is ErrorResponse unless errorBody says otherwise). */
  errors: readonly number[];
  errorBody?: z.ZodType;
  /** false for the public probes (healthz, metrics, openapi.json). */
  auth: boolean;
}

/** `true`/`false` as query strings; also `True`/`False`/`1`/`0`, which today's Python CLI sends. */
export const QueryBoolean = z.preprocess((v) => {
  if (typeof v !== 'string') return v;
  const s = v.toLowerCase();
  if (s === 'true' || s === '1') return true;
  if (s === 'false' || s === '0' || s === '') return false;
  return v;
}, z.boolean());

export const ToolParamsSchema = z.object({ toolname: z.string().describe('Name of the tool') });
export const BuildParamsSchema = ToolParamsSchema.extend({ id: z.string().describe('Id of the build') });

const ok = z.string();

export const buildRoutes = {
  start: {
    operationId: 'start',
    method: 'POST',
    path: '/v1/tool/{toolname}/builds',
    summary: 'Start a build of a git repository',
    tags: ['builds'],
    params: ToolParamsSchema,
    body: BuildParametersSchema,
    response: StartResponseSchema,
    errors: [400, 401, 403, 404, 413, 415, 500, 503],
    auth: true,
  },
  list: {
    operationId: 'list',
    method: 'GET',
    path: '/v1/tool/{toolname}/builds',
    summary: "List the tool's builds, newest first",
    tags: ['builds'],
    params: ToolParamsSchema,
    response: ListResponseSchema,
    errors: [401, 403, 500],
    auth: true,
  },
  latest: {
    operationId: 'latest',
    method: 'GET',
    path: '/v1/tool/{toolname}/builds/latest',
    summary: 'The latest build',
    tags: ['builds'],
    params: ToolParamsSchema,
    response: LatestResponseSchema,
    errors: [400, 401, 403, 404, 500],
    auth: true,
  },
  get: {
    operationId: 'get',
    method: 'GET',
    path: '/v1/tool/{toolname}/builds/{id}',
    summary: 'One build',
    tags: ['builds'],
    params: BuildParamsSchema,
    response: GetResponseSchema,
    errors: [400, 401, 403, 404, 500],
    auth: true,
  },
  delete: {
    operationId: 'delete',
    method: 'DELETE',
    path: '/v1/tool/{toolname}/builds/{id}',
    summary: 'Delete a build record and its logs (cancels it first when it is still running)',
    tags: ['builds'],
    params: BuildParamsSchema,
    response: DeleteResponseSchema,
    errors: [400, 401, 403, 404, 500],
    auth: true,
  },
  cancel: {
    operationId: 'cancel',
    method: 'PUT',
    path: '/v1/tool/{toolname}/builds/{id}/cancel',
    summary: 'Cancel a pending or running build',
    tags: ['builds'],
    params: BuildParamsSchema,
    response: CancelResponseSchema,
    errors: [400, 401, 403, 404, 409, 500],
    auth: true,
  },
  logs: {
    operationId: 'logs',
    method: 'GET',
    path: '/v1/tool/{toolname}/builds/{id}/logs',
    summary:
      'The build log as NDJSON BuildLog lines; with follow, stays open until the build ends. An error after ' +
      'streaming has begun arrives as a final ErrorResponse line.',
    tags: ['builds'],
    params: BuildParamsSchema,
    query: z.object({ follow: QueryBoolean.default(false).describe('Follow the logs') }),
    response: BuildLogSchema,
    kind: 'stream',
    errors: [400, 401, 403, 404, 500],
    auth: true,
  },
  clean: {
    operationId: 'clean',
    method: 'POST',
    path: '/v1/tool/{toolname}/clean',
    summary: "Remove the tool's built images, except those that running workloads use",
    tags: ['builds'],
    params: ToolParamsSchema,
    query: z.object({
      keep_latest: QueryBoolean.default(false).describe(
        "Keep each image's latest tag (an addition to the reference)",
      ),
    }),
    response: CleanResponseSchema,
    errors: [401, 403, 500, 503],
    auth: true,
  },
  quota: {
    operationId: 'quota',
    method: 'GET',
    path: '/v1/tool/{toolname}/quotas',
    summary: "The tool's image storage quota",
    tags: ['builds'],
    params: ToolParamsSchema,
    response: QuotaResponseSchema,
    errors: [401, 403, 500, 503],
    auth: true,
  },
  metrics: {
    operationId: 'metrics',
    method: 'GET',
    path: '/v1/metrics',
    summary: 'Prometheus metrics of the service',
    tags: ['service'],
    response: ok,
    kind: 'text',
    errors: [],
    auth: false,
  },
  healthcheck: {
    operationId: 'healthcheck',
    method: 'GET',
    path: '/v1/healthz',
    summary: 'Health of the service (503 with the reason when not ready)',
    tags: ['service'],
    response: HealthResponseSchema,
    errors: [503],
    errorBody: HealthResponseSchema,
    auth: false,
  },
  openapi: {
    operationId: 'openapi',
    method: 'GET',
    path: '/openapi.json',
    summary: 'This OpenAPI document',
    tags: ['service'],
    response: z.record(z.string(), z.unknown()),
    errors: [],
    auth: false,
  },
} as const satisfies Record<string, RouteDef>;

export const imageRoutes = {
  supportedVersions: {
    operationId: 'supportedVersions',
    method: 'GET',
    path: '/v1/supported-versions',
    summary: 'The builder and run image pairs builds may use',
    tags: ['images'],
    response: SupportedVersionsResponseSchema,
    errors: [500],
    auth: false,
  },
  images: {
    operationId: 'images',
    method: 'GET',
    path: '/v1/tool/{toolname}/images',
    summary: "The curated images and the tool's built images",
    tags: ['images'],
    params: ToolParamsSchema,
    response: ImageListResponseSchema,
    errors: [401, 403, 500, 503],
    auth: true,
  },
} as const satisfies Record<string, RouteDef>;

const JobParamsSchema = ToolParamsSchema.extend({ name: z.string().describe('Name of the job') });
const follow = z.object({ follow: QueryBoolean.default(false).describe('Follow the logs') });
const workload = <R extends Omit<RouteDef, 'auth' | 'tags'>>(r: R) =>
  ({ ...r, tags: ['workloads'] as const, auth: true as const }) satisfies RouteDef;

export const workloadRoutes = {
  jobsRun: workload({
    operationId: 'jobsRun',
    method: 'POST',
    path: '/v1/tool/{toolname}/jobs',
    summary: 'Run a job (one-off, scheduled or continuous); a job of that name is replaced',
    params: ToolParamsSchema,
    body: NewJobSchema,
    response: JobResponseSchema,
    status: 201,
    errors: [400, 401, 403, 500, 503],
  }),
  jobsList: workload({
    operationId: 'jobsList',
    method: 'GET',
    path: '/v1/tool/{toolname}/jobs',
    summary: "The tool's jobs",
    params: ToolParamsSchema,
    response: JobListResponseSchema,
    errors: [401, 403, 500, 503],
  }),
  jobsShow: workload({
    operationId: 'jobsShow',
    method: 'GET',
    path: '/v1/tool/{toolname}/jobs/{name}',
    summary: 'One job and its status',
    params: JobParamsSchema,
    response: JobResponseSchema,
    errors: [401, 403, 404, 500, 503],
  }),
  jobsDelete: workload({
    operationId: 'jobsDelete',
    method: 'DELETE',
    path: '/v1/tool/{toolname}/jobs/{name}',
    summary: 'Stop a job and remove it',
    params: JobParamsSchema,
    response: MessagesOnlySchema,
    errors: [401, 403, 404, 500, 503],
  }),
  jobsRestart: workload({
    operationId: 'jobsRestart',
    method: 'POST',
    path: '/v1/tool/{toolname}/jobs/{name}/restart',
    summary: 'Stop a job and start it again',
    params: JobParamsSchema,
    response: JobResponseSchema,
    errors: [401, 403, 404, 500, 503],
  }),
  jobsLogs: workload({
    operationId: 'jobsLogs',
    method: 'GET',
    path: '/v1/tool/{toolname}/jobs/{name}/logs',
    summary: "A job's output as NDJSON lines; with follow, stays open",
    params: JobParamsSchema,
    query: follow,
    response: WorkloadLogLineSchema,
    kind: 'stream',
    errors: [401, 403, 404, 500, 503],
  }),
  webserviceStart: workload({
    operationId: 'webserviceStart',
    method: 'PUT',
    path: '/v1/tool/{toolname}/webservice',
    summary: "Start (or replace) the tool's webservice from a built image",
    params: ToolParamsSchema,
    body: NewWebserviceSchema,
    response: WebserviceResponseSchema,
    errors: [400, 401, 403, 500, 503],
  }),
  webserviceStatus: workload({
    operationId: 'webserviceStatus',
    method: 'GET',
    path: '/v1/tool/{toolname}/webservice',
    summary: "The tool's webservice: its status and URL",
    params: ToolParamsSchema,
    response: WebserviceResponseSchema,
    errors: [401, 403, 404, 500, 503],
  }),
  webserviceStop: workload({
    operationId: 'webserviceStop',
    method: 'DELETE',
    path: '/v1/tool/{toolname}/webservice',
    summary: 'Stop the webservice',
    params: ToolParamsSchema,
    response: MessagesOnlySchema,
    errors: [401, 403, 404, 500, 503],
  }),
  webserviceRestart: workload({
    operationId: 'webserviceRestart',
    method: 'POST',
    path: '/v1/tool/{toolname}/webservice/restart',
    summary: 'Restart the webservice',
    params: ToolParamsSchema,
    response: WebserviceResponseSchema,
    errors: [401, 403, 404, 500, 503],
  }),
  webserviceLogs: workload({
    operationId: 'webserviceLogs',
    method: 'GET',
    path: '/v1/tool/{toolname}/webservice/logs',
    summary: "The webservice's output as NDJSON lines; with follow, stays open",
    params: ToolParamsSchema,
    query: follow,
    response: WorkloadLogLineSchema,
    kind: 'stream',
    errors: [401, 403, 404, 500, 503],
  }),
} as const satisfies Record<string, RouteDef>;

export const admissionRoutes = {
  admissionRegistryPolicy: {
    operationId: 'admissionRegistryPolicy',
    method: 'POST',
    path: '/v1/admission/registry-policy',
    summary:
      "Kubernetes' validating admission webhook for the registry policy (AdmissionReview v1 in and out); " +
      'called by the kube-apiserver, not by tools',
    tags: ['admission'],
    body: z.looseObject({ apiVersion: z.string().optional(), kind: z.string().optional() }),
    response: z.looseObject({ apiVersion: z.string(), kind: z.string(), response: z.looseObject({}) }),
    errors: [400, 500],
    auth: false,
  },
} as const satisfies Record<string, RouteDef>;

export const routes = {
  ...buildRoutes,
  ...imageRoutes,
  ...workloadRoutes,
  ...admissionRoutes,
} as const satisfies Record<string, RouteDef>;
export type Routes = typeof routes;
export type RouteName = keyof Routes;
