// Shared by the stacks integration tests: one download cache for all of them (and for reruns), under
// the repository's git-ignored .tmp/, so only the first run of a machine talks to deb.debian.org much.
import { createHash } from 'node:crypto';
import { lstat, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { walk } from '../../../packages/buildpacks/src/stacks/rootfs/paths.ts';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const CACHE_DIR = join(REPO, '.tmp/stacks/cache');

/** Every entry of a tree with what an image layer would carry, except mtimes. */
export async function manifest(root: string): Promise<string[]> {
  const lines: string[] = [];
  for (const e of await walk(root)) {
    const path = join(root, e.path);
    const st = await lstat(path);
    const meta = `${e.type} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
    if (e.type === 'file') {
      lines.push(
        `${e.path} ${meta} ${st.size} ${createHash('sha256')
          .update(await readFile(path))
          .digest('hex')}`,
      );
    } else if (e.type === 'symlink') {
      lines.push(`${e.path} ${meta} -> ${await readlink(path)}`);
    } else {
      lines.push(`${e.path} ${meta}`);
    }
  }
  return lines;
}
