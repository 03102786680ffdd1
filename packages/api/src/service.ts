import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { loadExtraCaCerts, stackStorePaths } from '@toolforge/buildpacks';
import { OciLayout, RegistryClient } from '@toolforge/oci';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp } from './app.ts';
import type { Config } from './config.ts';
import { du } from './du.ts';
import { LocalEngine } from './engines/local/engine.ts';
import { LogHub } from './engines/local/log-hub.ts';
import { NO_PINS, type PinnedDigests } from './engines/port.ts';
import { certificateAuth, gatewayAuth, tokenAuth } from './http/auth.ts';
import { Counter, Gauge, Histogram, MetricsRegistry } from './metrics.ts';
import { LayoutRegistry } from './registry/layout-registry.ts';
import { buildRoutes } from './routes/builds.ts';
import { type BuilderPairs, BuildService } from './services/build-service.ts';
import { BuildsRepo } from './store/builds-repo.ts';
import { openDatabase } from './store/db.ts';
import { ToolsRepo } from './store/tools-repo.ts';

export interface Service {
  app: FastifyInstance;
  engine: LocalEngine;
  tools: ToolsRepo;
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

/** Wire the embedded service: database, stores, engine, services, routes. `server.ts` only adds listening. */
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
  const hub = new LogHub(repo);
  const stacks = stackStorePaths(config.TOOLFORGE_STACK_DIR ?? data);
  const stackLayout = await OciLayout.open(stacks.layout, { create: true });
  const cacheRoot = path.join(data, 'cache', 'builds');
  const images = new LayoutRegistry({
    root: path.join(data, 'images'),
    // With a registry configured, image references name it; the layout store stays the local copy.
    ...(config.TOOLFORGE_REGISTRY_URL ? { host: new URL(config.TOOLFORGE_REGISTRY_URL).host } : {}),
    quotaBytes: config.TOOLFORGE_QUOTA_MB ? config.TOOLFORGE_QUOTA_MB * 2 ** 20 : undefined,
    extraUsage: async (tool) => du(path.join(cacheRoot, `tool-${tool}`)),
  });
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
  const git = { timeoutMs: config.TOOLFORGE_GIT_TIMEOUT_SECONDS * 1000, allowFile: sourcePolicy.allowFile };

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
      'Duration of build phases.',
      [1, 5, 15, 30, 60, 120, 300, 600, 1800],
    ),
  );

  const engine = new LocalEngine(
    repo,
    hub,
    {
      repo,
      logs: hub,
      log: logger.child({ component: 'local-engine' }),
      workRoot: path.join(data, 'builds'),
      cacheRoot,
      stackLayout,
      rootfsCache: stacks.rootfs,
      images,
      push: config.TOOLFORGE_REGISTRY_URL
        ? {
            client: new RegistryClient({
              url: config.TOOLFORGE_REGISTRY_URL,
              ...(config.TOOLFORGE_REGISTRY_USERNAME
                ? {
                    credentials: {
                      username: config.TOOLFORGE_REGISTRY_USERNAME,
                      password: config.TOOLFORGE_REGISTRY_PASSWORD ?? '',
                    },
                  }
                : {}),
            }),
          }
        : undefined,
      git,
      sourcePolicy,
      limits: {
        detectTimeoutMs: config.TOOLFORGE_DETECT_TIMEOUT_SECONDS * 1000,
        memoryBytes: config.TOOLFORGE_BUILD_MEMORY_MB * 2 ** 20,
        pids: config.TOOLFORGE_BUILD_PIDS,
        outputBytes: config.TOOLFORGE_BUILD_LOG_MB * 2 ** 20,
        diskBytes: config.TOOLFORGE_BUILD_DISK_MB * 2 ** 20,
        tmpBytes: config.TOOLFORGE_BUILD_TMP_MB * 2 ** 20,
      },
      timeoutMs: config.TOOLFORGE_BUILD_TIMEOUT_SECONDS * 1000,
      extraCaCerts: config.TOOLFORGE_BUILD_CA_CERTS ? loadExtraCaCerts(config.TOOLFORGE_BUILD_CA_CERTS) : undefined,
      onPhase: (_r, phase, seconds) => phaseSeconds.observe({ phase }, seconds),
    },
    {
      perTool: config.TOOLFORGE_MAX_BUILDS_PER_TOOL,
      global: config.TOOLFORGE_MAX_BUILDS ?? config.TOOLFORGE_CORES,
      keep: { successful: config.OK_BUILDS_TO_KEEP, failed: config.FAILED_BUILDS_TO_KEEP },
      onFinished: (r) => finished.inc({ status: r.status }),
    },
  );
  metrics.register(
    new Gauge('toolforge_build_queue_length', 'Builds waiting for a slot.').collect(() => [
      [{}, engine.queueLength()],
    ]),
  );
  metrics.register(
    new Gauge('toolforge_builds_running', 'Builds running now.').collect(() => [[{}, engine.runningCount()]]),
  );
  metrics.register(
    new Gauge('toolforge_log_followers', 'Clients following a build log.').collect(() => [
      [{}, hub.followers],
    ]),
  );

  const builds = new BuildService({
    engine,
    onStarted: () => started.inc({ engine: engine.name }),
    registry: images,
    pins: opts.pins ?? NO_PINS,
    sourcePolicy,
    git,
    envvarLimits: {
      maxCount: config.TOOLFORGE_ENVVARS_MAX_COUNT,
      maxValueBytes: config.TOOLFORGE_ENVVARS_MAX_VALUE_BYTES,
      maxTotalBytes: config.TOOLFORGE_ENVVARS_MAX_TOTAL_BYTES,
    },
    builders: () => builderPairs(config),
    busy: (tool) => engine.busy(tool),
    cleanExtras: async (tool) => {
      const dir = path.join(cacheRoot, `tool-${tool}`);
      if (!existsSync(dir)) return [];
      await rm(dir, { recursive: true, force: true });
      return ['Removed the build cache (the next build starts cold).'];
    },
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
            rejectUnauthorized: config.TOOLFORGE_AUTH === 'certificate',
          },
        }
      : {}),
    health: [
      { name: 'engine', check: () => engine.health() },
      {
        name: 'stacks',
        check: async () =>
          (await stackLayout.resolve(config.BUILDER))
            ? undefined
            : `builder ${config.BUILDER} is missing: run \`toolforge-admin stack ensure\``,
      },
    ],
    plugins: [(a) => buildRoutes(a, builds, authenticate)],
  });
  await engine.recover();
  return {
    app,
    engine,
    tools,
    close: async () => {
      await app.close();
      await engine.close();
      db.close();
    },
  };
}
