import { mkdirSync, writeFileSync } from 'node:fs';
import { chmod, rm } from 'node:fs/promises';
import path from 'node:path';
import { acquireHostId, prepareWritable } from '../sandbox/index.ts';
import { buildPhase } from './build-phase.ts';
import { combinedBundle } from './ca-certs.ts';
import { BuildCache } from './cache.ts';
import type { BuildRequest, BuildResult } from './context.ts';
import { bpId, bpVersion } from './descriptor.ts';
import { detectPhase } from './detect-phase.ts';
import { exportPhase } from './export-phase.ts';
import { BuildFailure, type Phase } from './failure.ts';
import { readLifecycleMetadata } from './labels.ts';
import { restorePhase } from './restore-phase.ts';

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Run a whole build the way the lifecycle's creator does (analyze → detect → restore → build → export),
 * with buildpack code sandboxed and everything else in this trusted process. Throws BuildFailure.
 */
export async function runLifecycle(request: BuildRequest): Promise<BuildResult> {
  // One unprivileged host identity for every buildpack of this build (when the service runs as root).
  const lease = request.hostId === undefined ? await acquireHostId() : undefined;
  try {
    const caBundle = request.extraCaCerts
      ? combinedBundle(request.builder.rootfs, request.extraCaCerts)
      : undefined;
    return await lifecycle({ ...request, hostId: request.hostId ?? lease?.id, caBundle });
  } finally {
    await lease?.release();
  }
}

async function lifecycle(req: BuildRequest): Promise<BuildResult> {
  const timings: BuildResult['timings'] = [];
  const phase = async <T>(name: Phase, fn: () => Promise<T>): Promise<T> => {
    if (req.signal?.aborted) throw new BuildFailure(name, 'CANCELLED', 'The build was cancelled.');
    req.events.phase?.(name);
    const startedAt = new Date();
    try {
      return await fn();
    } finally {
      timings.push({ phase: name, startedAt, endedAt: new Date() });
    }
  };
  const layersDir = path.join(req.workDir, 'layers');
  const platformDir = path.join(req.workDir, 'platform');

  await phase('prepare', async () => {
    // The build folder belongs to the sandbox's host identity, mode 0700: only its buildpacks (and root)
    // can enter it, while every folder above it only needs to be searchable.
    await chmod(req.workDir, 0o700);
    await prepareWritable([req.workDir], req.hostId ?? 0);
    await rm(layersDir, { recursive: true, force: true });
    mkdirSync(layersDir, { recursive: true });
    mkdirSync(path.join(platformDir, 'env'), { recursive: true });
    for (const [name, value] of Object.entries(req.envvars)) {
      if (!NAME_RE.test(name))
        throw new BuildFailure('prepare', 'PLATFORM_ERROR', `invalid variable name ${JSON.stringify(name)}`);
      writeFileSync(path.join(platformDir, 'env', name), value, { mode: 0o644 });
    }
    // The app's git metadata is not part of the image (the commit is in the project label instead).
    await rm(path.join(req.appDir, '.git'), { recursive: true, force: true });
    await prepareWritable([req.workDir], req.hostId ?? 0);
  });

  const previousMeta = await phase('analyze', async () => {
    const meta = readLifecycleMetadata(req.previous?.config.config?.Labels);
    if (req.previous)
      req.events.log('analyze', `Previous image found: ${meta.buildpacks.length} buildpack(s) recorded`);
    else req.events.log('analyze', 'No previous image: every layer is built fresh');
    return meta;
  });

  const detected = await phase('detect', async () => {
    const r = await detectPhase(req, platformDir);
    req.events.log(
      'detect',
      `Detected: ${r.group.map((e) => `${bpId(e.buildpack)}@${bpVersion(e.buildpack)}`).join(', ')}`,
    );
    return r;
  });

  const cache = req.cacheDir ? new BuildCache(req.cacheDir) : undefined;
  const previousLayers = await phase('restore', () =>
    restorePhase(detected.group, layersDir, previousMeta, cache, (t) => req.events.log('restore', t)),
  );

  const built = await phase('build', () =>
    buildPhase(
      req,
      detected.group,
      detected.plan,
      { layers: layersDir, platform: platformDir },
      previousLayers,
    ),
  );

  const exported = await phase('export', async () => {
    const e = await exportPhase(req, built, previousMeta);
    req.events.log(
      'export',
      `Image ${e.manifest.digest} written (${e.reusedLayers} layer(s) reused from the previous image)`,
    );
    if (cache) {
      await cache.save(e.layers);
      req.events.log('export', `Cache: ${e.layers.length} layer(s) saved`);
    }
    return e;
  });

  return {
    manifest: exported.manifest,
    digest: exported.manifest.digest,
    group: detected.group.map((e) => ({ id: bpId(e.buildpack), version: bpVersion(e.buildpack) })),
    processes: exported.processes,
    defaultProcess: exported.defaultType,
    timings,
    reusedLayers: exported.reusedLayers,
  };
}
