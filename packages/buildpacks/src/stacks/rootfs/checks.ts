// Checks on an assembled tree: problems that do not stop the assembly are returned as warnings.
import { lstat, readFile, readlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { byString } from '../debian/resolve.ts';
import { canonicalPath } from './layout.ts';
import { inRoot, walk } from './paths.ts';

/**
 * dpkg refuses to let one package overwrite another's file unless it declares Replaces; here the later
 * package (in name order) silently wins, so overlaps are reported. A symlink that the merged layout
 * turned into a link to itself (`/usr/bin/x` → `/bin/x`) is an error: the file would be lost.
 */
export async function checkOverlaps(root: string, owners: Map<string, string[]>): Promise<string[]> {
  const warnings: string[] = [];
  for (const [path, pkgs] of [...owners.entries()].sort(([a], [b]) => byString(a, b))) {
    if (pkgs.length < 2) continue;
    const st = await lstat(inRoot(root, path)).catch(() => undefined);
    if (st?.isSymbolicLink()) {
      const target = await readlink(inRoot(root, path));
      const resolved = canonicalPath(target.startsWith('/') ? target : join(dirname(path), target));
      if (resolved === path)
        throw new Error(`/${path} from ${pkgs.join(' and ')} is a symlink to itself after usrmerge`);
    }
    warnings.push(`/${path} is shipped by ${[...new Set(pkgs)].join(', ')}; the last one extracted wins`);
  }
  return warnings;
}

// Debian's ld.so searches the multiarch directories without /etc/ld.so.cache, which ldconfig (a
// trigger, not run here) would write. Libraries registered elsewhere through ld.so.conf.d would not be
// found, so say so.
export async function checkLibraryPaths(root: string): Promise<string[]> {
  const builtin = new Set([
    '/lib/x86_64-linux-gnu',
    '/usr/lib/x86_64-linux-gnu',
    '/usr/local/lib',
    '/usr/local/lib/x86_64-linux-gnu',
  ]);
  const warnings: string[] = [];
  for (const e of await walk(inRoot(root, '/etc/ld.so.conf.d'))) {
    if (e.type !== 'file') continue;
    const text = await readFile(inRoot(root, `/etc/ld.so.conf.d/${e.path}`), 'utf8');
    for (const line of text.split('\n').map((l) => l.split('#')[0]!.trim())) {
      if (line && !builtin.has(line))
        warnings.push(`/etc/ld.so.conf.d/${e.path} adds ${line}, which needs an ld.so.cache (not generated)`);
    }
  }
  return warnings;
}

/**
 * The tree must be the release the record claims (base-files' /etc/os-release), which guards against
 * suites of another release being configured. Without base-files there is nothing to check.
 */
export async function checkDistro(
  root: string,
  expected: { name: string; version: string; codename: string },
): Promise<string[]> {
  const text = await readFile(inRoot(root, '/usr/lib/os-release'), 'utf8').catch(() => undefined);
  if (text === undefined) return ['no /usr/lib/os-release (base-files not installed): distro not checked'];
  const field = (name: string) => new RegExp(`^${name}="?([^"\n]*)"?$`, 'm').exec(text)?.[1];
  const found = { name: field('ID'), version: field('VERSION_ID'), codename: field('VERSION_CODENAME') };
  if (
    found.name !== expected.name ||
    found.version !== expected.version ||
    found.codename !== expected.codename
  ) {
    throw new Error(`the packages are ${JSON.stringify(found)}, not ${JSON.stringify(expected)}`);
  }
  return [];
}

export async function treeStats(root: string): Promise<{ files: number; bytes: number; entries: number }> {
  let files = 0;
  let bytes = 0;
  const entries = await walk(root);
  for (const e of entries) {
    if (e.type !== 'file') continue;
    files++;
    bytes += (await lstat(join(root, e.path))).size;
  }
  return { files, bytes, entries: entries.length };
}
