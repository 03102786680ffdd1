import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';

const LogLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** Every setting of the API, read once from the environment at start-up (nowhere else reads process.env). */
export const ConfigSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8000),
  TOOLFORGE_ADDRESS: z.string().min(1).default('127.0.0.1'),
  LOG_LEVEL: LogLevel.default('info'),
  TOOLFORGE_DATA_DIR: z.string().min(1).default(path.resolve('.data')),
  /** Where stacks, builders and Debian downloads live (default: the data folder); may be shared. */
  TOOLFORGE_STACK_DIR: z.string().min(1).optional(),
  /** Seconds a SIGTERM waits for in-flight requests before the process exits anyway. */
  TOOLFORGE_SHUTDOWN_GRACE_SECONDS: z.coerce.number().int().min(0).max(3600).default(20),
  TOOLFORGE_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  TOOLFORGE_CORES: z.coerce.number().int().min(1).default(os.availableParallelism()),

  // Engine and builds
  TOOLFORGE_ENGINE: z.enum(['local', 'tekton']).default('local'),
  TOOLFORGE_MAX_BUILDS_PER_TOOL: z.coerce.number().int().min(1).max(100).default(4),
  /** Concurrent builds on this machine (embedded engine); default: the number of cores. */
  TOOLFORGE_MAX_BUILDS: z.coerce.number().int().min(1).max(1000).optional(),
  TOOLFORGE_BUILD_TIMEOUT_SECONDS: z.coerce
    .number()
    .int()
    .min(10)
    .max(24 * 3600)
    .default(1800),
  /** Build records kept per tool and image (upstream's OK_BUILDS_TO_KEEP / FAILED_BUILDS_TO_KEEP). */
  OK_BUILDS_TO_KEEP: z.coerce.number().int().min(0).default(4),
  FAILED_BUILDS_TO_KEEP: z.coerce.number().int().min(0).default(2),
  TOOLFORGE_BUILD_MEMORY_MB: z.coerce.number().int().min(64).default(4096),
  TOOLFORGE_BUILD_PIDS: z.coerce.number().int().min(16).default(2048),
  TOOLFORGE_BUILD_LOG_MB: z.coerce.number().int().min(1).default(64),
  TOOLFORGE_BUILD_DISK_MB: z.coerce.number().int().min(16).default(10240),
  TOOLFORGE_BUILD_TMP_MB: z.coerce.number().int().min(16).default(2048),
  TOOLFORGE_DETECT_TIMEOUT_SECONDS: z.coerce.number().int().min(1).default(60),
  TOOLFORGE_GIT_TIMEOUT_SECONDS: z.coerce.number().int().min(1).default(300),
  /** Extra CA certificates builds trust (PEM file or folder), e.g. a TLS-inspecting proxy's; "" for none. */
  TOOLFORGE_BUILD_CA_CERTS: z.string().default('/usr/local/share/ca-certificates'),

  /**
   * Where the image catalogue is published: `file:<path>`, `configmap:<namespace>/<name>`, or `none`.
   * Default: `file:<data>/catalogue/catalogue.yaml` embedded, `configmap:tf-public/image-config` on Tekton.
   */
  TOOLFORGE_CATALOGUE: z
    .string()
    .regex(
      /^(file:.+|configmap:[a-z0-9-]+\/[a-z0-9.-]+|none)$/,
      'file:<path>, configmap:<namespace>/<name> or none',
    )
    .optional(),

  // Workloads (webservices and jobs)
  /** Where they run: `local` (embedded default), `kubernetes` (default with the Tekton engine), `none`. */
  TOOLFORGE_RUNTIME: z.enum(['local', 'kubernetes', 'none']).optional(),
  /** Webservices on Kubernetes answer at https://<tool>.<domain>/. */
  TOOLFORGE_WEB_DOMAIN: z.string().min(1).default('toolforge.org'),
  TOOLFORGE_INGRESS_CLASS: z.string().optional(),
  /** A Secret in each tool namespace for pulling private images (Toolforge's projects are public). */
  TOOLFORGE_IMAGE_PULL_SECRET: z.string().optional(),
  TOOLFORGE_WORKLOAD_MEMORY: z.string().default('512Mi'),
  TOOLFORGE_WORKLOAD_CPU: z.string().default('0.5'),
  /**
   * The registry policy: `builtin` (this service's registry plus TOOLFORGE_ALLOWED_REGISTRIES; the
   * embedded default), `file:<path>` or `configmap:<namespace>/<name>` (default with Tekton:
   * configmap:registry-policy/registry-policy, the one deploy/registry-policy installs).
   */
  TOOLFORGE_REGISTRY_POLICY: z
    .string()
    .regex(
      /^(builtin|file:.+|configmap:[a-z0-9-]+\/[a-z0-9.-]+)$/,
      'builtin, file:<path> or configmap:<namespace>/<name>',
    )
    .optional(),
  TOOLFORGE_ALLOWED_REGISTRIES: z.string().default(''),

  // Builder and run image pairs, with upstream builds-api's names (refs into the stack store here); a
  // published catalogue's builders take their place.
  BUILDER: z.string().min(1).default('toolforge/bookworm-builder:latest'),
  RUNNER: z.string().min(1).default('toolforge/bookworm-run:latest'),
  LATEST_BUILDER: z.string().min(1).optional(),
  LATEST_RUNNER: z.string().min(1).optional(),
  DEPRECATED_BUILDER: z.string().min(1).optional(),
  DEPRECATED_RUNNER: z.string().min(1).optional(),
  DEPRECATED_VALID_UNTIL: z.iso.date().optional(),

  // Build-time variables
  TOOLFORGE_ENVVARS_MAX_COUNT: z.coerce.number().int().min(0).default(100),
  TOOLFORGE_ENVVARS_MAX_VALUE_BYTES: z.coerce
    .number()
    .int()
    .min(1)
    .default(64 * 1024),
  TOOLFORGE_ENVVARS_MAX_TOTAL_BYTES: z.coerce
    .number()
    .int()
    .min(1)
    .default(256 * 1024),

  // Sources
  /** file:// sources (local repositories); on by default only for the embedded engine. */
  TOOLFORGE_ALLOW_FILE_SOURCES: z.stringbool().optional(),
  /** Comma-separated hosts allowed although private or loopback (embedded default: 127.0.0.1, localhost). */
  TOOLFORGE_SOURCE_ALLOWED_HOSTS: z.string().optional(),

  // Images
  /** Push built images to this OCI registry (http(s) URL) as well as keeping them in the layout store. */
  TOOLFORGE_REGISTRY_URL: z.url().optional(),
  TOOLFORGE_REGISTRY_USERNAME: z.string().optional(),
  TOOLFORGE_REGISTRY_PASSWORD: z.string().optional(),
  /** Harbor (v2.0 API): projects per tool, robot accounts per build, quota and clean from Harbor. */
  TOOLFORGE_HARBOR_URL: z.url().optional(),
  /** The API's own Harbor account: may create projects, robots and retention policies. */
  TOOLFORGE_HARBOR_USERNAME: z.string().optional(),
  TOOLFORGE_HARBOR_PASSWORD: z.string().optional(),
  /** Artifacts kept per repository by each tool project's retention policy. */
  TOOLFORGE_HARBOR_RETENTION_KEEP: z.coerce.number().int().min(1).default(5),
  TOOLFORGE_HARBOR_TIMEOUT_SECONDS: z.coerce.number().int().min(1).default(10),
  /** Storage quota per tool in MiB (images and build cache); 0 = unlimited. */
  TOOLFORGE_QUOTA_MB: z.coerce.number().int().min(0).default(1024),

  // Cluster engine (Tekton)
  /** kubeconfig file; default: $KUBECONFIG, ~/.kube/config, or the in-cluster service account. */
  TOOLFORGE_KUBECONFIG: z.string().optional(),
  TOOLFORGE_BUILD_NAMESPACE: z.string().min(1).default('image-build'),
  TOOLFORGE_TEKTON_SERVICE_ACCOUNT: z.string().min(1).default('buildpacks-service-account'),
  /** Comma-separated public OCI buildpack images added to every group of the builder's order. */
  TOOLFORGE_EXTRA_BUILDPACKS: z.string().default(''),
  /** Secret (dockerconfigjson) with push credentials for the lifecycle's registry steps. */
  TOOLFORGE_REGISTRY_SECRET: z.string().min(1).default('builds-registry-credentials'),
  /** Keep a build cache image `<image>-cache` next to each image (Toolforge today rebuilds cold). */
  TOOLFORGE_BUILD_CACHE_IMAGE: z.stringbool().default(true),
  TOOLFORGE_POD_WAIT_SECONDS: z.coerce.number().int().min(1).default(600),

  // Identity
  TOOLFORGE_AUTH: z.enum(['token', 'certificate', 'gateway']).default('token'),
  /** TLS for the API itself (required for certificate auth): PEM files. */
  TOOLFORGE_TLS_CERT: z.string().optional(),
  TOOLFORGE_TLS_KEY: z.string().optional(),
  TOOLFORGE_TLS_CLIENT_CA: z.string().optional(),
});
export type Config = Readonly<z.infer<typeof ConfigSchema>>;

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Parse the environment; every bad key is reported, one line each, instead of failing on the first. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const known = new Set(Object.keys(ConfigSchema.shape));
  const input: Record<string, string> = {};
  const problems: string[] = [];
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (known.has(key)) input[key] = value;
    else if (key.startsWith('TOOLFORGE_') && !key.startsWith('TOOLFORGE_TEST_') && !CLIENT_KEYS.has(key)) {
      problems.push(`${key}: unknown setting`);
    }
  }
  const parsed = ConfigSchema.safeParse(input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = String(issue.path[0]);
      problems.push(`${key}=${JSON.stringify(input[key] ?? '')}: ${issue.message}`);
    }
  }
  if (parsed.success) problems.push(...crossChecks(parsed.data));
  if (problems.length) throw new ConfigError(problems.sort());
  return Object.freeze(parsed.data as z.infer<typeof ConfigSchema>);
}

/** Settings of the CLI that may sit in the same shell; not ours to reject. */
const CLIENT_KEYS = new Set([
  'TOOLFORGE_API_URL',
  'TOOLFORGE_TOKEN',
  'TOOLFORGE_TOOL',
  'TOOLFORGE_CONFIG',
  'TOOLFORGE_CA',
  'TOOLFORGE_CERT',
  'TOOLFORGE_KEY',
  'TOOLFORGE_VERBOSE',
  'TOOLFORGE_DEBUG',
  'TOOLFORGE_CLI',
]);

/** Settings that are only wrong together. */
function crossChecks(c: z.infer<typeof ConfigSchema>): string[] {
  const out: string[] = [];
  if (
    c.TOOLFORGE_AUTH === 'certificate' &&
    !(c.TOOLFORGE_TLS_CERT && c.TOOLFORGE_TLS_KEY && c.TOOLFORGE_TLS_CLIENT_CA)
  ) {
    out.push(
      'TOOLFORGE_AUTH=certificate: needs TOOLFORGE_TLS_CERT, TOOLFORGE_TLS_KEY and TOOLFORGE_TLS_CLIENT_CA',
    );
  }
  if (Boolean(c.TOOLFORGE_TLS_CERT) !== Boolean(c.TOOLFORGE_TLS_KEY)) {
    out.push('TOOLFORGE_TLS_CERT and TOOLFORGE_TLS_KEY: set both or neither');
  }
  if (Boolean(c.DEPRECATED_BUILDER) !== Boolean(c.DEPRECATED_RUNNER)) {
    out.push('DEPRECATED_BUILDER and DEPRECATED_RUNNER: set both or neither');
  }
  if (c.DEPRECATED_BUILDER && !c.DEPRECATED_VALID_UNTIL) {
    out.push('DEPRECATED_VALID_UNTIL: required when DEPRECATED_BUILDER is set');
  }
  if (c.TOOLFORGE_ENGINE === 'tekton' && !c.TOOLFORGE_REGISTRY_URL && !c.TOOLFORGE_HARBOR_URL) {
    out.push(
      'TOOLFORGE_ENGINE=tekton: needs TOOLFORGE_HARBOR_URL or TOOLFORGE_REGISTRY_URL (where builds push, e.g. https://tools-harbor.wmcloud.org)',
    );
  }
  if (c.TOOLFORGE_HARBOR_URL && !(c.TOOLFORGE_HARBOR_USERNAME && c.TOOLFORGE_HARBOR_PASSWORD)) {
    out.push('TOOLFORGE_HARBOR_URL: needs TOOLFORGE_HARBOR_USERNAME and TOOLFORGE_HARBOR_PASSWORD');
  }
  if (c.TOOLFORGE_HARBOR_URL && c.TOOLFORGE_REGISTRY_URL) {
    out.push('TOOLFORGE_HARBOR_URL and TOOLFORGE_REGISTRY_URL: set one (Harbor is the registry)');
  }
  if (Boolean(c.TOOLFORGE_REGISTRY_USERNAME) !== Boolean(c.TOOLFORGE_REGISTRY_PASSWORD)) {
    out.push('TOOLFORGE_REGISTRY_USERNAME and TOOLFORGE_REGISTRY_PASSWORD: set both or neither');
  }
  return out;
}
