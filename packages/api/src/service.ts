import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { stackStorePaths } from '@toolforge/buildpacks';
import { OciLayout, RegistryClient } from '@toolforge/oci';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp } from './app.ts';
import { catalogueLocation, catalogueSource } from './catalogue/factory.ts';
import { CatalogueStore } from './catalogue/store.ts';
import type { Config } from './config.ts';
import { du } from './du.ts';
import { createLocalEngine } from './engines/local/factory.ts';
import { LogHub } from './engines/local/log-hub.ts';
import type { PushTarget } from './engines/local/run-build.ts';
import { type BuildEngine, NO_PINS, type PinnedDigests } from './engines/port.ts';
import { createTektonEngine } from './engines/tekton/factory.ts';
import { certificateAuth, gatewayAuth, tokenAuth } from './http/auth.ts';
import { connect } from './kube/client.ts';
import { Counter, Gauge, Histogram, MetricsRegistry } from './metrics.ts';
import { policyLoader } from './policy/factory.ts';
import { checkImage } from './policy/registry-policy.ts';
import { registryClientFor } from './registry/client.ts';
import { DistributionRegistry } from './registry/distribution-registry.ts';
import { HarborClient } from './registry/harbor/client.ts';
import { HarborRegistry } from './registry/harbor/registry.ts';
import { LayoutRegistry } from './registry/layout-registry.ts';
import type { ImageRegistry } from './registry/port.ts';
import { admissionRoutes } from './routes/admission.ts';
import { buildRoutes } from './routes/builds.ts';
import { imageRoutes } from './routes/images.ts';
import type { HealthCheck } from './routes/service.ts';
import { workloadRoutes } from './routes/workloads.ts';
import { localImageSource } from './runtime/image-source.ts';
import { KubernetesRuntime } from './runtime/kubernetes/runtime.ts';
import { type ImageSource, LocalRuntime } from './runtime/local/index.ts';
import { type BuilderPairs, BuildService } from './services/build-service.ts';
import { ImagesService } from './services/images-service.ts';
import { WorkloadService } from './services/workloads-service.ts';
import { BuildsRepo } from './store/builds-repo.ts';
import { openDatabase } from './store/db.ts';
import { ToolsRepo } from './store/tools-repo.ts';
import type { WorkloadRuntime } from './workloads/port.ts';

export interface Service {
  app: FastifyInstance;
  engine: BuildEngine;
  tools: ToolsRepo;
  catalogue: CatalogueStore;
  close(): Promise<void>;
}

export function builderPairs(config: Config): BuilderPairs {
  const def = { builder: config.BUILDER, runner: config.RUNNER };
  return {
    default: def,
    latest: { builder: config.LATEST_BUILDER ?? def.builder, runner: config.LATEST_RUNNER ?? def.runner },
    ...(config.DEPRECATED_BUILDER && config.DEPRECATED_RUNNER && config.DEPRECATED_VALID_UNTIL
      ? {
          deprecated: {
            builder: config.DEPRECATED_BUILDER,
            runner: config.DEPRECATED_RUNNER,
            validUntil: new Date(`${config.DEPRECATED_VALID_UNTIL}T00:00:00Z`),
          },
        }
      : {}),
  };
}

/** Where webservices and jobs run: locally (embedded default), on Kubernetes (with Tekton), or nowhere. */
function createRuntime(
  config: Config,
  d: { db: DatabaseSync; localImages: ImageSource | undefined; logger: Logger },
): WorkloadRuntime | undefined {
  const kind = config.TOOLFORGE_RUNTIME ?? (config.TOOLFORGE_ENGINE === 'tekton' ? 'kubernetes' : 'local');
  if (kind === 'none') return undefined;
  if (kind === 'kubernetes')
    return new KubernetesRuntime(
      connect('default', config.TOOLFORGE_KUBECONFIG),
      {
        webDomain: config.TOOLFORGE_WEB_DOMAIN,
        ...(config.TOOLFORGE_INGRESS_CLASS ? { ingressClass: config.TOOLFORGE_INGRESS_CLASS } : {}),
        ...(config.TOOLFORGE_IMAGE_PULL_SECRET
          ? { imagePullSecret: config.TOOLFORGE_IMAGE_PULL_SECRET }
          : {}),
      },
      d.logger.child({ component: 'kubernetes-runtime' }),
    );
  if (!d.localImages) throw new Error('TOOLFORGE_RUNTIME=local needs the embedded engine (its image stores)');
  return new LocalRuntime({
    db: d.db,
    dataDir: config.TOOLFORGE_DATA_DIR,
    images: d.localImages,
    log: d.logger,
  });
}

function harborRegistry(
  config: Config,
  logger: Logger,
  extraUsage: ((tool: string) => Promise<number>) | undefined,
): HarborRegistry | undefined {
  if (!config.TOOLFORGE_HARBOR_URL) return undefined;
  return new HarborRegistry({
    client: new HarborClient({
      url: config.TOOLFORGE_HARBOR_URL,
      username: config.TOOLFORGE_HARBOR_USERNAME ?? '',
      password: config.TOOLFORGE_HARBOR_PASSWORD ?? '',
      timeoutMs: config.TOOLFORGE_HARBOR_TIMEOUT_SECONDS * 1000,
    }),
    quotaBytes: config.TOOLFORGE_QUOTA_MB ? config.TOOLFORGE_QUOTA_MB * 2 ** 20 : undefined,
    retentionKeep: config.TOOLFORGE_HARBOR_RETENTION_KEEP,
    log: logger.child({ component: 'harbor' }),
    extraUsage,
  });
}

/** Where the embedded engine pushes: Harbor with a robot per build, or a registry with the service's credentials. */
function pushTarget(
  config: Config,
  harbor: HarborRegistry | undefined,
): (PushTarget & { host: string }) | undefined {
  if (harbor) {
    const url = config.TOOLFORGE_HARBOR_URL as string;
    return {
      host: harbor.host,
      ready: (tool) => harbor.ready(tool),
      open: async (tool, buildId) => {
        const access = await harbor.issue(tool, buildId);
        return {
          client: new RegistryClient({
            url,
            credentials: { username: access.username, password: access.password },
          }),
          release: () => harbor.revoke(tool, access.id),
        };
      },
    };
  }
  const client = registryClient(config);
  if (!client || !config.TOOLFORGE_REGISTRY_URL) return undefined;
  return {
    host: new URL(config.TOOLFORGE_REGISTRY_URL).host,
    open: async () => ({ client, release: async () => {} }),
  };
}

/** Revoke robot accounts a crash left behind, without delaying the start. */
function sweepLater(
  harbor: HarborRegistry,
  isActive: (tool: string, id: string) => Promise<boolean>,
  logger: Logger,
): void {
  void harbor.sweep(isActive).catch((err) => logger.warn({ err }, 'sweeping leftover robot accounts failed'));
}

function registryClient(config: Config): RegistryClient | undefined {
  return config.TOOLFORGE_REGISTRY_URL ? registryClientFor(config.TOOLFORGE_REGISTRY_URL, config) : undefined;
}

/** The composition root's wiring: database, stores, engine, services, routes. `server.ts` adds listening. */
export async function createService(
  config: Config,
  logger: Logger,
  opts: { pins?: PinnedDigests } = {},
): Promise<Service> {
  const data = config.TOOLFORGE_DATA_DIR;
  // Searchable but not listable: sandboxed buildpacks (an unprivileged host id) must reach their build
  // folder below it; everything secret inside is 0600 or in a 0700 folder.
  await mkdir(data, { recursive: true, mode: 0o711 });
  await chmod(data, 0o711);
  const db = openDatabase(path.join(data, 'builds.sqlite'));
  const repo = new BuildsRepo(db);
  const tools = new ToolsRepo(db);
  const metrics = new MetricsRegistry();
  const started = metrics.register(
    new Counter('toolforge_builds_started_total', 'Builds started, by engine.'),
  );
  const finished = metrics.register(
    new Counter('toolforge_builds_finished_total', 'Builds finished, by status.'),
  );
  const phaseSeconds = metrics.register(
    new Histogram(
      'toolforge_build_phase_seconds',
      'Duration of build phases (embedded engine).',
      [1, 5, 15, 30, 60, 120, 300, 600, 1800],
    ),
  );
  const embedded = config.TOOLFORGE_ENGINE === 'local';
  const sourcePolicy = {
    allowFile: config.TOOLFORGE_ALLOW_FILE_SOURCES ?? embedded,
    allowedHosts: new Set(
      (config.TOOLFORGE_SOURCE_ALLOWED_HOSTS ?? (embedded ? '127.0.0.1,localhost,::1' : ''))
        .split(',')
        .map((h) => h.trim())
        .filter(Boolean),
    ),
  };
  const cacheRoot = path.join(data, 'cache', 'builds');
  const health: HealthCheck[] = [];
  const catalogue = new CatalogueStore(
    catalogueSource(catalogueLocation(config), config),
    builderPairs(config),
    logger.child({ component: 'catalogue' }),
  );
  await catalogue.start();
  health.push({ name: 'catalogue', check: async () => undefined, warnings: () => catalogue.warnings() });
  // The embedded engine's build caches are local folders; they count against the tool's quota too.
  const cacheUsage = async (tool: string) => du(path.join(cacheRoot, `tool-${tool}`));
  const harbor = harborRegistry(config, logger, embedded ? cacheUsage : undefined);
  const push = pushTarget(config, harbor);
  const quotaBytes = config.TOOLFORGE_QUOTA_MB ? config.TOOLFORGE_QUOTA_MB * 2 ** 20 : undefined;
  let registry: ImageRegistry;
  let engine: BuildEngine;
  let busy: ((tool: string) => boolean) | undefined;
  let cleanExtras: ((tool: string) => Promise<string[]>) | undefined;
  let localImages: ImageSource | undefined;
  const hub = new LogHub(repo);

  if (embedded) {
    const stacks = stackStorePaths(config.TOOLFORGE_STACK_DIR ?? data);
    const stackLayout = await OciLayout.open(stacks.layout, { create: true });
    const images = new LayoutRegistry({
      root: path.join(data, 'images'),
      // With a registry configured, image references name it; the layout store stays the local copy.
      ...(push ? { host: push.host } : {}),
      quotaBytes,
      extraUsage: cacheUsage,
    });
    const local = createLocalEngine(config, {
      repo,
      hub,
      logger,
      images,
      push,
      stackLayout,
      rootfsCache: stacks.rootfs,
      cacheRoot,
      sourcePolicy,
      onPhase: (phase, seconds) => phaseSeconds.observe({ phase }, seconds),
      onFinished: (r) => finished.inc({ status: r.status }),
    });
    metrics.register(
      new Gauge('toolforge_build_queue_length', 'Builds waiting for a slot.').collect(() => [
        [{}, local.queueLength()],
      ]),
    );
    metrics.register(
      new Gauge('toolforge_builds_running', 'Builds running now.').collect(() => [
        [{}, local.runningCount()],
      ]),
    );
    health.push({
      name: 'stacks',
      check: async () => {
        const builder = catalogue.builders().default.builder;
        return (await stackLayout.resolve(builder))
          ? undefined
          : `builder ${builder} is missing: run \`toolforge-admin stack ensure\``;
      },
    });
    // With Harbor, quota, listing and clean are Harbor's; the layout store is the local copy.
    registry = harbor ?? images;
    localImages = localImageSource(images, stackLayout);
    engine = local;
    busy = (tool) => local.busy(tool);
    cleanExtras = async (tool) => {
      const dir = path.join(cacheRoot, `tool-${tool}`);
      if (!existsSync(dir)) return [];
      await rm(dir, { recursive: true, force: true });
      return ['Removed the build cache (the next build starts cold).'];
    };
    await local.recover();
    if (harbor) sweepLater(harbor, async (_tool, id) => local.isActive(id), logger);
  } else {
    const client = registryClient(config);
    if (!harbor && !client)
      throw new Error('the tekton engine needs TOOLFORGE_HARBOR_URL or TOOLFORGE_REGISTRY_URL');
    registry =
      harbor ??
      new DistributionRegistry({
        client: client as RegistryClient,
        host: new URL(config.TOOLFORGE_REGISTRY_URL as string).host,
        quotaBytes,
      });
    const tekton = createTektonEngine(config, registry, logger);
    engine = tekton;
    if (harbor) sweepLater(harbor, (tool, id) => tekton.isActive(tool, id), logger);
  }
  if (registry.name !== 'layout') health.push({ name: 'registry', check: () => registry.health() });
  metrics.register(
    new Gauge('toolforge_log_followers', 'Clients following a build log (embedded engine).').collect(() => [
      [{}, hub.followers],
    ]),
  );
  health.unshift({ name: 'engine', check: () => engine.health() });

  const images = new ImagesService({ catalogue, registry });
  const runtime = createRuntime(config, { db, localImages, logger });
  if (runtime) health.push({ name: 'runtime', check: () => runtime.health() });
  // Webservices and continuous jobs come back, schedules are armed again.
  if (runtime instanceof LocalRuntime) await runtime.recover();
  const loadPolicy = policyLoader(config, registry.host, catalogue);
  const workloads = runtime
    ? new WorkloadService({
        runtime,
        registry,
        catalogue,
        policy: async (image, namespace) => checkImage(image, namespace, await loadPolicy()),
        defaults: { memory: config.TOOLFORGE_WORKLOAD_MEMORY, cpu: config.TOOLFORGE_WORKLOAD_CPU },
      })
    : undefined;

  const builds = new BuildService({
    engine,
    registry,
    // Clean keeps what running webservices and jobs use.
    pins: opts.pins ?? (runtime ? { pinned: (tool) => runtime.pinnedDigests(tool) } : NO_PINS),
    sourcePolicy,
    git: { timeoutMs: config.TOOLFORGE_GIT_TIMEOUT_SECONDS * 1000, allowFile: sourcePolicy.allowFile },
    envvarLimits: {
      maxCount: config.TOOLFORGE_ENVVARS_MAX_COUNT,
      maxValueBytes: config.TOOLFORGE_ENVVARS_MAX_VALUE_BYTES,
      maxTotalBytes: config.TOOLFORGE_ENVVARS_MAX_TOTAL_BYTES,
    },
    builders: () => catalogue.builders(),
    onStarted: () => started.inc({ engine: engine.name }),
    ...(busy ? { busy } : {}),
    ...(cleanExtras ? { cleanExtras } : {}),
  });

  const authenticate =
    config.TOOLFORGE_AUTH === 'certificate'
      ? certificateAuth()
      : config.TOOLFORGE_AUTH === 'gateway'
        ? gatewayAuth()
        : tokenAuth(tools);
  const app = await buildApp({
    config,
    logger,
    metrics,
    ...(config.TOOLFORGE_TLS_CERT && config.TOOLFORGE_TLS_KEY
      ? {
          https: {
            cert: readFileSync(config.TOOLFORGE_TLS_CERT),
            key: readFileSync(config.TOOLFORGE_TLS_KEY),
            ...(config.TOOLFORGE_TLS_CLIENT_CA
              ? { ca: readFileSync(config.TOOLFORGE_TLS_CLIENT_CA), requestCert: true }
              : {}),
            // Verified at the HTTP layer instead (socket.authorized): healthz and metrics must answer probes
            // that present no certificate, while every tool route requires one signed by the client CA.
            rejectUnauthorized: false,
          },
        }
      : {}),
    health,
    plugins: [
      (a) => buildRoutes(a, builds, authenticate),
      (a) => imageRoutes(a, images, authenticate),
      (a) => (workloads ? workloadRoutes(a, workloads, authenticate) : undefined),
      (a) => admissionRoutes(a, loadPolicy),
    ],
  });
  return {
    app,
    engine,
    tools,
    catalogue,
    close: async () => {
      catalogue.stop();
      await app.close();
      await runtime?.close();
      await engine.close();
      db.close();
    },
  };
}
