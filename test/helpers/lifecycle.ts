import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  BuildFailure,
  type BuildpackLimits,
  type BuildResult,
  loadBuilder,
  loadExtraCaCerts,
  loadRunImage,
  runLifecycle,
  stackStorePaths,
} from '@toolforge/buildpacks';
import { OciLayout, readImage } from '@toolforge/oci';
import { HARNESS_BUILDER, RUNNER, TEST_STACK_DIR } from './paths.ts';

export const TEST_LIMITS: BuildpackLimits = {
  detectTimeoutMs: 10_000,
  memoryBytes: 1024 * 2 ** 20,
  pids: 512,
  outputBytes: 8 * 2 ** 20,
  diskBytes: 512 * 2 ** 20,
  tmpBytes: 256 * 2 ** 20,
};

export interface HarnessBuild {
  result?: BuildResult;
  failure?: BuildFailure;
  logs: { step: string; text: string }[];
  layout: OciLayout;
  ref: string;
  workDir: string;
  appDir: string;
}

/** Write an app (file name → content) into a fresh folder. */
export function writeApp(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tf-app-'));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), content);
  }
  return dir;
}

/**
 * Run the embedded CNB platform on an app with a builder from the test stack store, writing the image into
 * a layout (a fresh one unless given, so a second build can reuse the first's layers).
 */
export async function harnessBuild(
  app: Record<string, string> | string,
  opts: {
    builder?: string;
    envvars?: Record<string, string>;
    cacheDir?: string;
    layoutDir?: string;
    ref?: string;
    processType?: string;
    limits?: Partial<BuildpackLimits>;
    timeoutMs?: number;
    signal?: AbortSignal;
  } = {},
): Promise<HarnessBuild> {
  const stacks = stackStorePaths(TEST_STACK_DIR);
  const stackLayout = await OciLayout.open(stacks.layout);
  const builder = await loadBuilder(stackLayout, opts.builder ?? HARNESS_BUILDER, stacks.rootfs);
  const runImage = await loadRunImage(stackLayout, RUNNER);
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'tf-build-'));
  const appDir = path.join(workDir, 'app');
  if (typeof app === 'string') {
    const { cpSync } = await import('node:fs');
    cpSync(app, appDir, { recursive: true });
  } else {
    mkdirSync(appDir);
    for (const [name, content] of Object.entries(app)) {
      mkdirSync(path.dirname(path.join(appDir, name)), { recursive: true });
      writeFileSync(path.join(appDir, name), content);
    }
  }
  const layout = await OciLayout.open(opts.layoutDir ?? mkdtempSync(path.join(os.tmpdir(), 'tf-layout-')), {
    create: true,
  });
  const ref = opts.ref ?? 'app:latest';
  const previous = (await layout.resolve(ref)) ? await readImage(layout, ref) : undefined;
  const logs: HarnessBuild['logs'] = [];
  const out: HarnessBuild = { logs, layout, ref, workDir, appDir };
  try {
    out.result = await runLifecycle({
      workDir,
      appDir,
      builder,
      runImage,
      previous: previous ? { layout, manifest: previous.manifest, config: previous.config } : undefined,
      cacheDir: opts.cacheDir,
      envvars: opts.envvars ?? {},
      extraCaCerts: loadExtraCaCerts(),
      processType: opts.processType,
      project: { repository: 'https://example.org/app.git', commit: 'f'.repeat(40) },
      output: { layout, refName: ref },
      limits: { ...TEST_LIMITS, ...opts.limits },
      deadline: Date.now() + (opts.timeoutMs ?? 300_000),
      signal: opts.signal,
      events: { log: (step, text) => logs.push({ step, text }) },
    });
  } catch (err) {
    if (!(err instanceof BuildFailure)) throw err;
    out.failure = err;
  }
  return out;
}
