import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { prepareWritable } from '../sandbox/index.ts';
import type { BuildRequest } from './context.ts';
import { type Buildpack, bpId, bpVersion, escapeId } from './descriptor.ts';
import { addLayerPaths, applyEnvDir, applyPlatformEnv, type Env } from './env.ts';
import { CA_BUNDLE, cnbEnv, execBuildpack, PATHS, passthroughEnv } from './exec.ts';
import { BuildFailure } from './failure.ts';
import { type BuildpackOutputs, readBuildpackOutputs } from './layer-files.ts';
import { lineSplitter } from './lines.ts';
import type { GroupElement } from './order.ts';
import type { PlanEntry } from './resolve.ts';
import { InvalidFileError, toToml } from './toml.ts';

export interface BuiltBuildpack {
  buildpack: Buildpack;
  outputs: BuildpackOutputs;
}

/** Layers a previous image has for a buildpack (name → metadata), so launch-only layers can be reused. */
export type PreviousLayers = Map<string, Set<string>>;

const TAIL_LINES = 15;

function sandboxFailure(bp: Buildpack, outcome: string, message: string, deadline: number): BuildFailure {
  const who = `${bpId(bp)}@${bpVersion(bp)}`;
  if (outcome === 'cancelled')
    return new BuildFailure('build', 'CANCELLED', 'The build was cancelled.', { buildpack: who });
  if (outcome === 'timeout' && Date.now() >= deadline - 1000) {
    return new BuildFailure('build', 'TIMEOUT', `The build ran out of time while ${who} was building.`, {
      buildpack: who,
      hint: 'Builds have a time limit; make the build faster (fewer dependencies, a lockfile) or ask an admin.',
    });
  }
  return new BuildFailure('build', 'LIMIT_EXCEEDED', `${who} was stopped: ${message}`, {
    buildpack: who,
    hint: 'Builds run with limits on memory, processes, disk and log volume; see docs/buildpacks.md.',
  });
}

/** Run bin/build of every buildpack in the group, in order, threading the build environment and the plan. */
export async function buildPhase(
  req: BuildRequest,
  group: GroupElement[],
  plan: PlanEntry[],
  dirs: { layers: string; platform: string },
  previous: PreviousLayers,
): Promise<BuiltBuildpack[]> {
  const built: BuiltBuildpack[] = [];
  let remaining = plan;
  // The environment later buildpacks inherit: passthrough variables plus what build layers add.
  const accumulated: Env = passthroughEnv(req.builder);
  const buildConfigEnv = path.join(req.builder.rootfs, 'cnb/build-config/env');

  for (const { buildpack: bp } of group) {
    const id = bpId(bp);
    const who = `${id}@${bpVersion(bp)}`;
    const esc = escapeId(id);
    const bpLayers = path.join(dirs.layers, esc);
    const io = path.join(req.workDir, 'build', esc);
    mkdirSync(bpLayers, { recursive: true });
    mkdirSync(io, { recursive: true });
    const mine = remaining.filter((e) => e.providers.some((p) => p.id === id));
    const entries = mine.flatMap((e) =>
      e.requires.map((r) => ({ name: r.name, ...(r.metadata ? { metadata: r.metadata } : {}) })),
    );
    writeFileSync(path.join(io, 'plan.toml'), toToml({ entries }));
    await prepareWritable([bpLayers, req.appDir], req.hostId ?? 0);

    const env: Env = { ...accumulated, ...cnbEnv(req.runImage, bp) };
    env.CNB_LAYERS_DIR = `${PATHS.layers}/${esc}`;
    env.CNB_BP_PLAN_PATH = `${PATHS.io}/plan.toml`;
    if (!bp.descriptor.buildpack['clear-env']) applyPlatformEnv(env, req.envvars);
    applyEnvDir(env, buildConfigEnv, 'default');
    // Node.js ignores the system CA bundle unless told; with extra CAs bound in, point it there.
    if (req.caBundle) env.NODE_EXTRA_CA_CERTS ??= CA_BUNDLE;

    req.events.log('build', `===> ${who}`);
    const tail: string[] = [];
    const lines = lineSplitter((line) => {
      req.events.log('build', line);
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
    });
    const res = await execBuildpack({
      builder: req.builder,
      argv: [`${bp.dir}/bin/build`, `${PATHS.layers}/${esc}`, PATHS.platform, `${PATHS.io}/plan.toml`],
      env,
      mounts: [
        { source: req.appDir, target: PATHS.app, writable: true },
        { source: dirs.layers, target: PATHS.layers },
        { source: bpLayers, target: `${PATHS.layers}/${esc}`, writable: true },
        { source: dirs.platform, target: PATHS.platform },
        { source: io, target: PATHS.io },
      ],
      network: 'outbound',
      timeoutMs: req.deadline - Date.now(),
      limits: req.limits,
      diskPaths: [req.appDir, bpLayers],
      hostId: req.hostId,
      caBundle: req.caBundle,
      onOutput: (text) => lines.push(text),
      signal: req.signal,
    });
    lines.flush();
    if (res.outcome !== 'exited') throw sandboxFailure(bp, res.outcome, res.message, req.deadline);
    if (res.exitCode !== 0) {
      throw new BuildFailure(
        'build',
        'BUILDPACK_FAILED',
        `${who} failed (exit code ${res.exitCode}). Its last lines:\n${tail.map((l) => `  ${l}`).join('\n')}`,
        {
          buildpack: who,
          hint: 'The lines above come from your build; fix the problem they show and start a new build.',
        },
      );
    }

    let outputs: BuildpackOutputs;
    try {
      outputs = readBuildpackOutputs(bpLayers);
    } catch (err) {
      if (err instanceof InvalidFileError) {
        throw new BuildFailure(
          'build',
          'BUILDPACK_OUTPUT_INVALID',
          `${who} wrote an invalid file: ${err.message}`,
          { buildpack: who },
        );
      }
      throw err;
    }
    const planNames = new Set(entries.map((e) => e.name));
    for (const name of outputs.unmet) {
      if (!planNames.has(name)) {
        throw new BuildFailure(
          'build',
          'BUILDPACK_OUTPUT_INVALID',
          `${who} lists "${name}" as unmet, but it was not in its plan`,
          { buildpack: who },
        );
      }
    }
    for (const layer of outputs.layers) {
      const { launch, build, cache } = layer.toml.types;
      if (cache && !layer.hasContents) {
        throw new BuildFailure(
          'build',
          'BUILDPACK_OUTPUT_INVALID',
          `${who}: cache layer "${layer.name}" has no contents`,
          { buildpack: who },
        );
      }
      if (launch && !layer.hasContents && !previous.get(id)?.has(layer.name)) {
        throw new BuildFailure(
          'build',
          'BUILDPACK_OUTPUT_INVALID',
          `${who}: launch layer "${layer.name}" has no contents and the previous image has no such layer to reuse`,
          { buildpack: who },
        );
      }
      if (build && layer.hasContents) {
        const inside = `${PATHS.layers}/${esc}/${layer.name}`;
        addLayerPaths(accumulated, inside, layer.dir, 'build');
        applyEnvDir(accumulated, path.join(layer.dir, 'env'));
        applyEnvDir(accumulated, path.join(layer.dir, 'env.build'));
      }
    }
    const unmet = new Set(outputs.unmet);
    remaining = remaining.filter((e) => !mine.includes(e) || unmet.has(e.name));
    built.push({ buildpack: bp, outputs });
  }
  return built;
}
