// Assembles a Debian root filesystem from packages, distroless-style: resolve the closure, download and
// verify the .debs, extract their data archives in name order into a merged-/usr tree, run no
// maintainer scripts but apply their necessary effects explicitly (rootfs/postinst.ts and friends),
// prune documentation, and record exactly what went in (packages.json next to the rootfs).
import { rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import { limiter } from './concurrency.ts';
import { extractData, readControl } from './debian/deb.ts';
import type { RetryOptions } from './debian/download.ts';
import { type FetchProgress, fetchDebs } from './debian/fetch.ts';
import { DEFAULT_SUITES, loadIndexes, type SuiteSource } from './debian/release.ts';
import { type Cut, resolve } from './debian/resolve.ts';
import { type StackUser, writeAccounts } from './rootfs/accounts.ts';
import { type Alternative, applyAlternatives, parseAlternatives } from './rootfs/alternatives.ts';
import { writeCaBundle } from './rootfs/ca-certificates.ts';
import { checkDistro, checkLibraryPaths, checkOverlaps, treeStats } from './rootfs/checks.ts';
import { type InstalledPackage, writeDpkgDatabase } from './rootfs/dpkg-status.ts';
import { canonicalPath, createMergedUsr } from './rootfs/layout.ts';
import { ensureDir } from './rootfs/paths.ts';
import { baseFiles, binSh, etcShells, libcBin, netbase, timezone } from './rootfs/postinst.ts';
import { DEFAULT_KEEP, DEFAULT_PRUNE, extractionExcludes, prune } from './rootfs/prune.ts';

export interface Recipe {
  /** Stack name, e.g. `bookworm-run`; used in packages.json. */
  name: string;
  /** Package names, optionally `name=version`; their Pre-Depends/Depends closure is installed. */
  packages: readonly string[];
  /** Packages cut out of the closure (see debian/resolve.ts); recorded in the result. */
  exclude?: readonly string[];
  /** Accounts besides root and nobody (see rootfs/accounts.ts). */
  users?: readonly StackUser[];
  /** Globs of paths removed after extraction; default DEFAULT_PRUNE (docs, man, info, locale...). */
  prune?: readonly string[];
  /** Globs kept even when a prune pattern covers them; default DEFAULT_KEEP (copyright files). */
  keep?: readonly string[];
  /** Zone /etc/localtime points at when tzdata is installed; default `Etc/UTC` (tzdata's default). */
  timezone?: string;
}

export interface AssembleOptions {
  /** Output directory: the tree goes to `<dir>/rootfs`, the record to `<dir>/packages.json`. */
  dir: string;
  /** Downloads (indexes, .debs), reused across runs; see debian/release.ts and debian/fetch.ts. */
  cacheDir: string;
  suites?: readonly SuiteSource[];
  /** Re-fetch the suites' InRelease files instead of reusing the cached ones. */
  refresh?: boolean;
  keyring?: string;
  concurrency?: number;
  retry?: RetryOptions;
  onProgress?: (p: FetchProgress) => void;
}

export interface RootfsPackage {
  name: string;
  version: string;
  architecture: string;
  sha256: string;
  size: number;
  filename: string;
  suite: string;
  source: string;
  /** The package whose dependency pulled this one in; absent for the recipe's own packages. */
  pulledBy?: string;
}

export interface RootfsRecord {
  recipe: string;
  /** Absolute path of the assembled tree. */
  rootfs: string;
  /** Sorted by name. */
  packages: RootfsPackage[];
  /** Excluded packages that were actually cut out of the closure. */
  excluded: string[];
  /** The dependency groups those exclusions left unmet, per dependent. */
  cuts: Cut[];
  suites: { suite: string; url: string; date: string; inReleaseSha256: string }[];
  distro: { name: 'debian'; version: '12'; codename: 'bookworm' };
  /** Alternatives linked (name → path), as update-alternatives would have. */
  alternatives: Record<string, string>;
  /** Paths that must keep a non-root owner (home directories); ids are numeric. */
  owners: { path: string; uid: number; gid: number }[];
  /** Things worth a look that did not stop the assembly (files shipped by two packages...). */
  warnings: string[];
}

export interface RootfsResult extends RootfsRecord {
  /** This run only, so not in packages.json: what came from the network. */
  download: { packages: number; bytes: number; cachedPackages: number };
  /** Regular files and their total size, and all entries, in the finished tree. */
  stats: { files: number; bytes: number; entries: number };
}

export const DISTRO = { name: 'debian', version: '12', codename: 'bookworm' } as const;

export async function assembleRootfs(recipe: Recipe, opts: AssembleOptions): Promise<RootfsResult> {
  const dir = resolvePath(opts.dir);
  const { releases, index } = await loadIndexes({
    cacheDir: opts.cacheDir,
    suites: opts.suites ?? DEFAULT_SUITES,
    refresh: opts.refresh,
    keyring: opts.keyring,
    retry: opts.retry,
  });
  const resolution = resolve(index, { packages: recipe.packages, exclude: recipe.exclude });
  let progress: FetchProgress = { done: 0, total: 0, bytes: 0, downloaded: 0 };
  const debs = await fetchDebs(resolution.packages, {
    cacheDir: opts.cacheDir,
    concurrency: opts.concurrency,
    retry: opts.retry,
    onProgress: (p) => {
      progress = p;
      opts.onProgress?.(p);
    },
  });

  // Built aside and renamed into place: an interrupted run never leaves a plausible-looking rootfs.
  const partial = join(dir, 'rootfs.partial');
  const root = join(dir, 'rootfs');
  await rm(partial, { recursive: true, force: true });
  await ensureDir(partial);
  await createMergedUsr(partial);

  const prunePatterns = recipe.prune ?? DEFAULT_PRUNE;
  const keepPatterns = recipe.keep ?? DEFAULT_KEEP;
  const excludes = extractionExcludes(prunePatterns, keepPatterns);
  const installed: InstalledPackage[] = [];
  const shippedBy = new Map<string, string[]>();
  const alternatives: Alternative[] = [];
  const skippedAlternatives: string[] = [];
  // Control archives are read alongside the (sequential, order-sensitive) extraction.
  const limit = limiter(2);
  const controls = debs.map((d) => limit(() => readControl(d.path)));
  for (const c of controls) c.catch(() => {}); // each is awaited below; no unhandled rejection meanwhile
  for (const [i, { record, path }] of debs.entries()) {
    const members = await extractData(path, partial, excludes);
    const { files: control } = await controls[i]!;
    installed.push({ record, members, control });
    const parsed = parseAlternatives(control.get('postinst') ?? '', record.name);
    alternatives.push(...parsed.alternatives);
    skippedAlternatives.push(...parsed.skipped);
    for (const m of members) {
      if (m.endsWith('/')) continue;
      const c = canonicalPath(m);
      shippedBy.set(c, [...(shippedBy.get(c) ?? []), record.name]);
    }
  }
  const warnings = await checkOverlaps(partial, shippedBy);
  warnings.push(...skippedAlternatives.map((s) => `update-alternatives call not applied: ${s}`));

  await prune(partial, prunePatterns, keepPatterns);

  const names = new Set(resolution.packages.map((p) => p.name));
  const shell = names.has('bash') ? '/bin/bash' : '/bin/sh';
  await writeAccounts(partial, recipe.users ?? [], shell);
  await baseFiles(partial);
  await binSh(partial);
  await etcShells(partial);
  await libcBin(partial);
  await netbase(partial);
  if (names.has('tzdata')) await timezone(partial, recipe.timezone ?? 'Etc/UTC');
  if (names.has('ca-certificates')) await writeCaBundle(partial);
  const chosen = await applyAlternatives(partial, alternatives);
  warnings.push(...(await checkLibraryPaths(partial)));
  warnings.push(...(await checkDistro(partial, DISTRO)));
  await writeDpkgDatabase(partial, installed, resolution.cuts);

  // Swap the new tree in first, then delete the old one: the rootfs path is never missing for long.
  const old = join(dir, `rootfs.old-${process.pid}-${Date.now()}`);
  const hadOld = await rename(root, old).then(
    () => true,
    (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return false;
      throw e;
    },
  );
  await rename(partial, root);
  if (hadOld) await rm(old, { recursive: true, force: true });

  const record: RootfsRecord = {
    recipe: recipe.name,
    rootfs: root,
    packages: resolution.packages.map((p) => ({
      name: p.name,
      version: p.version,
      architecture: p.architecture,
      sha256: p.sha256,
      size: p.size,
      filename: p.filename,
      suite: p.suite,
      source: p.source,
      ...(resolution.pulledBy.has(p.name) ? { pulledBy: resolution.pulledBy.get(p.name) } : {}),
    })),
    excluded: resolution.excluded,
    cuts: resolution.cuts,
    suites: releases.map((r) => ({
      suite: r.suite,
      url: r.url,
      date: r.date,
      inReleaseSha256: r.inReleaseSha256,
    })),
    distro: DISTRO,
    alternatives: Object.fromEntries(chosen.map((a) => [a.name, a.path])),
    owners: (recipe.users ?? []).map((u) => ({ path: u.home, uid: u.uid, gid: u.gid })),
    warnings,
  };
  await writeFile(join(dir, 'packages.json'), `${JSON.stringify(record, null, 2)}\n`);
  return {
    ...record,
    download: {
      packages: progress.downloaded,
      bytes: progress.bytes,
      cachedPackages: debs.length - progress.downloaded,
    },
    stats: await treeStats(root),
  };
}
