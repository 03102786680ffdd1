import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { prepareWritable } from '../sandbox/index.ts';
import type { BuildRequest } from './context.ts';
import { type Buildpack, bpId, bpVersion, escapeId, targetMatches } from './descriptor.ts';
import { DetectPlanSchema } from './detect-plan.ts';
import { applyPlatformEnv } from './env.ts';
import { cnbEnv, execBuildpack, PATHS, passthroughEnv } from './exec.ts';
import { BuildFailure } from './failure.ts';
import { expandOrder, UnknownBuildpackError } from './order.ts';
import { type DetectOutcome, type DetectResolution, resolveGroups } from './resolve.ts';
import { InvalidFileError, parseToml } from './toml.ts';

const MAX_DETECT_OUTPUT = 16 * 1024;

/** Run one buildpack's bin/detect in the sandbox (app read-only, no network). */
async function detectOne(req: BuildRequest, bp: Buildpack, platformDir: string): Promise<DetectOutcome> {
  const id = bpId(bp);
  if (!targetMatches(bp.descriptor, req.runImage.target)) {
    const t = req.runImage.target;
    return {
      code: 100,
      plan: undefined,
      output: '',
      problem: `does not support the run image (${t.os}/${t.arch}${t.distro ? `, ${t.distro.name} ${t.distro.version}` : ''})`,
    };
  }
  const io = path.join(req.workDir, 'detect', escapeId(id));
  mkdirSync(io, { recursive: true });
  writeFileSync(path.join(io, 'plan.toml'), '');
  await prepareWritable([io], req.hostId ?? 0);
  const env = { ...passthroughEnv(req.builder), ...cnbEnv(req.runImage, bp) };
  env.CNB_BUILD_PLAN_PATH = `${PATHS.io}/plan.toml`;
  if (!bp.descriptor.buildpack['clear-env']) applyPlatformEnv(env, req.envvars);
  let output = '';
  const res = await execBuildpack({
    builder: req.builder,
    argv: [`${bp.dir}/bin/detect`, PATHS.platform, `${PATHS.io}/plan.toml`],
    env,
    mounts: [
      { source: req.appDir, target: PATHS.app },
      { source: platformDir, target: PATHS.platform },
      { source: io, target: PATHS.io, writable: true },
    ],
    network: 'none',
    timeoutMs: Math.min(req.limits.detectTimeoutMs, req.deadline - Date.now()),
    limits: req.limits,
    diskPaths: [io],
    hostId: req.hostId,
    onOutput: (text) => {
      if (output.length < MAX_DETECT_OUTPUT) output += text.slice(0, MAX_DETECT_OUTPUT - output.length);
    },
    signal: req.signal,
  });
  if (res.outcome === 'cancelled') throw new BuildFailure('detect', 'CANCELLED', 'The build was cancelled.');
  if (res.outcome === 'sandbox-error') {
    throw new BuildFailure('detect', 'PLATFORM_ERROR', `${id} could not be started: ${res.message}`, {
      userError: false,
    });
  }
  if (res.outcome !== 'exited') {
    return { code: -1, plan: undefined, output, problem: res.message };
  }
  const code = res.exitCode ?? -1;
  if (code !== 0) return { code, plan: undefined, output };
  try {
    const text = readFileSync(path.join(io, 'plan.toml'), 'utf8');
    return { code, output, plan: parseToml(text, DetectPlanSchema, 'build plan') };
  } catch (err) {
    const reason = err instanceof InvalidFileError ? err.message : String(err);
    return { code: -1, plan: undefined, output, problem: `wrote an invalid ${reason}` };
  }
}

/** What the user is told when no group matched: what each buildpack looks for, and what its detect said. */
function nothingDetected(req: BuildRequest, r: Extract<DetectResolution, { ok: false }>): BuildFailure {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const report of r.reports) {
    for (const e of report.elements) {
      if (seen.has(e.id)) continue;
      seen.add(e.id);
      const bp = req.builder.buildpacks.find((b) => bpId(b) === e.id);
      const looksFor =
        (bp?.descriptor.metadata?.['looks-for'] as string | undefined) ??
        bp?.descriptor.buildpack.description;
      const said = e.problem ?? e.output.trim().split('\n').slice(-3).join(' | ');
      lines.push(
        `  - ${e.id}${looksFor ? `: looks for ${looksFor}` : ''}${said ? ` (${e.code === 100 ? 'said' : `exit ${e.code}`}: ${said})` : ''}`,
      );
    }
  }
  const errored = r.errored;
  return new BuildFailure(
    'detect',
    errored ? 'DETECT_ERROR' : 'NOTHING_DETECTED',
    `${errored ? 'Detection failed with a buildpack error' : 'No buildpack group applies to this source'}. What each buildpack looks for:\n${lines.join('\n')}`,
    {
      hint: errored
        ? 'A buildpack crashed while looking at your source; see its output above.'
        : 'Add the file your language needs (e.g. package.json, requirements.txt, composer.json, a Procfile or index.html) at the top of the repository.',
    },
  );
}

/** Expand the builder's order and pick the first group that passes and whose plan resolves. */
export async function detectPhase(req: BuildRequest, platformDir: string) {
  let groups: ReturnType<typeof expandOrder>;
  try {
    groups = expandOrder(req.builder.order, (id, version) =>
      req.builder.buildpacks.find((b) => bpId(b) === id && (!version || bpVersion(b) === version)),
    );
  } catch (err) {
    if (err instanceof UnknownBuildpackError) throw new BuildFailure('detect', 'PLATFORM_ERROR', err.message);
    throw err;
  }
  const cache = new Map<Buildpack, Promise<DetectOutcome>>();
  const run = (bp: Buildpack) => {
    let p = cache.get(bp);
    if (!p) {
      p = detectOne(req, bp, platformDir);
      cache.set(bp, p);
    }
    return p;
  };
  const r = await resolveGroups(groups, run);
  if (!r.ok) throw nothingDetected(req, r);
  return r;
}
