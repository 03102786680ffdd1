// The merged-/usr layout Debian 12 installs by default (debootstrap and the installer do it; bookworm
// packages themselves still ship files under /bin, /lib, ...): the top-level directories are symlinks
// into /usr, created before any package is extracted so that tar writes `./bin/bash` through them.
import { symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureDir } from './paths.ts';

export const MERGED_DIRS = ['bin', 'sbin', 'lib', 'lib64'] as const;

export async function createMergedUsr(root: string): Promise<void> {
  for (const dir of MERGED_DIRS) {
    await ensureDir(join(root, 'usr', dir));
    await symlink(`usr/${dir}`, join(root, dir));
  }
}

/** `bin/bash` → `usr/bin/bash`: where a path from a package ends up in the merged layout. */
export function canonicalPath(path: string): string {
  const p = path.replace(/^\.?\/+/, '').replace(/\/+$/, '');
  const top = p.split('/')[0] ?? '';
  return (MERGED_DIRS as readonly string[]).includes(top) ? `usr/${p}` : p;
}
