/** Tekton names the builds API relies on; a test checks them against the YAML in tekton/. */
export const TEKTON = {
  group: 'tekton.dev',
  version: 'v1',
  pipelineruns: 'pipelineruns',
  taskruns: 'taskruns',
} as const;

export const PIPELINE = 'buildpacks';
export const PIPELINE_TASK = 'build-from-git';

/** Params the engine sends (all declared by the Pipeline; the first seven are upstream's). */
export const PARAMS = {
  builder: 'BUILDER_IMAGE',
  runner: 'RUN_IMAGE',
  appImage: 'APP_IMAGE',
  sourceUrl: 'SOURCE_URL',
  sourceRef: 'SOURCE_REFERENCE',
  unresolvedRef: 'UNRESOLVED_SOURCE_REFERENCE',
  envVars: 'ENV_VARS',
  cacheImage: 'CACHE_IMAGE',
  extraBuildpacks: 'EXTRA_BUILDPACKS',
  registrySecret: 'REGISTRY_SECRET',
} as const;

export const WORKSPACES = { source: 'source-ws', cache: 'cache-ws' } as const;
export const RESULTS = { url: 'APP_IMAGE_URL', digest: 'APP_IMAGE_DIGEST' } as const;

/** Labels on PipelineRuns: upstream's `user`, plus ours. */
export const LABELS = {
  user: 'user',
  tool: 'toolforge.org/tool',
  image: 'toolforge.org/image',
  managedBy: 'app.kubernetes.io/managed-by',
} as const;
export const MANAGED_BY = 'toolforge-builds-api';

/** Annotations that keep what PipelineRun params cannot (so the run stays the only record). */
export const ANNOTATIONS = {
  useLatest: 'toolforge.org/use-latest-versions',
  useDeprecated: 'toolforge.org/use-deprecated-versions',
  envvarNames: 'toolforge.org/envvar-names',
  envvarsSha256: 'toolforge.org/envvars-sha256',
  /** The build's push credentials (a Harbor robot id), until they are revoked when the run ends. */
  pushAccess: 'toolforge.org/push-access',
} as const;

/** Tekton's pod labels for finding a run's pods. */
export const POD_LABEL_PIPELINERUN = 'tekton.dev/pipelineRun';
