import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';

/** Bytes used by the files under a folder (0 when it does not exist); symlinks are not followed. */
export async function du(dir: string): Promise<number> {
  let total = 0;
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return 0;
  }
  for (const name of entries) {
    const p = path.join(dir, name);
    const st = await lstat(p);
    if (st.isDirectory()) total += await du(p);
    else total += st.blocks * 512;
  }
  return total;
}
