import path from 'node:path';
import { loadExtraCaCerts } from '@toolforge/buildpacks';
import type { OciLayout } from '@toolforge/oci';
import type { Logger } from 'pino';
import type { Config } from '../../config.ts';
import type { LayoutRegistry } from '../../registry/layout-registry.ts';
import type { SourcePolicy } from '../../source/url.ts';
import type { BuildRecord, BuildsRepo } from '../../store/builds-repo.ts';
import { LocalEngine } from './engine.ts';
import type { LogHub } from './log-hub.ts';
import type { PushTarget } from './run-build.ts';

/** The embedded engine from configuration. */
export function createLocalEngine(
  config: Config,
  deps: {
    repo: BuildsRepo;
    hub: LogHub;
    logger: Logger;
    images: LayoutRegistry;
    push: PushTarget | undefined;
    stackLayout: OciLayout;
    rootfsCache: string;
    cacheRoot: string;
    sourcePolicy: SourcePolicy;
    onPhase: (phase: string, seconds: number) => void;
    onFinished: (record: BuildRecord) => void;
  },
): LocalEngine {
  return new LocalEngine(
    deps.repo,
    deps.hub,
    {
      repo: deps.repo,
      logs: deps.hub,
      log: deps.logger.child({ component: 'local-engine' }),
      workRoot: path.join(config.TOOLFORGE_DATA_DIR, 'builds'),
      cacheRoot: deps.cacheRoot,
      stackLayout: deps.stackLayout,
      rootfsCache: deps.rootfsCache,
      images: deps.images,
      push: deps.push,
      git: { timeoutMs: config.TOOLFORGE_GIT_TIMEOUT_SECONDS * 1000, allowFile: deps.sourcePolicy.allowFile },
      sourcePolicy: deps.sourcePolicy,
      limits: {
        detectTimeoutMs: config.TOOLFORGE_DETECT_TIMEOUT_SECONDS * 1000,
        memoryBytes: config.TOOLFORGE_BUILD_MEMORY_MB * 2 ** 20,
        pids: config.TOOLFORGE_BUILD_PIDS,
        outputBytes: config.TOOLFORGE_BUILD_LOG_MB * 2 ** 20,
        diskBytes: config.TOOLFORGE_BUILD_DISK_MB * 2 ** 20,
        tmpBytes: config.TOOLFORGE_BUILD_TMP_MB * 2 ** 20,
      },
      timeoutMs: config.TOOLFORGE_BUILD_TIMEOUT_SECONDS * 1000,
      extraCaCerts: config.TOOLFORGE_BUILD_CA_CERTS
        ? loadExtraCaCerts(config.TOOLFORGE_BUILD_CA_CERTS)
        : undefined,
      onPhase: (_r, phase, seconds) => deps.onPhase(phase, seconds),
    },
    {
      perTool: config.TOOLFORGE_MAX_BUILDS_PER_TOOL,
      global: config.TOOLFORGE_MAX_BUILDS ?? config.TOOLFORGE_CORES,
      keep: { successful: config.OK_BUILDS_TO_KEEP, failed: config.FAILED_BUILDS_TO_KEEP },
      onFinished: deps.onFinished,
    },
  );
}
