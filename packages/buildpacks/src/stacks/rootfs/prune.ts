// Removal of files an image does not need after extraction. Patterns are globs on rootfs-relative
// paths in the merged layout (`usr/share/man/**`, not `share/man`): `*` matches within one path
// segment, `**` any number of segments including none, so `a/**` covers `a` itself and everything
// below. A kept path survives even when a prune pattern covers it, and so do the directories above it.
import { lstat, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { walk } from './paths.ts';

/** Documentation, manuals, translations and lintian data: large, unused in an image. */
export const DEFAULT_PRUNE: readonly string[] = [
  'usr/share/doc/**',
  'usr/share/man/**',
  'usr/share/info/**',
  'usr/share/locale/**',
  'usr/share/lintian/**',
  'usr/share/linda/**',
  'usr/share/bug/**',
  // ldconfig's aux-cache holds file mtimes, so it differs between otherwise identical builds.
  'var/cache/ldconfig/aux-cache',
];

/** Copyright files stay: they are the licence notices the binaries' licences require to ship along. */
export const DEFAULT_KEEP: readonly string[] = ['usr/share/doc/*/copyright'];

export function globToRegExp(glob: string): RegExp {
  const parts = glob.replace(/^\/+|\/+$/g, '').split('/');
  let re = '';
  parts.forEach((part, i) => {
    const last = i === parts.length - 1;
    if (part === '**') {
      // `x/**` also matches `x`, `x/**/y` also matches `x/y`, `**/y` matches `y` at any depth.
      if (i === 0) re += last ? '.*' : '(?:[^/]+/)*';
      else re += last ? '(?:/.*)?' : '(?:/[^/]+)*';
      return;
    }
    const segment = part
      .split('*')
      .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('[^/]*');
    re += i === 0 || (parts[i - 1] === '**' && i === 1) ? segment : `/${segment}`;
  });
  return new RegExp(`^${re}$`);
}

/** The directory a pattern cannot match outside of (its segments before the first wildcard). */
function staticPrefix(glob: string): string {
  const parts = glob.replace(/^\/+|\/+$/g, '').split('/');
  const fixed = [];
  for (const part of parts) {
    if (part.includes('*')) break;
    fixed.push(part);
  }
  return fixed.join('/');
}

/**
 * Archive member names tar can skip outright (`--anchored --no-wildcards --exclude`, which also skips
 * everything below a directory): the prune patterns that are a literal path, or a literal directory
 * followed by `/**`, and that no keep pattern reaches into. Skipping at extraction saves creating
 * thousands of files only to delete them; `prune` afterwards handles all the other patterns.
 */
export function extractionExcludes(patterns: readonly string[], keep: readonly string[]): string[] {
  const keepPrefixes = keep.map(staticPrefix);
  const out: string[] = [];
  for (const pattern of patterns) {
    const literal = pattern.replace(/^\/+|\/+$/g, '').replace(/\/\*\*$/, '');
    if (literal === '' || literal.includes('*')) continue;
    const overlaps = keepPrefixes.some(
      (k) => k === literal || k.startsWith(`${literal}/`) || literal.startsWith(`${k}/`) || k === '',
    );
    if (overlaps) continue;
    out.push(`./${literal}`);
    // Packages still ship /bin, /lib, ... paths, which the merged layout puts under /usr.
    const merged = /^usr\/(bin|sbin|lib|lib64)(\/|$)/.exec(literal);
    if (merged) out.push(`./${literal.slice(4)}`);
  }
  return out;
}

export interface PruneResult {
  /** Files and symlinks removed. */
  removed: number;
}

export async function prune(
  root: string,
  patterns: readonly string[],
  keep: readonly string[],
): Promise<PruneResult> {
  const pruneRes = patterns.map(globToRegExp);
  const keepRes = keep.map(globToRegExp);
  const matches = (res: RegExp[], path: string) => res.some((r) => r.test(path));
  let removed = 0;
  // Walk each pattern's fixed prefix only, once even if several patterns share it.
  const roots = [...new Set(patterns.map(staticPrefix))].filter(
    (r, _, all) => !all.some((o) => o !== r && r.startsWith(`${o}/`)),
  );
  for (const base of roots) {
    const st = await lstat(join(root, base)).catch(() => undefined);
    if (!st) continue;
    const entries = st.isDirectory()
      ? [{ path: base, type: 'dir' as const }, ...(await walk(join(root, base), base))]
      : [{ path: base, type: 'file' as const }];
    for (const e of entries) {
      if (e.type === 'dir' || !matches(pruneRes, e.path) || matches(keepRes, e.path)) continue;
      await rm(join(root, e.path), { force: true });
      removed++;
    }
    // Deepest first, so emptied parents can go too; a directory still holding kept files stays.
    for (const e of entries.filter((x) => x.type === 'dir').reverse()) {
      if (!matches(pruneRes, e.path) || matches(keepRes, e.path)) continue;
      await rmdir(join(root, e.path)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
      });
    }
  }
  return { removed };
}
