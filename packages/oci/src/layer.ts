import type { Stats } from 'node:fs';
import { createWriteStream, lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { PassThrough, type TransformOptions } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, type ZlibOptions } from 'node:zlib';
import { Digester } from './digest.ts';
import { MediaTypes } from './media-types.ts';
import { writeChunk } from './stream-util.ts';
import { type TarWriteHeader, TarWriter } from './tar/writer.ts';

/** CNB's normalised timestamp for every layer entry (lifecycle archive.NormalizedDateTime). */
export const NORMALIZED_MTIME = new Date('1980-01-01T00:00:01Z');

/** Lets the walker run ahead of the compressor by a few MiB instead of waiting on every batch. */
const BUFFERING: TransformOptions = { writableHighWaterMark: 4 << 20 };

export interface LayerResult {
  /** sha256 of the uncompressed tar (config rootfs.diff_ids, CNB labels, cache keys). */
  diffID: string;
  /** sha256 of the blob as written to destFile (manifest layers[].digest). */
  digest: string;
  /** Blob size in bytes. */
  size: number;
  mediaType: string;
  /** Size of the uncompressed tar. */
  uncompressedSize: number;
}

export interface LayerOutputOptions {
  /** gzip level (default 1: export speed matters more than a few percent of size). */
  gzipLevel?: number;
  /** 'none' writes a plain tar (digest = diffID), e.g. for a local cache. Default 'gzip'. */
  compression?: 'gzip' | 'none';
  /** Media type to report (default: the OCI layer type matching the compression). */
  mediaType?: string;
}

/**
 * Writes a layer blob to destFile by letting `fill` add entries to a tar writer, computing the diffID and
 * the blob digest in the same pass. Deterministic: same entries ⇒ same bytes (zlib with a fixed level
 * writes mtime 0 and no file name). gzip runs on the libuv threadpool, so concurrent calls use all cores.
 */
export async function buildLayer(
  destFile: string,
  options: LayerOutputOptions,
  fill: (tar: TarWriter) => Promise<void>,
): Promise<LayerResult> {
  const compress = (options.compression ?? 'gzip') === 'gzip';
  const diff = new Digester();
  const blob = new Digester();
  const head = compress
    ? createGzip({ level: options.gzipLevel ?? 1, chunkSize: 256 * 1024, ...BUFFERING } as ZlibOptions)
    : new PassThrough(BUFFERING);
  const done = pipeline(
    head,
    async function* (source: AsyncIterable<Buffer>) {
      for await (const chunk of source) {
        if (compress) blob.update(chunk); // an uncompressed blob's digest is the diffID: hash it once
        yield chunk;
      }
    },
    createWriteStream(destFile),
  );
  done.catch(() => {}); // observed below; avoids an unhandled rejection while fill is still running
  const tar = new TarWriter((chunk) => {
    diff.update(chunk);
    return writeChunk(head, chunk);
  });
  try {
    await fill(tar);
    await tar.finish();
    head.end();
    await done;
  } catch (err) {
    head.destroy(err as Error);
    await done.catch(() => {});
    await rm(destFile, { force: true });
    throw err;
  }
  const diffID = diff.digest();
  return {
    diffID,
    digest: compress ? blob.digest() : diffID,
    size: compress ? blob.size : diff.size,
    mediaType: options.mediaType ?? (compress ? MediaTypes.ociLayerGzip : MediaTypes.ociLayer),
    uncompressedSize: diff.size,
  };
}

export interface ParentDir {
  /** Absolute entry name, e.g. '/layers' (a trailing slash is added). */
  name: string;
  uid: number;
  gid: number;
  mode: number;
}

export interface DirectoryLayerOptions extends LayerOutputOptions {
  /** Directory whose contents make up the layer. */
  root: string;
  /** Entry name of `root` in the archive, e.g. '/layers/example_node/node'; '' archives relative names. */
  prefix: string;
  /** Parent directories of the prefix to emit first (e.g. '/layers', '/layers/example_node'). */
  parents?: ParentDir[];
  uid: number;
  gid: number;
  /** Keep each file's own uid/gid instead (base images assembled as root, e.g. a Debian rootfs). */
  preserveOwnership?: boolean;
  mtime?: Date;
  /** Skip an entry (and, for a directory, its subtree); `relPath` is relative to root with '/' separators. */
  exclude?: (relPath: string, stats: Stats) => boolean;
}

/**
 * Builds a layer from a directory tree the way lifecycle does: parents first, then the root and a
 * filepath.Walk-ordered tree (lexical per directory, parents before children), every entry owned by
 * uid/gid with the fixed mtime, modes and symlink targets preserved, sockets skipped, hard links stored
 * as regular files.
 */
export async function layerFromDirectory(
  options: DirectoryLayerOptions,
  destFile: string,
): Promise<LayerResult> {
  const mtime = options.mtime ?? NORMALIZED_MTIME;
  const prefix = options.prefix.replace(/\/+$/, '');
  const rootStat = await stat(options.root);
  if (!rootStat.isDirectory()) throw new Error(`layer root ${options.root} is not a directory`);
  return buildLayer(destFile, options, async (tar) => {
    for (const p of options.parents ?? []) {
      await tar.add({ ...p, name: withSlash(p.name), type: 'directory', mtime });
    }
    const owner = { uid: options.uid, gid: options.gid, mtime, preserve: options.preserveOwnership === true };
    if (prefix !== '') {
      const own = owner.preserve ? { uid: rootStat.uid, gid: rootStat.gid } : {};
      await tar.add({
        ...owner,
        ...own,
        name: `${prefix}/`,
        type: 'directory',
        mode: rootStat.mode & 0o7777,
      });
    }
    await walk(tar, options.root, prefix, '', owner, options.exclude);
  });
}

async function walk(
  tar: TarWriter,
  dir: string,
  prefix: string,
  rel: string,
  owner: { uid: number; gid: number; mtime: Date; preserve: boolean },
  exclude: DirectoryLayerOptions['exclude'],
): Promise<void> {
  // Synchronous metadata calls: a threadpool round trip per lstat costs far more than the lstat itself,
  // and the tar writer still yields to the event loop whenever it hands a batch to the compressor.
  const names = readdirSync(dir).sort(compareBytes);
  for (const name of names) {
    const path = `${dir}/${name}`;
    const relPath = rel === '' ? name : `${rel}/${name}`;
    const st = lstatSync(path);
    if (st.isSocket() || exclude?.(relPath, st)) continue;
    const entryName = prefix === '' ? relPath : `${prefix}/${relPath}`;
    const ids = owner.preserve ? { uid: st.uid, gid: st.gid } : { uid: owner.uid, gid: owner.gid };
    const header: TarWriteHeader = {
      ...ids,
      mtime: owner.mtime,
      name: entryName,
      type: 'file',
      mode: st.mode & 0o7777,
    };
    if (st.isDirectory()) {
      await tar.add({ ...header, name: `${entryName}/`, type: 'directory' });
      await walk(tar, path, prefix, relPath, owner, exclude);
    } else if (st.isFile()) {
      await tar.addFile(header, path, st.size);
    } else if (st.isSymbolicLink()) {
      await tar.add({ ...header, type: 'symlink', linkname: readlinkSync(path) });
    } else if (st.isFIFO()) {
      await tar.add({ ...header, type: 'fifo' });
    } else if (st.isCharacterDevice() || st.isBlockDevice()) {
      const [devmajor, devminor] = splitRdev(st.rdev);
      await tar.add({
        ...header,
        type: st.isCharacterDevice() ? 'char-device' : 'block-device',
        devmajor,
        devminor,
      });
    }
  }
}

export interface LayerEntry {
  /** Entry name, usually absolute ('/cnb/lifecycle/launcher'); directories get a trailing '/'. */
  name: string;
  type: 'directory' | 'file' | 'symlink' | 'hardlink';
  /** Defaults: 0o755 directories, 0o644 files, 0o777 symlinks. */
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: Date;
  /** File content in memory... */
  data?: Uint8Array | string;
  /** ...or read from this path (streamed). */
  source?: string;
  /** Target of a symlink or hard link. */
  linkname?: string;
}

export interface EntriesLayerOptions extends LayerOutputOptions {
  /** Defaults for entries that do not set their own. */
  uid?: number;
  gid?: number;
  mtime?: Date;
}

/** Builds a small synthetic layer (launcher, config, SBOM...) from entries written in the given order. */
export function layerFromEntries(
  entries: readonly LayerEntry[],
  destFile: string,
  options: EntriesLayerOptions = {},
): Promise<LayerResult> {
  return buildLayer(destFile, options, async (tar) => {
    for (const e of entries) {
      const header: TarWriteHeader = {
        name: e.type === 'directory' ? withSlash(e.name) : e.name,
        type: e.type,
        mode: e.mode ?? (e.type === 'directory' ? 0o755 : e.type === 'symlink' ? 0o777 : 0o644),
        uid: e.uid ?? options.uid ?? 0,
        gid: e.gid ?? options.gid ?? 0,
        mtime: e.mtime ?? options.mtime ?? NORMALIZED_MTIME,
      };
      if (e.type === 'file') {
        if (e.source !== undefined) await tar.addFile(header, e.source);
        else await tar.addBuffer(header, e.data ?? '');
      } else {
        if ((e.type === 'symlink' || e.type === 'hardlink') && !e.linkname) {
          throw new Error(`layer entry ${e.name}: ${e.type} needs a linkname`);
        }
        await tar.add({ ...header, linkname: e.linkname });
      }
    }
  });
}

function withSlash(name: string): string {
  return name.endsWith('/') ? name : `${name}/`;
}

/** Byte-wise (UTF-8) order as Go's sort.Strings; UTF-16 order differs only beyond U+D7FF. */
export function compareBytes(a: string, b: string): number {
  if (/[\ud800-\uffff]/.test(a) || /[\ud800-\uffff]/.test(b))
    return Buffer.compare(Buffer.from(a), Buffer.from(b));
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Linux dev_t encoding (glibc gnu_dev_major/minor). */
function splitRdev(rdev: number): [number, number] {
  const r = BigInt(rdev);
  const major = Number(((r >> 8n) & 0xfffn) | ((r >> 32n) & ~0xfffn));
  const minor = Number((r & 0xffn) | ((r >> 12n) & ~0xffn));
  return [major, minor];
}
