import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Logger } from 'pino';
import type { Config } from '../../config.ts';
import { connect } from '../../kube/client.ts';
import { CACHE_SUFFIX } from '../../registry/distribution-registry.ts';
import type { ImageRegistry } from '../../registry/port.ts';
import { TektonEngine } from './engine.ts';
import { SchedulerLease } from './lease.ts';

/** The cluster engine from configuration. */
export function createTektonEngine(config: Config, registry: ImageRegistry, logger: Logger): TektonEngine {
  const kube = connect(config.TOOLFORGE_BUILD_NAMESPACE, config.TOOLFORGE_KUBECONFIG);
  const engine = new TektonEngine(kube, {
    namespace: config.TOOLFORGE_BUILD_NAMESPACE,
    serviceAccount: config.TOOLFORGE_TEKTON_SERVICE_ACCOUNT,
    timeoutSeconds: config.TOOLFORGE_BUILD_TIMEOUT_SECONDS,
    extraBuildpacks: config.TOOLFORGE_EXTRA_BUILDPACKS.split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    cacheImage: config.TOOLFORGE_BUILD_CACHE_IMAGE
      ? (input) => `${registry.host}/${registry.repository(input.tool, input.imageName)}${CACHE_SUFFIX}`
      : undefined,
    registrySecret: () => config.TOOLFORGE_REGISTRY_SECRET,
    perTool: config.TOOLFORGE_MAX_BUILDS_PER_TOOL,
    global: config.TOOLFORGE_MAX_BUILDS ?? 50,
    keep: { successful: config.OK_BUILDS_TO_KEEP, failed: config.FAILED_BUILDS_TO_KEEP },
    podWaitMs: config.TOOLFORGE_POD_WAIT_SECONDS * 1000,
    log: logger.child({ component: 'tekton' }),
    lease: new SchedulerLease(kube, `${os.hostname()}_${randomUUID()}`),
    registryHost: registry.host,
    ...(registry.credentials ? { credentials: registry.credentials } : {}),
  });
  engine.startScheduler();
  return engine;
}
