import { readdirSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { OciLayout, readImage, withFileLock } from '@toolforge/oci';
import { builderRepo, createBuilder, definitionHash } from '../builder/create.ts';
import { BUILTIN_BUILDERS_DIR, loadBuilderDefinition } from '../builder/definition.ts';
import { BUILDPACKS_HASH_LABEL, FORMAT_LABEL, STACK_FORMAT } from './labels.ts';
import { createStacks, STACK_REPOS, type StackProgress, today } from './stacks.ts';

export interface StackStorePaths {
  /** The OCI layout holding stack and builder images. */
  layout: string;
  /** Downloaded Debian indexes and packages. */
  downloads: string;
  /** Scratch space while assembling. */
  work: string;
  /** Unpacked builder filesystems, one per digest. */
  rootfs: string;
}

export function stackStorePaths(dataDir: string): StackStorePaths {
  return {
    layout: path.join(dataDir, 'stacks'),
    downloads: path.join(dataDir, 'cache', 'debian'),
    work: path.join(dataDir, 'tmp', 'stacks'),
    rootfs: path.join(dataDir, 'rootfs'),
  };
}

export interface EnsureResult {
  run: { ref: string; digest: string };
  build: { ref: string; digest: string };
  builders: { name: string; ref: string; digest: string; rebuilt: boolean }[];
  stacksRebuilt: boolean;
}

/**
 * Make sure the stack pair and every built-in builder exist, building what is missing: the stacks when
 * absent (or always with `refresh`, which re-reads Debian's indexes), a builder when absent or when its
 * definition, its buildpacks or its build image changed since it was made.
 */
export async function ensureStacks(
  dataDir: string,
  opts: { refresh?: boolean; progress?: StackProgress } = {},
): Promise<EnsureResult> {
  return withStackLock(dataDir, () => ensureLocked(dataDir, opts));
}

/** Several processes (a server starting, an admin command, test runs) may build in the same store at once. */
export async function withStackLock<T>(dataDir: string, fn: () => Promise<T>): Promise<T> {
  await mkdir(dataDir, { recursive: true });
  const minutes = 30 * 60_000;
  return withFileLock(path.join(dataDir, '.stacks.lock'), fn, { timeoutMs: minutes, staleMs: minutes });
}

async function ensureLocked(
  dataDir: string,
  opts: { refresh?: boolean; progress?: StackProgress },
): Promise<EnsureResult> {
  const paths = stackStorePaths(dataDir);
  const progress = opts.progress ?? (() => {});
  const layout = await OciLayout.open(paths.layout, { create: true });
  const haveRun = await layout.resolve(`${STACK_REPOS.run}:latest`);
  const haveBuild = await layout.resolve(`${STACK_REPOS.build}:latest`);
  let stacksRebuilt = false;
  const outdated = async (ref: string) =>
    (await readImage(layout, ref)).config.config?.Labels?.[FORMAT_LABEL] !== STACK_FORMAT;
  if (
    opts.refresh ||
    !haveRun ||
    !haveBuild ||
    (await outdated(`${STACK_REPOS.run}:latest`)) ||
    (await outdated(`${STACK_REPOS.build}:latest`))
  ) {
    progress({
      stage: 'stacks',
      detail: opts.refresh
        ? 'refreshing from Debian'
        : 'building the Debian 12 run and build images (first start)',
    });
    const r = await createStacks(layout, {
      workDir: paths.work,
      cacheDir: paths.downloads,
      refresh: opts.refresh ?? false,
      progress,
    });
    stacksRebuilt = r.changed;
    progress({
      stage: 'stacks',
      detail: r.changed
        ? `new pair ${r.run.ref}, ${r.build.ref}`
        : 'no Debian updates: the stacks are unchanged',
    });
  }
  const run = await readImage(layout, `${STACK_REPOS.run}:latest`);
  const build = await readImage(layout, `${STACK_REPOS.build}:latest`);
  const builders: EnsureResult['builders'] = [];
  for (const name of readdirSync(BUILTIN_BUILDERS_DIR).sort()) {
    builders.push(
      await ensureBuilder(layout, path.join(BUILTIN_BUILDERS_DIR, name, 'builder.toml'), progress),
    );
  }
  return {
    run: { ref: `${STACK_REPOS.run}:latest`, digest: run.descriptor.digest },
    build: { ref: `${STACK_REPOS.build}:latest`, digest: build.descriptor.digest },
    builders,
    stacksRebuilt,
  };
}

/** Make (or keep) the builder of a definition file: rebuilt when the definition, its buildpacks or the build image changed. */
export async function ensureBuilder(
  layout: OciLayout,
  file: string,
  progress: StackProgress = () => {},
): Promise<EnsureResult['builders'][number]> {
  const def = await loadBuilderDefinition(file);
  const build = await readImage(layout, `${STACK_REPOS.build}:latest`);
  const repo = builderRepo(def.name);
  const run = await readImage(layout, `${STACK_REPOS.run}:latest`);
  const want = definitionHash(def, `${build.descriptor.digest}+${run.descriptor.digest}`);
  const current = await layout.resolve(`${repo}:latest`);
  let rebuilt = false;
  if (
    !current ||
    (await readImage(layout, `${repo}:latest`)).config.config?.Labels?.[BUILDPACKS_HASH_LABEL] !== want
  ) {
    progress({ stage: 'builder', detail: `making builder ${def.name}` });
    await createBuilder(layout, def, {
      tag: today(),
      buildImage: `${STACK_REPOS.build}:latest`,
      runImage: `${STACK_REPOS.run}:latest`,
    });
    rebuilt = true;
  }
  const image = await readImage(layout, `${repo}:latest`);
  return { name: def.name, ref: `${repo}:latest`, digest: image.descriptor.digest, rebuilt };
}
