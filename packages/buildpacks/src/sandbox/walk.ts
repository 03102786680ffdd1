import type { BigIntStats } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';

/**
 * Every entry under `root` (itself included), depth first, parents before children. Symlinks are never
 * followed and the walk stays on root's filesystem: the trees walked here were written by untrusted code,
 * which could plant a symlink to / or swap a directory for one mid-walk. Entries that vanish are skipped.
 */
export async function* walkTree(root: string): AsyncGenerator<{ path: string; stat: BigIntStats }> {
  let rootStat: BigIntStats;
  try {
    rootStat = await lstat(root, { bigint: true });
  } catch {
    return;
  }
  yield { path: root, stat: rootStat };
  if (!rootStat.isDirectory()) return;
  const stack = [root];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      const p = path.join(dir, name);
      let st: BigIntStats;
      try {
        st = await lstat(p, { bigint: true });
      } catch {
        continue;
      }
      if (st.dev !== rootStat.dev) continue;
      yield { path: p, stat: st };
      if (st.isDirectory()) stack.push(p);
    }
  }
}
