// Path helpers that treat a directory as `/`: symlinks inside the rootfs (absolute ones included) are
// resolved against the rootfs, never against the host.
import { chmod, lstat, mkdir, readdir, readlink } from 'node:fs/promises';
import { join, posix } from 'node:path';

/**
 * `mkdir -p` whose new directories get `mode` whatever the process umask is, so that the tree does not
 * depend on the environment of the process that assembled it.
 */
export async function ensureDir(path: string, mode = 0o755): Promise<void> {
  const first = await mkdir(path, { recursive: true });
  if (first === undefined) return;
  for (let dir = path; ; dir = join(dir, '..')) {
    await chmod(dir, mode);
    if (dir === first || dir.length <= first.length) break;
  }
}

/** `/bin/sh`-style path inside the rootfs → host path. */
export const inRoot = (root: string, path: string) => join(root, path.replace(/^\/+/, ''));

/**
 * Canonical absolute path of `path` inside `root`, like `realpath -m` in a chroot: every symlink
 * followed (relative to its directory, or to `root` if absolute); missing components are kept as is.
 */
export async function resolveInRoot(root: string, path: string): Promise<string> {
  const pending = posix.normalize(`/${path}`).split('/').filter(Boolean);
  const done: string[] = [];
  for (let hops = 0; pending.length > 0; ) {
    const part = pending.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      done.pop();
      continue;
    }
    const current = `/${[...done, part].join('/')}`;
    const st = await lstat(inRoot(root, current)).catch(() => undefined);
    if (!st?.isSymbolicLink()) {
      done.push(part);
      continue;
    }
    if (++hops > 40) throw new Error(`too many levels of symbolic links resolving ${path}`);
    const target = await readlink(inRoot(root, current));
    if (target.startsWith('/')) done.length = 0;
    pending.unshift(...target.split('/').filter(Boolean));
  }
  return `/${done.join('/')}`;
}

export interface Entry {
  /** Relative to the walk's root directory, `/`-separated. */
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'other';
}

/** Every entry below `dir` (not following symlinks), depth first, in byte order of names. */
export async function walk(dir: string, prefix = ''): Promise<Entry[]> {
  const out: Entry[] = [];
  const names = await readdir(dir).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return [] as string[];
    throw e;
  });
  for (const name of names.sort(byteOrder)) {
    const path = prefix ? `${prefix}/${name}` : name;
    const st = await lstat(join(dir, name));
    const type = st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : st.isFile() ? 'file' : 'other';
    out.push({ path, type });
    if (type === 'dir') out.push(...(await walk(join(dir, name), path)));
  }
  return out;
}

/** Sorts like `LC_ALL=C sort` (UTF-16 code units equal bytes for the ASCII names found in packages). */
export const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));
