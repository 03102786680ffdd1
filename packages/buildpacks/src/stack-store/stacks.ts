import { existsSync, writeFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { type Descriptor, layerFromDirectory, type OciLayout, readImage, writeImage } from '@toolforge/oci';
import {
  assembleRootfs,
  BUILD_RECIPE,
  CNB_USER,
  type Recipe,
  RUN_RECIPE,
  type StackUser,
} from '../stacks/index.ts';
import { BASE_ID, FORMAT_LABEL, PACKAGES_LABEL, STACK_FORMAT, SUITES_LABEL, stackLabels } from './labels.ts';

export const CREATED = '1980-01-01T00:00:01Z';
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Repositories of the stack images in the stack store; tags are dates (YYYYMMDD) and `latest`. */
export const STACK_REPOS = { run: 'toolforge/bookworm-run', build: 'toolforge/bookworm-build' } as const;

export interface StackImage {
  kind: 'run' | 'build';
  ref: string;
  descriptor: Descriptor;
  packages: number;
}

export type StackProgress = (event: { stage: string; detail: string }) => void;

export interface RecipeImage {
  recipe: Recipe;
  /** Repository in the layout; the image is tagged `<repo>:<tag>` (the caller moves `latest`). */
  repo: string;
  tag: string;
  /** Scratch directory for the rootfs, removed once the layer is written. */
  dir: string;
  /** Whose stack labels the image carries; catalogue images are run images with more packages. */
  base: 'run' | 'build';
  /** Env after PATH and LANG (which it may override), in this order. */
  env?: Readonly<Record<string, string>>;
  /** Added to the stack labels; the record of what went in (format, packages, suites) always wins. */
  labels?: Readonly<Record<string, string>>;
  /** Default CNB_USER. */
  user?: StackUser;
  /** Progress stage name. */
  stage: string;
}

export interface RecipeImageResult {
  ref: string;
  descriptor: Descriptor;
  packages: number;
}

/** Assembles `spec.recipe` and writes it as a one-layer image. */
export async function imageFromRecipe(
  layout: OciLayout,
  spec: RecipeImage,
  opts: { cacheDir: string; refresh: boolean; progress: StackProgress },
): Promise<RecipeImageResult> {
  const { recipe, dir, stage } = spec;
  const user = spec.user ?? CNB_USER;
  opts.progress({
    stage,
    detail: `resolving and downloading ${recipe.packages.length} Debian packages and their dependencies`,
  });
  let lastShown = 0;
  const result = await assembleRootfs(recipe, {
    dir,
    cacheDir: opts.cacheDir,
    refresh: opts.refresh,
    onProgress: (p) => {
      if (p.done === p.total || Date.now() - lastShown > 2000) {
        lastShown = Date.now();
        opts.progress({
          stage,
          detail: `packages ${p.done}/${p.total} (${(p.bytes / 1e6).toFixed(1)} MB)`,
        });
      }
    },
  });
  // Mount points a container runtime (or our sandbox) binds over: they must exist in a read-only rootfs.
  for (const f of ['etc/resolv.conf', 'etc/hostname']) {
    if (!existsSync(path.join(result.rootfs, f))) writeFileSync(path.join(result.rootfs, f), '');
  }
  opts.progress({
    stage,
    detail: `${result.packages.length} packages, ${result.stats.files} files (${(result.stats.bytes / 1e6).toFixed(1)} MB); writing the image layer`,
  });
  const file = layout.tempPath('.layer');
  const layer = await layerFromDirectory(
    { root: result.rootfs, prefix: '', uid: 0, gid: 0, preserveOwnership: true, gzipLevel: 6 },
    file,
  );
  await layout.putBlobFile(file, { move: true, trusted: true, digest: layer.digest, size: layer.size });
  const packages = result.packages.map((p) => ({ name: p.name, version: p.version, sha256: p.sha256 }));
  const ref = `${spec.repo}:${spec.tag}`;
  const written = await writeImage(layout, {
    config: {
      created: CREATED,
      architecture: 'amd64',
      os: 'linux',
      config: {
        Env: Object.entries({ PATH, LANG: 'C.UTF-8', ...spec.env }).map(([k, v]) => `${k}=${v}`),
        User: `${user.uid}:${user.gid}`,
        WorkingDir: '/',
        Labels: {
          ...stackLabels(spec.base, result.distro),
          ...spec.labels,
          [FORMAT_LABEL]: STACK_FORMAT,
          [PACKAGES_LABEL]: JSON.stringify(packages),
          [SUITES_LABEL]: JSON.stringify(result.suites.map((s) => ({ suite: s.suite, date: s.date }))),
        },
      },
      history: [
        {
          created: CREATED,
          created_by: `${recipe.name}: ${packages.length} Debian packages (no maintainer scripts)`,
        },
      ],
    },
    layers: [layer],
    ref,
  });
  await rm(dir, { recursive: true, force: true });
  return { ref, descriptor: written.manifest, packages: packages.length };
}

async function stackImage(
  layout: OciLayout,
  kind: 'run' | 'build',
  opts: { workDir: string; cacheDir: string; refresh: boolean; tag: string; progress: StackProgress },
): Promise<StackImage> {
  const recipe = kind === 'run' ? RUN_RECIPE : BUILD_RECIPE;
  const env: Record<string, string> =
    kind === 'build'
      ? { CNB_USER_ID: `${CNB_USER.uid}`, CNB_GROUP_ID: `${CNB_USER.gid}`, CNB_STACK_ID: BASE_ID }
      : {};
  const image = await imageFromRecipe(
    layout,
    {
      recipe,
      repo: STACK_REPOS[kind],
      tag: opts.tag,
      dir: path.join(opts.workDir, recipe.name),
      base: kind,
      env,
      stage: kind,
    },
    opts,
  );
  return { kind, ...image };
}

export const today = () => new Date().toISOString().slice(0, 10).replaceAll('-', '');

/**
 * Build the run and build images from their Debian recipes and tag them `<date>` and `latest`. With
 * `refresh`, Debian's indexes are fetched again, so a new pair appears when Debian has updates; when
 * nothing changed the digests are identical and `latest` does not move.
 */
export async function createStacks(
  layout: OciLayout,
  opts: { workDir: string; cacheDir: string; refresh?: boolean; progress?: StackProgress },
): Promise<{ run: StackImage; build: StackImage; changed: boolean }> {
  const progress = opts.progress ?? (() => {});
  const tag = today();
  await mkdir(opts.workDir, { recursive: true });
  const before = {
    run: await layout.resolve(`${STACK_REPOS.run}:latest`),
    build: await layout.resolve(`${STACK_REPOS.build}:latest`),
  };
  const common = {
    workDir: opts.workDir,
    cacheDir: opts.cacheDir,
    refresh: opts.refresh ?? false,
    tag,
    progress,
  };
  const run = await stackImage(layout, 'run', common);
  const build = await stackImage(layout, 'build', common);
  await layout.tag(`${STACK_REPOS.run}:latest`, run.descriptor);
  await layout.tag(`${STACK_REPOS.build}:latest`, build.descriptor);
  const changed =
    before.run?.digest !== run.descriptor.digest || before.build?.digest !== build.descriptor.digest;
  return { run, build, changed };
}

/** The packages recorded in a stack image (name, version, sha256 of the .deb). */
export async function stackPackages(
  layout: OciLayout,
  ref: string,
): Promise<{ name: string; version: string; sha256: string }[]> {
  const image = await readImage(layout, ref);
  return JSON.parse(image.config.config?.Labels?.[PACKAGES_LABEL] ?? '[]');
}
