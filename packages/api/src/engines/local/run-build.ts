import { createHash } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import {
  BuildFailure,
  type BuildpackLimits,
  loadBuilder,
  loadRunImage,
  runLifecycle,
} from '@toolforge/buildpacks';
import { type OciLayout, pushImage, type RegistryClient, readImage } from '@toolforge/oci';
import type { Logger } from 'pino';
import type { BuildPhase, BuildStatus } from '../../contract/index.ts';
import { isAppError } from '../../errors.ts';
import { digestTag, type LayoutRegistry } from '../../registry/layout-registry.ts';
import { checkout, type GitOptions } from '../../source/git.ts';
import { resolveSource, type SourcePolicy } from '../../source/url.ts';
import type { BuildRecord, BuildsRepo } from '../../store/builds-repo.ts';
import type { LogHub } from './log-hub.ts';

/** Where built images are pushed: a client that may push one build's image, until released. */
export interface PushTarget {
  /** Check that the tool's images can be pushed (e.g. its Harbor project), before a build is queued. */
  ready?(tool: string): Promise<void>;
  open(tool: string, buildId: string): Promise<{ client: RegistryClient; release(): Promise<void> }>;
}

export interface RunnerDeps {
  repo: BuildsRepo;
  logs: LogHub;
  log: Logger;
  /** Scratch folders of running builds. */
  workRoot: string;
  /** Per tool+image build caches. */
  cacheRoot: string;
  stackLayout: OciLayout;
  rootfsCache: string;
  images: LayoutRegistry;
  /** Also push to a registry (the layout store stays the local copy and the source of layer reuse). */
  push?: PushTarget | undefined;
  git: Omit<GitOptions, 'signal'>;
  sourcePolicy: SourcePolicy;
  limits: BuildpackLimits;
  /** PEM of extra CAs builds must trust (see loadExtraCaCerts). */
  extraCaCerts?: string | undefined;
  timeoutMs: number;
  onFinished?: (record: BuildRecord, seconds: number) => void;
  onPhase?: (record: BuildRecord, phase: string, seconds: number) => void;
}

const PHASES: Record<string, BuildPhase> = {
  prepare: 'preparing',
  analyze: 'analyzing',
  detect: 'detecting',
  restore: 'restoring',
  build: 'building',
  export: 'exporting',
};

export const sha256Envvars = (envvars: Record<string, string>) =>
  createHash('sha256')
    .update(
      Object.keys(envvars)
        .sort()
        .map((k) => `${k}=${envvars[k]}\0`)
        .join(''),
    )
    .digest('hex');

/** The end state of a failed build: status, message, reason, hint. */
function outcome(
  err: unknown,
  signal: AbortSignal,
  timeoutMs: number,
): { status: BuildStatus; message: string; reason: string; hint: string } {
  const timedOut = signal.reason === 'timeout';
  if (timedOut) {
    return {
      status: 'BUILD_TIMEOUT',
      message: `The build did not finish within ${Math.round(timeoutMs / 60000)} minutes and was stopped.`,
      reason: 'TIMEOUT',
      hint: 'Make the build faster (e.g. commit a lockfile) or ask the Toolforge admins for a longer limit.',
    };
  }
  if (signal.aborted)
    return { status: 'BUILD_CANCELLED', message: 'The build was cancelled.', reason: 'CANCELLED', hint: '' };
  if (err instanceof BuildFailure) {
    return {
      status:
        err.reason === 'CANCELLED'
          ? 'BUILD_CANCELLED'
          : err.reason === 'TIMEOUT'
            ? 'BUILD_TIMEOUT'
            : 'BUILD_FAILURE',
      message: `${err.phase}${err.buildpack ? ` (${err.buildpack})` : ''}: ${err.message}`,
      reason: err.reason,
      hint: err.hint ?? '',
    };
  }
  if (isAppError(err))
    return { status: 'BUILD_FAILURE', message: err.message, reason: err.code, hint: err.hint ?? '' };
  return {
    status: 'BUILD_FAILURE',
    message: 'The build failed because of an internal error of the build service.',
    reason: 'PLATFORM_ERROR',
    hint: 'Retry; if it happens again, report it to the Toolforge admins with the build id.',
  };
}

/** Run one build to its end. Never throws: every outcome is written to the record and the log. */
export async function runBuild(record: BuildRecord, deps: RunnerDeps, abort: AbortController): Promise<void> {
  const id = record.id;
  const started = Date.now();
  const say = (step: string, text: string) => deps.logs.append(id, `step-${step}`, text);
  const timings: BuildRecord['timings'] = [];
  const workDir = path.join(deps.workRoot, id);
  const signal = abort.signal;
  const timer = setTimeout(() => abort.abort('timeout'), deps.timeoutMs);
  const ref = `${record.imageName}:latest`;
  const staging = `${record.imageName}:building-${id.slice(-5)}`;
  let layout: OciLayout | undefined;
  deps.repo.update(id, {
    status: 'BUILD_RUNNING',
    phase: 'preparing',
    startTime: new Date().toISOString(),
    message: 'Build started.',
  });
  try {
    await rm(workDir, { recursive: true, force: true });
    // Searchable parents: the sandbox's unprivileged host id must reach the build folder (itself 0700).
    await mkdir(deps.workRoot, { recursive: true, mode: 0o711 });
    await mkdir(workDir, { mode: 0o700 });
    const appDir = path.join(workDir, 'app');

    deps.repo.update(id, { phase: 'cloning', message: 'Cloning the source.' });
    const cloneStart = new Date();
    const source = await resolveSource(record.sourceUrl, deps.sourcePolicy);
    say('clone', `Cloning ${source.display} at ${record.resolvedRef}${record.ref ? ` (${record.ref})` : ''}`);
    await checkout(source, record.resolvedRef, record.ref || undefined, appDir, {
      ...deps.git,
      timeoutMs: Math.min(deps.git.timeoutMs, deps.timeoutMs),
      signal,
    });
    timings.push({
      phase: 'clone',
      start_time: cloneStart.toISOString(),
      end_time: new Date().toISOString(),
      seconds: (Date.now() - cloneStart.getTime()) / 1000,
    });

    const builder = await loadBuilder(deps.stackLayout, record.builderImage, deps.rootfsCache);
    const runImage = await loadRunImage(deps.stackLayout, record.runImage);
    deps.repo.update(id, { builderImage: builder.reference, runImage: runImage.reference });
    say('prepare', `Builder ${builder.reference}`);
    say('prepare', `Run image ${runImage.reference}`);

    layout = await deps.images.layout(record.tool);
    const previous = (await layout.resolve(ref)) ? await readImage(layout, ref) : undefined;
    const result = await runLifecycle({
      workDir,
      appDir,
      builder,
      runImage,
      previous: previous ? { layout, manifest: previous.manifest, config: previous.config } : undefined,
      cacheDir: path.join(deps.cacheRoot, `tool-${record.tool}`, record.imageName),
      envvars: record.envvars,
      extraCaCerts: deps.extraCaCerts,
      project: { repository: record.sourceUrl, commit: record.resolvedRef },
      output: { layout, refName: staging },
      limits: deps.limits,
      deadline: started + deps.timeoutMs,
      signal,
      events: {
        log: (step, text) => say(step, text),
        phase: (p) => {
          const phase = PHASES[p];
          if (phase) deps.repo.update(id, { phase, message: `Build running: ${p}.` });
        },
      },
    });
    for (const t of result.timings) {
      timings.push({
        phase: t.phase,
        start_time: t.startedAt.toISOString(),
        end_time: t.endedAt.toISOString(),
        seconds: (t.endedAt.getTime() - t.startedAt.getTime()) / 1000,
      });
      deps.onPhase?.(record, t.phase, (t.endedAt.getTime() - t.startedAt.getTime()) / 1000);
    }
    // Publish only now: a build cancelled or timed out until here leaves the tool's images untouched.
    if (signal.aborted) throw new BuildFailure('export', 'CANCELLED', 'The build was cancelled.');
    await layout.tag(ref, result.manifest);
    await layout.tag(`${record.imageName}:${digestTag(result.digest)}`, result.manifest);
    await layout.untag(staging);
    if (deps.push) {
      say('export', `Pushing ${record.destinationImage}`);
      const repository = deps.images.repository(record.tool, record.imageName);
      const target = await deps.push.open(record.tool, id);
      try {
        await pushImage(layout, ref, target.client, repository, 'latest');
      } finally {
        await target
          .release()
          .catch((err) => deps.log.warn({ err, buildId: id }, 'could not revoke push access'));
      }
    }
    say('export', `Built ${record.destinationImage}@${result.digest}`);
    deps.repo.update(id, {
      status: 'BUILD_SUCCESS',
      phase: 'done',
      digest: result.digest,
      message: `Built ${record.destinationImage}@${result.digest}`,
      failureReason: '',
      hint: '',
    });
  } catch (err) {
    if (layout) await layout.untag(staging).catch(() => false);
    const o = outcome(err, signal, deps.timeoutMs);
    if (o.reason === 'PLATFORM_ERROR')
      deps.log.error({ err, buildId: id }, 'build failed with an internal error');
    for (const line of o.message.split('\n')) say('error', line);
    if (o.hint) say('error', `hint: ${o.hint}`);
    deps.repo.update(id, {
      status: o.status,
      phase: 'done',
      message: o.message,
      failureReason: o.reason,
      hint: o.hint,
    });
  } finally {
    clearTimeout(timer);
    await rm(workDir, { recursive: true, force: true }).catch(() => {});
    // Values of build-time variables are not kept once the build no longer needs them.
    const names = Object.fromEntries(Object.keys(record.envvars).map((k) => [k, '']));
    deps.repo.update(id, { endTime: new Date().toISOString(), timings, envvars: names });
    deps.logs.ended(id);
    const final = deps.repo.get(id);
    if (final) deps.onFinished?.(final, (Date.now() - started) / 1000);
  }
}
