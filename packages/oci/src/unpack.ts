import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  futimesSync,
  lchownSync,
  linkSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readdirSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { mkdir, open, realpath } from 'node:fs/promises';
import { decompress } from './decompress.ts';
import { UnsafeArchiveError } from './errors.ts';
import type { LayerCompression } from './media-types.ts';
import { readTar, type TarEntry } from './tar/reader.ts';
import { lexicallyContained, lstatOrUndefined, Root, type SymlinkPolicy, splitName } from './unpack-paths.ts';

export type { SymlinkPolicy } from './unpack-paths.ts';

export interface UnpackOptions {
  /**
   * 'contained' (default, for untrusted app/cache content): symlinks must be relative and resolve inside
   * the destination, and no entry may be written below a symlink. 'rootfs' (base images): absolute
   * targets are allowed (they mean paths inside the image), relative ones must not climb above the root,
   * and entries below a symlinked directory are written where the link points *inside* the root.
   */
  symlinks?: SymlinkPolicy;
  /** Default 'auto' (sniffs gzip/zstd magic bytes). */
  compression?: LayerCompression | 'auto';
  /** Keep setuid/setgid bits on regular files (default false: they are stripped). */
  keepSetid?: boolean;
  /** Apply the archive's uid/gid (only effective when running as root; default false). */
  preserveOwnership?: boolean;
}

export interface UnpackStats {
  entries: number;
  /** Bytes of regular-file content written. */
  bytes: number;
}

/** Extracts one layer safely into `dest` (created if missing), applying OCI whiteouts. */
export async function unpackLayer(
  source: AsyncIterable<Uint8Array>,
  dest: string,
  options: UnpackOptions = {},
): Promise<UnpackStats> {
  const session = await UnpackSession.open(dest, options);
  await session.apply(source, options.compression);
  session.finish();
  return session.stats;
}

/** Ownership, mode and mtime to apply to a directory (at the end) or a file (right after writing). */
interface DirMeta {
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
}

const SMALL_FILE = 256 * 1024;
const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/**
 * Applies several layers to one directory. Directory modes/mtimes are applied at the very end (so
 * read-only directories can still be filled) and, under the 'contained' policy, every symlink created
 * is re-resolved with real semantics once all layers are in, which catches chains such as
 * `a -> .` plus `l -> a/..` that each look harmless on their own.
 */
export class UnpackSession {
  readonly stats: UnpackStats = { entries: 0, bytes: 0 };
  readonly #root: Root;
  readonly #opts: UnpackOptions;
  readonly #policy: SymlinkPolicy;
  readonly #chown: boolean;
  readonly #dirMeta = new Map<string, DirMeta>();
  readonly #symlinks = new Set<string>();
  /** Paths written by the layer being applied: whiteouts only hide what lower layers wrote. */
  #touched = new Set<string>();

  private constructor(dir: string, options: UnpackOptions) {
    this.#policy = options.symlinks ?? 'contained';
    this.#root = new Root(dir, this.#policy);
    this.#opts = options;
    this.#chown = (options.preserveOwnership ?? false) && process.getuid?.() === 0;
  }

  static async open(dest: string, options: UnpackOptions = {}): Promise<UnpackSession> {
    await mkdir(dest, { recursive: true });
    return new UnpackSession(await realpath(dest), options);
  }

  async apply(
    source: AsyncIterable<Uint8Array>,
    compression: LayerCompression | 'auto' = 'auto',
  ): Promise<void> {
    this.#touched = new Set();
    for await (const entry of readTar(decompress(source, compression))) {
      await this.#entry(entry);
      this.stats.entries++;
    }
  }

  finish(): void {
    if (this.#policy === 'contained') {
      for (const rel of this.#symlinks) {
        const st = lstatOrUndefined(this.#root.abs(rel));
        if (st?.isSymbolicLink() && this.#root.symlinkEscapes(rel)) {
          unlinkSync(this.#root.abs(rel));
          throw new UnsafeArchiveError(rel, 'symlink-escapes-root', 'through other symlinks');
        }
      }
    }
    const deepestFirst = [...this.#dirMeta].sort((a, b) => depth(b[0]) - depth(a[0]));
    for (const [rel, m] of deepestFirst) {
      const abs = this.#root.abs(rel);
      if (!lstatOrUndefined(abs)?.isDirectory()) continue;
      if (this.#chown) lchownSync(abs, m.uid, m.gid);
      chmodSync(abs, m.mode);
      lutimesSync(abs, m.mtime, m.mtime);
    }
    this.#dirMeta.clear();
  }

  async #entry(entry: TarEntry): Promise<void> {
    const h = entry.header;
    const name = h.name;
    const parts = splitName(name);
    if (h.type === 'char-device' || h.type === 'block-device') throw new UnsafeArchiveError(name, 'device');
    if (h.type === 'fifo') throw new UnsafeArchiveError(name, 'fifo');
    if (h.type === 'unknown')
      throw new UnsafeArchiveError(name, 'unsupported-type', `typeflag ${h.typeflag}`);
    const base = parts.at(-1);
    if (base === undefined) {
      if (h.type === 'directory') return; // the root itself: leave dest's own metadata alone
      throw new UnsafeArchiveError(name, 'invalid-name', 'empty name');
    }
    if (base.startsWith('.wh.')) return this.#whiteout(name, parts, base);

    const parentRel = this.#root.resolveDir(name, parts.slice(0, -1), true, (rel) => this.#touched.add(rel))!;
    const rel = parentRel === '' ? base : `${parentRel}/${base}`;
    const abs = this.#root.abs(rel);
    const mtime = h.mtime;
    switch (h.type) {
      case 'directory': {
        const st = lstatOrUndefined(abs);
        if (st && !st.isDirectory()) this.#remove(abs, rel, st);
        if (!st?.isDirectory()) mkdirSync(abs, 0o700);
        else if ((st.mode & 0o700) !== 0o700) chmodSync(abs, st.mode | 0o700);
        this.#root.markDir(rel);
        this.#dirMeta.set(rel, { mode: h.mode & 0o7777, uid: h.uid, gid: h.gid, mtime });
        break;
      }
      case 'file': {
        this.#remove(abs, rel);
        const mode = this.#opts.keepSetid ? h.mode & 0o7777 : h.mode & 0o1777;
        const meta = { mode, uid: h.uid, gid: h.gid, mtime };
        this.stats.bytes +=
          h.size <= SMALL_FILE
            ? this.#smallFile(abs, await entry.buffer(), meta)
            : await this.#largeFile(abs, entry, meta);
        break;
      }
      case 'symlink': {
        const target = h.linkname;
        if (target === '' || target.includes('\0'))
          throw new UnsafeArchiveError(name, 'invalid-name', 'bad target');
        if (target.startsWith('/')) {
          if (this.#policy === 'contained') throw new UnsafeArchiveError(name, 'absolute-symlink', target);
        } else if (!lexicallyContained(parentRel === '' ? [] : parentRel.split('/'), target)) {
          throw new UnsafeArchiveError(name, 'symlink-escapes-root', target);
        }
        this.#remove(abs, rel);
        symlinkSync(target, abs);
        if (this.#chown) lchownSync(abs, h.uid, h.gid);
        lutimesSync(abs, mtime, mtime);
        this.#symlinks.add(rel);
        break;
      }
      case 'hardlink': {
        const targetRel = this.#hardlinkTarget(name, h.linkname);
        if (targetRel !== rel) {
          this.#remove(abs, rel);
          linkSync(this.#root.abs(targetRel), abs);
        }
        break;
      }
    }
    this.#touched.add(rel);
  }

  // chown before chmod in both writers: chown clears setuid/setgid bits we may have been asked to keep.
  #smallFile(abs: string, data: Buffer, m: DirMeta): number {
    const fd = openSync(abs, CREATE_FLAGS, 0o600);
    try {
      for (let off = 0; off < data.length; ) off += writeSync(fd, data, off);
      if (this.#chown) fchownSync(fd, m.uid, m.gid);
      fchmodSync(fd, m.mode);
      futimesSync(fd, m.mtime, m.mtime);
    } finally {
      closeSync(fd);
    }
    return data.length;
  }

  async #largeFile(abs: string, entry: TarEntry, m: DirMeta): Promise<number> {
    const fh = await open(abs, CREATE_FLAGS, 0o600);
    let n = 0;
    try {
      for await (const chunk of entry.body) {
        for (let off = 0; off < chunk.length; ) off += (await fh.write(chunk, off)).bytesWritten;
        n += chunk.length;
      }
      if (this.#chown) await fh.chown(m.uid, m.gid);
      await fh.chmod(m.mode);
      await fh.utimes(m.mtime, m.mtime);
    } finally {
      await fh.close();
    }
    return n;
  }

  /** A hard link target must be an existing non-directory reached without leaving the root. */
  #hardlinkTarget(name: string, linkname: string): string {
    let parts: string[];
    let parentRel: string | undefined;
    try {
      parts = splitName(linkname);
      parentRel = this.#root.resolveDir(name, parts.slice(0, -1), false);
    } catch (err) {
      if (err instanceof UnsafeArchiveError)
        throw new UnsafeArchiveError(name, 'hardlink-outside-root', linkname);
      throw err;
    }
    const base = parts.at(-1);
    if (base === undefined) throw new UnsafeArchiveError(name, 'hardlink-outside-root', linkname);
    if (parentRel === undefined) throw new UnsafeArchiveError(name, 'hardlink-missing', linkname);
    const rel = parentRel === '' ? base : `${parentRel}/${base}`;
    const st = lstatOrUndefined(this.#root.abs(rel));
    if (!st) throw new UnsafeArchiveError(name, 'hardlink-missing', linkname);
    if (st.isDirectory()) throw new UnsafeArchiveError(name, 'hardlink-to-directory', linkname);
    return rel;
  }

  #whiteout(name: string, parts: string[], base: string): void {
    const parentRel = this.#root.resolveDir(name, parts.slice(0, -1), false);
    if (parentRel === undefined) return; // nothing below to hide
    if (base === '.wh..wh..opq') {
      this.#clearLower(parentRel);
      return;
    }
    if (base.startsWith('.wh..wh.')) return; // other aufs bookkeeping, not content
    const victim = base.slice(4);
    if (victim === '' || victim === '.' || victim === '..')
      throw new UnsafeArchiveError(name, 'bad-whiteout');
    const rel = parentRel === '' ? victim : `${parentRel}/${victim}`;
    if (!this.#touched.has(rel)) this.#remove(this.#root.abs(rel), rel);
  }

  /** Opaque directory: remove whatever lower layers put in it, keep what this layer wrote. */
  #clearLower(dirRel: string): void {
    for (const child of readdirSync(this.#root.abs(dirRel))) {
      const rel = dirRel === '' ? child : `${dirRel}/${child}`;
      const abs = this.#root.abs(rel);
      if (!this.#touched.has(rel)) this.#remove(abs, rel);
      else if (lstatOrUndefined(abs)?.isDirectory()) this.#clearLower(rel);
    }
  }

  /** Removes whatever is at `abs` (never following a symlink) and forgets cached state below it. */
  #remove(abs: string, rel: string, st = lstatOrUndefined(abs)): void {
    if (!st) return;
    if (!st.isDirectory()) {
      unlinkSync(abs);
      this.#symlinks.delete(rel);
      return;
    }
    rmSync(abs, { recursive: true, force: true });
    this.#root.forget();
    const below = `${rel}/`;
    for (const key of this.#dirMeta.keys())
      if (key === rel || key.startsWith(below)) this.#dirMeta.delete(key);
    for (const key of this.#symlinks) if (key.startsWith(below)) this.#symlinks.delete(key);
  }
}

function depth(rel: string): number {
  let n = 0;
  for (let i = 0; i < rel.length; i++) if (rel.charCodeAt(i) === 47) n++;
  return n;
}
