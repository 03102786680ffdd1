import { lstatSync, mkdirSync, readlinkSync, type Stats } from 'node:fs';
import { UnsafeArchiveError } from './errors.ts';

export type SymlinkPolicy = 'contained' | 'rootfs';

/** Splits an archive name into components: leading '/' and './' go, '..' is refused outright. */
export function splitName(name: string): string[] {
  if (name.includes('\0')) throw new UnsafeArchiveError(name, 'invalid-name', 'NUL byte');
  const parts: string[] = [];
  for (const p of name.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') throw new UnsafeArchiveError(name, 'dotdot');
    parts.push(p);
  }
  return parts;
}

/** Whether a relative link target, resolved lexically from directory `dirParts`, stays inside the root. */
export function lexicallyContained(dirParts: readonly string[], target: string): boolean {
  let depth = dirParts.length;
  for (const p of target.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') {
      if (--depth < 0) return false;
    } else depth++;
  }
  return true;
}

export function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

const MAX_HOPS = 40; // as Linux MAXSYMLINKS

/**
 * Path resolution inside the extraction root that never follows a symlink out of it. Directories
 * verified to be real (not symlinks) are cached; any removal clears the cache.
 */
export class Root {
  readonly dir: string;
  readonly #policy: SymlinkPolicy;
  readonly #realDirs = new Set<string>(['']);

  constructor(dir: string, policy: SymlinkPolicy) {
    this.dir = dir;
    this.#policy = policy;
  }

  abs(rel: string): string {
    return rel === '' ? this.dir : `${this.dir}/${rel}`;
  }

  forget(): void {
    this.#realDirs.clear();
    this.#realDirs.add('');
  }

  markDir(rel: string): void {
    this.#realDirs.add(rel);
  }

  /**
   * Resolves directory components to the relative path of a real directory under the root.
   * 'contained': a symlink component is refused. 'rootfs': it is followed *inside* the root (absolute
   * targets restart at the root, '..' stops at the root, like a chroot). Missing directories are created
   * when `create` (reported through `onCreate`), otherwise undefined is returned.
   */
  resolveDir(
    entry: string,
    parts: readonly string[],
    create: boolean,
    onCreate?: (rel: string) => void,
  ): string | undefined {
    const stack: string[] = [];
    const queue = [...parts];
    let hops = 0;
    while (queue.length > 0) {
      const comp = queue.shift()!;
      if (comp === '' || comp === '.') continue;
      if (comp === '..') {
        stack.pop();
        continue;
      }
      const rel = stack.length === 0 ? comp : `${stack.join('/')}/${comp}`;
      if (this.#realDirs.has(rel)) {
        stack.push(comp);
        continue;
      }
      const st = lstatOrUndefined(this.abs(rel));
      if (st === undefined) {
        if (!create) return undefined;
        mkdirSync(this.abs(rel), 0o755);
        onCreate?.(rel);
      } else if (st.isSymbolicLink()) {
        if (this.#policy === 'contained') throw new UnsafeArchiveError(entry, 'symlink-parent', rel);
        if (++hops > MAX_HOPS)
          throw new UnsafeArchiveError(entry, 'symlink-parent', `too many symlinks at ${rel}`);
        const target = readlinkSync(this.abs(rel));
        if (target.startsWith('/')) stack.length = 0;
        queue.unshift(...target.split('/'));
        continue;
      } else if (!st.isDirectory()) {
        throw new Error(`cannot extract ${JSON.stringify(entry)}: ${rel} is not a directory`);
      }
      this.#realDirs.add(rel);
      stack.push(comp);
    }
    return stack.join('/');
  }

  /**
   * Whether the symlink at `rel` points outside the root when followed with real semantics (each hop
   * from its real location, '..' from the root escaping). Loops are not escapes.
   */
  symlinkEscapes(rel: string): boolean {
    const stack = rel.split('/');
    stack.pop();
    const queue = readlinkSync(this.abs(rel)).split('/');
    if (queue[0] === '') return true;
    let hops = 0;
    while (queue.length > 0) {
      const comp = queue.shift()!;
      if (comp === '' || comp === '.') continue;
      if (comp === '..') {
        if (stack.length === 0) return true;
        stack.pop();
        continue;
      }
      stack.push(comp);
      const path = this.abs(stack.join('/'));
      if (lstatOrUndefined(path)?.isSymbolicLink()) {
        if (++hops > 255) return false;
        stack.pop();
        const target = readlinkSync(path);
        if (target.startsWith('/')) return true;
        queue.unshift(...target.split('/'));
      }
    }
    return false;
  }
}
