import { z } from 'zod';
import type { Build, BuildStatus } from '../../contract/index.ts';
import { sha256Envvars } from '../local/run-build.ts';
import { REDACTED } from '../local/to-build.ts';
import type { StartBuild } from '../port.ts';
import { ANNOTATIONS, LABELS, MANAGED_BY, PARAMS, PIPELINE, RESULTS, TEKTON, WORKSPACES } from './names.ts';

export interface TektonSettings {
  namespace: string;
  serviceAccount: string;
  timeoutSeconds: number;
  /** Registry repository of the build cache image, e.g. harbor/tool-x/img-cache; undefined = no cache image. */
  cacheImage?: (input: StartBuild) => string | undefined;
  extraBuildpacks: string[];
  registrySecret?: (input: StartBuild) => string | undefined;
}

const goDuration = (seconds: number) =>
  `${Math.floor(seconds / 3600)}h${Math.floor((seconds % 3600) / 60)}m${seconds % 60}s`;

/** The PipelineRun for a build (pure; `pending` holds it in Tekton's queue until the scheduler releases it). */
export function toPipelineRun(
  input: StartBuild,
  s: TektonSettings,
  opts: {
    pending: boolean;
    /** The build id, when the engine names the run itself (e.g. to name its per-run Secret first). */
    name?: string;
    /** The build's own push Secret (Harbor robot), instead of the shared one. */
    registrySecret?: string;
    annotations?: Record<string, string>;
  },
): Record<string, unknown> {
  const envvars = input.params.envvars ?? {};
  const cache = s.cacheImage?.(input);
  const secret = opts.registrySecret ?? s.registrySecret?.(input);
  const params: { name: string; value: string | string[] }[] = [
    { name: PARAMS.builder, value: input.builderImage },
    { name: PARAMS.runner, value: input.runImage },
    { name: PARAMS.appImage, value: input.destination },
    { name: PARAMS.sourceUrl, value: input.params.source_url },
    { name: PARAMS.sourceRef, value: input.resolvedRef },
    { name: PARAMS.unresolvedRef, value: input.params.ref ?? '' },
    { name: PARAMS.envVars, value: Object.entries(envvars).map(([k, v]) => `${k}=${v}`) },
    ...(cache ? [{ name: PARAMS.cacheImage, value: cache }] : []),
    ...(s.extraBuildpacks.length ? [{ name: PARAMS.extraBuildpacks, value: s.extraBuildpacks }] : []),
    ...(secret ? [{ name: PARAMS.registrySecret, value: secret }] : []),
  ];
  return {
    apiVersion: `${TEKTON.group}/${TEKTON.version}`,
    kind: 'PipelineRun',
    metadata: {
      ...(opts.name ? { name: opts.name } : { generateName: `${input.tool}-buildpacks-pipelinerun-` }),
      namespace: s.namespace,
      labels: {
        [LABELS.user]: input.tool,
        [LABELS.tool]: input.tool,
        [LABELS.image]: input.imageName,
        [LABELS.managedBy]: MANAGED_BY,
      },
      annotations: {
        [ANNOTATIONS.useLatest]: String(input.params.use_latest_versions),
        [ANNOTATIONS.useDeprecated]: String(input.params.use_deprecated_versions),
        [ANNOTATIONS.envvarNames]: JSON.stringify(Object.keys(envvars).sort()),
        [ANNOTATIONS.envvarsSha256]: sha256Envvars(envvars),
        ...opts.annotations,
      },
    },
    spec: {
      pipelineRef: { name: PIPELINE },
      params,
      taskRunTemplate: { serviceAccountName: s.serviceAccount },
      timeouts: { pipeline: goDuration(s.timeoutSeconds) },
      workspaces: [
        { name: WORKSPACES.source, emptyDir: {} },
        { name: WORKSPACES.cache, emptyDir: {} },
      ],
      ...(opts.pending ? { status: 'PipelineRunPending' } : {}),
    },
  };
}

const Condition = z.object({
  type: z.string(),
  status: z.string(),
  reason: z.string().optional(),
  message: z.string().optional(),
});

/** The subset of a PipelineRun the engine reads (validated: a cluster answer is input too). */
export const PipelineRunSchema = z.object({
  metadata: z.object({
    name: z.string(),
    uid: z.string().optional(),
    namespace: z.string().optional(),
    labels: z.record(z.string(), z.string()).default({}),
    annotations: z.record(z.string(), z.string()).default({}),
    creationTimestamp: z.string().optional(),
    resourceVersion: z.string().optional(),
  }),
  spec: z.object({
    status: z.string().optional(),
    params: z
      .array(z.object({ name: z.string(), value: z.union([z.string(), z.array(z.string())]) }))
      .default([]),
  }),
  status: z
    .object({
      conditions: z.array(Condition).optional(),
      startTime: z.string().optional(),
      completionTime: z.string().optional(),
      results: z.array(z.object({ name: z.string(), value: z.unknown() })).optional(),
      childReferences: z
        .array(
          z.object({
            name: z.string(),
            kind: z.string().optional(),
            pipelineTaskName: z.string().optional(),
          }),
        )
        .optional(),
    })
    .optional(),
});
export type PipelineRun = z.infer<typeof PipelineRunSchema>;

const CANCELLED = new Set(['PipelineRunCancelled', 'Cancelled', 'CancelledRunFinally', 'StoppedRunFinally']);

/** Upstream's mapping of the Succeeded condition to BUILD_* (with a pending state for queued runs). */
export function statusOf(pr: PipelineRun): { status: BuildStatus; message: string } {
  const c = pr.status?.conditions?.find((x) => x.type === 'Succeeded');
  const logsHint = `Check the logs with \`toolforge build logs ${pr.metadata.name}\``;
  if (!c) {
    return {
      status: 'BUILD_PENDING',
      message: `Build pending: it might not have started running yet. ${logsHint}`,
    };
  }
  const message = c.message ?? '';
  if (c.status === 'True') return { status: 'BUILD_SUCCESS', message };
  if (c.status === 'False') {
    if (c.reason === 'PipelineRunTimeout') return { status: 'BUILD_TIMEOUT', message };
    if (c.reason && CANCELLED.has(c.reason)) return { status: 'BUILD_CANCELLED', message };
    return { status: 'BUILD_FAILURE', message: `${message}. ${logsHint}` };
  }
  if (c.reason === 'PipelineRunPending' || c.reason === 'ResolvingPipelineRef')
    return { status: 'BUILD_PENDING', message };
  if (c.reason === 'Running' || c.reason === 'Started' || c.status === 'Unknown')
    return { status: 'BUILD_RUNNING', message };
  return { status: 'BUILD_UNKNOWN', message };
}

const param = (pr: PipelineRun, name: string): string => {
  const v = pr.spec.params.find((p) => p.name === name)?.value;
  return typeof v === 'string' ? v : '';
};
const result = (pr: PipelineRun, name: string): string => {
  const v = pr.status?.results?.find((r) => r.name === name)?.value;
  return typeof v === 'string' ? v : '';
};

/** The API's Build from a PipelineRun: the run is the record (parameters read back from params and annotations). */
export function toBuild(
  pr: PipelineRun,
  extra: { queuePosition?: number; failure?: { reason: string; hint?: string } } = {},
): Build {
  const { status, message } = statusOf(pr);
  const names = JSON.parse(pr.metadata.annotations[ANNOTATIONS.envvarNames] ?? '[]') as string[];
  const url = result(pr, RESULTS.url) || param(pr, PARAMS.appImage);
  const digest = result(pr, RESULTS.digest);
  const done = status !== 'BUILD_PENDING' && status !== 'BUILD_RUNNING';
  return {
    build_id: pr.metadata.name,
    status,
    message,
    start_time: pr.status?.startTime ?? '',
    end_time: pr.status?.completionTime ?? '',
    parameters: {
      source_url: param(pr, PARAMS.sourceUrl),
      ref: param(pr, PARAMS.unresolvedRef),
      envvars: Object.fromEntries(names.map((n) => [n, REDACTED])),
      image_name: pr.metadata.labels[LABELS.image] ?? url.split('/').pop()?.split(':')[0] ?? '',
      use_latest_versions: pr.metadata.annotations[ANNOTATIONS.useLatest] === 'true',
      use_deprecated_versions: pr.metadata.annotations[ANNOTATIONS.useDeprecated] === 'true',
    },
    destination_image: digest ? `${url}@${digest}` : url,
    resolved_ref: param(pr, PARAMS.sourceRef),
    phase: status === 'BUILD_PENDING' ? 'queued' : done ? 'done' : 'building',
    ...(extra.queuePosition ? { queue_position: extra.queuePosition } : {}),
    ...(done && extra.failure
      ? { failure_reason: extra.failure.reason, ...(extra.failure.hint ? { hint: extra.failure.hint } : {}) }
      : {}),
    inputs: {
      commit: param(pr, PARAMS.sourceRef),
      builder_image: param(pr, PARAMS.builder),
      run_image: param(pr, PARAMS.runner),
      ...(pr.metadata.annotations[ANNOTATIONS.envvarsSha256]
        ? { envvars_sha256: pr.metadata.annotations[ANNOTATIONS.envvarsSha256] }
        : {}),
    },
  };
}
