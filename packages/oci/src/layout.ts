import { createReadStream, createWriteStream, type ReadStream } from 'node:fs';
import { lstat, mkdir, open, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Digester, digestHex, isDigest } from './digest.ts';
import { DigestMismatchError, OciFormatError } from './errors.ts';
import { withFileLock } from './file-lock.ts';
import { isIndexType, isManifestType, MediaTypes } from './media-types.ts';
import { type Descriptor, type ImageIndex, parseIndex, parseManifestOrIndex } from './types.ts';

export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';

/** image-spec annotations.md grammar for ref.name; skopeo (`oci:dir:ref`) and umoci accept all of these. */
const REF_NAME_RE =
  /^[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*(?:\/[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*)*$/;

export function isValidRefName(ref: string): boolean {
  return ref.length <= 1024 && REF_NAME_RE.test(ref);
}

export interface BlobInfo {
  digest: string;
  size: number;
}

export interface ExpectedBlob {
  digest?: string;
  size?: number;
}

export interface TaggedDescriptor {
  ref: string;
  descriptor: Descriptor;
}

/** Blob content given to putBlob. */
export type BlobSource = Uint8Array | AsyncIterable<Uint8Array>;

const EMPTY_INDEX: ImageIndex = { schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: [] };

/**
 * An OCI image layout directory (image-spec image-layout.md), readable by `skopeo ... oci:<dir>:<ref>` and
 * `umoci ... --image <dir>:<ref>`. Blobs are written to a temp file, verified and renamed into place, so
 * a blob path either does not exist or holds exactly its digest's content. index.json is only replaced
 * by rename under a lock file, so concurrent writers (in this or other processes) never lose a tag.
 */
export class OciLayout {
  readonly dir: string;

  private constructor(dir: string) {
    this.dir = dir;
  }

  /** Opens a layout, creating it unless `create` is false. */
  static async open(dir: string, options: { create?: boolean } = {}): Promise<OciLayout> {
    const layout = new OciLayout(resolve(dir));
    const header = join(layout.dir, 'oci-layout');
    let text: string | undefined;
    try {
      text = await readFile(header, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || options.create === false) {
        throw new Error(`${layout.dir} is not an OCI image layout: ${(err as Error).message}`);
      }
    }
    if (text !== undefined) {
      let version: unknown;
      try {
        version = (JSON.parse(text) as { imageLayoutVersion?: unknown }).imageLayoutVersion;
      } catch {}
      if (version !== '1.0.0')
        throw new OciFormatError(`${header}: unsupported imageLayoutVersion ${String(version)}`);
    }
    await mkdir(join(layout.dir, 'blobs', 'sha256'), { recursive: true });
    await mkdir(layout.#tmpDir, { recursive: true });
    if (text === undefined) {
      await writeFile(header, '{"imageLayoutVersion":"1.0.0"}', { flag: 'wx' }).catch((err) => {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      });
      await layout.#updateIndex((index) => index); // writes an empty index.json when missing
    }
    return layout;
  }

  get #tmpDir(): string {
    return join(this.dir, '.tmp');
  }

  /** A fresh path on the layout's filesystem, e.g. for building a layer then moving it in. */
  tempPath(suffix = ''): string {
    return join(
      this.#tmpDir,
      `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}${suffix}`,
    );
  }

  blobPath(digest: string): string {
    return join(this.dir, 'blobs', 'sha256', digestHex(digest));
  }

  async hasBlob(digest: string): Promise<boolean> {
    try {
      return (await stat(this.blobPath(digest))).isFile();
    } catch {
      return false;
    }
  }

  /**
   * Stores a blob from memory or a stream, verifying `expected` digest/size. When the digest is given and
   * the blob is present, the source is not read (a Node stream is destroyed) and the blob's mtime is
   * refreshed so a concurrent gc keeps it.
   */
  async putBlob(source: BlobSource, expected: ExpectedBlob = {}): Promise<BlobInfo> {
    if (expected.digest !== undefined && (await this.#refresh(expected.digest))) {
      if (!(source instanceof Uint8Array) && 'destroy' in source) (source as ReadStream).destroy();
      return { digest: expected.digest, size: (await stat(this.blobPath(expected.digest))).size };
    }
    const tmp = this.tempPath();
    const d = new Digester();
    try {
      if (source instanceof Uint8Array) {
        d.update(source);
        await writeFile(tmp, source);
      } else {
        await pipeline(
          source,
          async function* (chunks: AsyncIterable<Uint8Array>) {
            for await (const c of chunks) {
              d.update(c);
              yield c;
            }
          },
          createWriteStream(tmp),
        );
      }
      const info = { digest: d.digest(), size: d.size };
      checkExpected('blob', expected, info);
      await rename(tmp, this.blobPath(info.digest));
      return info;
    } finally {
      await rm(tmp, { force: true });
    }
  }

  /**
   * Stores a blob from a file. `move` renames (or hard-links) it in instead of copying — it must be on the
   * layout's filesystem, e.g. from tempPath(). The content is hashed unless `trusted` (the caller just
   * computed the digest while writing it, as buildLayer does).
   */
  async putBlobFile(
    path: string,
    options: ExpectedBlob & { move?: boolean; trusted?: boolean } = {},
  ): Promise<BlobInfo> {
    if (!options.move) return this.putBlob(createReadStream(path, { highWaterMark: 1 << 20 }), options);
    let info: BlobInfo;
    if (options.trusted && options.digest !== undefined) {
      info = { digest: options.digest, size: (await stat(path)).size };
    } else {
      const d = new Digester();
      for await (const c of createReadStream(path, { highWaterMark: 1 << 20 })) d.update(c as Buffer);
      info = { digest: d.digest(), size: d.size };
    }
    checkExpected('blob', options, info);
    if (await this.#refresh(info.digest)) await rm(path, { force: true });
    else await rename(path, this.blobPath(info.digest));
    return info;
  }

  /** The blob's bytes, verified against its digest (only use for small blobs: manifests, configs). */
  async readBlob(digest: string): Promise<Buffer> {
    const data = await readFile(this.blobPath(digest));
    const d = new Digester();
    d.update(data);
    const actual = d.digest();
    if (actual !== digest) throw new DigestMismatchError(`blob ${this.blobPath(digest)}`, digest, actual);
    return data;
  }

  /** A read stream of the blob (not verified: blobs are verified when stored). */
  openBlob(digest: string): ReadStream {
    return createReadStream(this.blobPath(digest), { highWaterMark: 1 << 20 });
  }

  /** A read stream of bytes [start, end) of the blob (for chunked uploads). */
  openBlobRange(digest: string, start: number, end: number): ReadStream {
    return createReadStream(this.blobPath(digest), { start, end: end - 1, highWaterMark: 1 << 20 });
  }

  async readJson<T = unknown>(digest: string): Promise<T> {
    const data = await this.readBlob(digest);
    try {
      return JSON.parse(data.toString('utf8')) as T;
    } catch (err) {
      throw new OciFormatError(`blob ${digest} is not JSON: ${(err as Error).message}`);
    }
  }

  /** Stores manifest/index bytes exactly as given (their digest is the image digest) after validating them. */
  async putManifest(bytes: Uint8Array, mediaType: string): Promise<Descriptor> {
    parseManifestOrIndex(bytes, mediaType);
    const info = await this.putBlob(bytes);
    return { mediaType, digest: info.digest, size: info.size };
  }

  /** Points `ref` at a manifest or index stored in this layout (replacing what it pointed at). */
  async tag(ref: string, descriptor: Descriptor): Promise<void> {
    if (!isValidRefName(ref)) throw new TypeError(`invalid ref name ${JSON.stringify(ref)}`);
    if (!isManifestType(descriptor.mediaType) && !isIndexType(descriptor.mediaType)) {
      throw new TypeError(`cannot tag a ${descriptor.mediaType}`);
    }
    if (!(await this.hasBlob(descriptor.digest)))
      throw new Error(`cannot tag ${ref}: ${descriptor.digest} is not stored`);
    const { mediaType, digest, size, platform, artifactType } = descriptor;
    const entry: Descriptor = { mediaType, digest, size };
    if (platform) entry.platform = platform;
    if (artifactType) entry.artifactType = artifactType;
    entry.annotations = { ...descriptor.annotations, [REF_NAME_ANNOTATION]: ref };
    await this.#updateIndex((index) => ({
      ...index,
      manifests: [...index.manifests.filter((m) => refOf(m) !== ref), entry],
    }));
  }

  /** Removes `ref`; false if it did not exist. Blobs stay until gc(). */
  async untag(ref: string): Promise<boolean> {
    let found = false;
    await this.#updateIndex((index) => {
      const manifests = index.manifests.filter((m) => refOf(m) !== ref);
      found = manifests.length !== index.manifests.length;
      return found ? { ...index, manifests } : undefined;
    });
    return found;
  }

  /** Descriptor for a ref name, or for a digest of a stored manifest/index. */
  async resolve(ref: string): Promise<Descriptor | undefined> {
    const index = await this.readIndex();
    if (!isDigest(ref)) return index.manifests.find((m) => refOf(m) === ref);
    const listed = index.manifests.find((m) => m.digest === ref);
    if (listed) return listed;
    if (!(await this.hasBlob(ref))) return undefined;
    const bytes = await this.readBlob(ref);
    let mediaType: string;
    try {
      mediaType = parseManifestOrIndex(bytes).mediaType;
    } catch (err) {
      throw new OciFormatError(`${ref} is not a manifest or index: ${(err as Error).message}`);
    }
    return { mediaType, digest: ref, size: bytes.length };
  }

  /** Tagged entries, sorted by ref name. */
  async list(): Promise<TaggedDescriptor[]> {
    const index = await this.readIndex();
    return index.manifests
      .flatMap((descriptor) => {
        const ref = refOf(descriptor);
        return ref === undefined ? [] : [{ ref, descriptor }];
      })
      .sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
  }

  async readIndex(): Promise<ImageIndex> {
    let bytes: Buffer;
    try {
      bytes = await readFile(join(this.dir, 'index.json'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ...EMPTY_INDEX, manifests: [] };
      throw err;
    }
    return parseIndex(bytes);
  }

  /**
   * Deletes blobs not reachable from index.json, plus stale temp files. Blobs modified less than
   * `minAgeMs` ago (default 15 min) are kept: a concurrent build stores its blobs before tagging them.
   */
  async gc(options: { minAgeMs?: number } = {}): Promise<{ removed: number; bytesFreed: number }> {
    const minAgeMs = options.minAgeMs ?? 15 * 60_000;
    return withFileLock(this.#lockPath, async () => {
      const live = await this.#reachable();
      const cutoff = Date.now() - minAgeMs;
      let removed = 0;
      let bytesFreed = 0;
      const sweep = async (dir: string, keep: (name: string) => boolean, cutoff: number) => {
        for (const name of await readdir(dir).catch(() => [] as string[])) {
          if (keep(name)) continue;
          const path = join(dir, name);
          const st = await lstat(path).catch(() => undefined);
          if (!st || st.mtimeMs > cutoff) continue;
          await rm(path, { recursive: true, force: true });
          removed++;
          bytesFreed += st.size;
        }
      };
      await sweep(join(this.dir, 'blobs', 'sha256'), (hex) => live.has(`sha256:${hex}`), cutoff);
      // Temp files belong to writers still running, or to crashed ones long ago.
      await sweep(this.#tmpDir, () => false, Math.min(cutoff, Date.now() - 3600_000));
      return { removed, bytesFreed };
    });
  }

  /** Bytes used by the files of the layout (apparent sizes). */
  async diskUsage(): Promise<number> {
    let total = 0;
    const walk = async (dir: string): Promise<void> => {
      for (const e of await readdir(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) await walk(p);
        else total += (await lstat(p).catch(() => ({ size: 0 }))).size;
      }
    };
    await walk(this.dir);
    return total;
  }

  get #lockPath(): string {
    return join(this.dir, 'index.json.lock');
  }

  /** Digests reachable from index.json through indexes and manifests (missing blobs are allowed). */
  async #reachable(): Promise<Set<string>> {
    const live = new Set<string>();
    const visit = async (d: Descriptor): Promise<void> => {
      if (live.has(d.digest)) return;
      live.add(d.digest);
      if (!(isManifestType(d.mediaType) || isIndexType(d.mediaType)) || !(await this.hasBlob(d.digest)))
        return;
      const parsed = parseManifestOrIndex(await this.readBlob(d.digest), d.mediaType);
      const children =
        parsed.kind === 'index'
          ? parsed.index.manifests
          : [
              parsed.manifest.config,
              ...parsed.manifest.layers,
              ...(parsed.manifest.subject ? [parsed.manifest.subject] : []),
            ];
      for (const c of children) await visit(c);
    };
    for (const d of (await this.readIndex()).manifests) await visit(d);
    return live;
  }

  /** Read-modify-write of index.json under the lock; `change` returning undefined means no change. */
  async #updateIndex(change: (index: ImageIndex) => ImageIndex | undefined): Promise<void> {
    await withFileLock(this.#lockPath, async () => {
      const path = join(this.dir, 'index.json');
      const exists = await stat(path).then(
        () => true,
        () => false,
      );
      const current = await this.readIndex();
      const next = change(current) ?? (exists ? undefined : current);
      if (next === undefined) return;
      const tmp = this.tempPath('.json');
      const fh = await open(tmp, 'w');
      try {
        await fh.writeFile(JSON.stringify(next));
        await fh.datasync();
      } finally {
        await fh.close();
      }
      await rename(tmp, path);
    });
  }

  /** If the blob exists, bumps its mtime (keeps it through a concurrent gc) and returns true. */
  async #refresh(digest: string): Promise<boolean> {
    const now = new Date();
    return utimes(this.blobPath(digest), now, now).then(
      () => true,
      () => false,
    );
  }
}

function refOf(d: Descriptor): string | undefined {
  return d.annotations?.[REF_NAME_ANNOTATION];
}

function checkExpected(what: string, expected: ExpectedBlob, actual: BlobInfo): void {
  if (expected.size !== undefined && expected.size !== actual.size) {
    throw new DigestMismatchError(`${what} size`, String(expected.size), String(actual.size));
  }
  if (expected.digest !== undefined && expected.digest !== actual.digest) {
    throw new DigestMismatchError(`${what} digest`, expected.digest, actual.digest);
  }
}
