import { DEFAULT_PLATFORM, selectPlatform } from './image.ts';
import type { OciLayout } from './layout.ts';
import { isIndexType } from './media-types.ts';
import type { RegistryClient } from './registry/client.ts';
import type { PushBlobResult } from './registry/upload.ts';
import { mapLimit } from './stream-util.ts';
import { type Descriptor, type Platform, parseManifestOrIndex } from './types.ts';

export interface PushImageOptions {
  /** Blob uploads in flight (default 4). */
  concurrency?: number;
  /** Repository of the same registry to cross-mount blobs from (e.g. the run image's), per blob or for all. */
  mountFrom?: string | ((digest: string) => string | undefined);
}

/**
 * Pushes an image (manifest or index, with everything below it that the layout holds) from the layout to
 * `repo:tag`: blobs first, in parallel, then child manifests, then the top manifest. Returns its digest,
 * which is the same as in the layout since the exact bytes are pushed.
 */
export async function pushImage(
  layout: OciLayout,
  ref: string,
  client: RegistryClient,
  repo: string,
  tag: string,
  options: PushImageOptions = {},
): Promise<string> {
  const top = await layout.resolve(ref);
  if (!top) throw new Error(`image ${JSON.stringify(ref)} not found in ${layout.dir}`);
  const manifests: Descriptor[] = []; // children before parents
  const blobs = new Map<string, Descriptor>();
  const visit = async (d: Descriptor): Promise<void> => {
    const parsed = parseManifestOrIndex(await layout.readBlob(d.digest), d.mediaType);
    if (parsed.kind === 'index') {
      // Only children present locally (pullImage stores one platform of a multi-platform index).
      for (const m of parsed.index.manifests) if (await layout.hasBlob(m.digest)) await visit(m);
    } else {
      for (const b of [parsed.manifest.config, ...parsed.manifest.layers]) blobs.set(b.digest, b);
    }
    manifests.push(d);
  };
  await visit(top);
  const mount = options.mountFrom;
  await mapLimit([...blobs.values()], options.concurrency ?? 4, async (b): Promise<PushBlobResult> => {
    const from = typeof mount === 'function' ? mount(b.digest) : mount;
    if (!(await layout.hasBlob(b.digest))) {
      // Not stored locally (e.g. a base layer never pulled): only a mount or an existing blob can work.
      if (await client.hasBlob(repo, b.digest)) return 'exists';
      if (!from) throw new Error(`blob ${b.digest} is neither in ${layout.dir} nor in ${repo}`);
    }
    return client.pushBlob(repo, layoutBlob(layout, b), from ? { mountFrom: from } : {});
  });
  let digest = '';
  for (const m of manifests) {
    const bytes = await layout.readBlob(m.digest);
    const isTop = m === manifests.at(-1);
    digest = await client.putManifest(repo, isTop ? tag : m.digest, bytes, m.mediaType);
  }
  return digest;
}

function layoutBlob(layout: OciLayout, d: Descriptor) {
  return {
    digest: d.digest,
    size: d.size,
    open: (start: number, end: number): AsyncIterable<Uint8Array> =>
      end <= start ? (async function* () {})() : layout.openBlobRange(d.digest, start, end),
  };
}

export interface PullImageOptions {
  /** Platform to fetch from an index (default linux/amd64); the index itself is stored unchanged. */
  platform?: Platform;
  concurrency?: number;
}

/**
 * Pulls `repo` at `ref` (tag or digest) into the layout and tags it `tagAs`, storing the exact manifest
 * bytes so digests are preserved. For an index, the index and the `platform` image are stored.
 * Returns the descriptor tagged in the layout.
 */
export async function pullImage(
  client: RegistryClient,
  repo: string,
  ref: string,
  layout: OciLayout,
  tagAs: string,
  options: PullImageOptions = {},
): Promise<Descriptor> {
  const top = await client.getManifest(repo, ref);
  let image = top;
  if (isIndexType(top.descriptor.mediaType)) {
    const parsed = parseManifestOrIndex(top.bytes, top.descriptor.mediaType);
    if (parsed.kind !== 'index') throw new Error(`${repo}:${ref}: served as an index but is not one`);
    const child = selectPlatform(parsed.index, options.platform ?? DEFAULT_PLATFORM, `${repo}:${ref}`);
    image = await client.getManifest(repo, child.digest);
  }
  const parsed = parseManifestOrIndex(image.bytes, image.descriptor.mediaType);
  if (parsed.kind !== 'manifest') throw new Error(`${repo}:${ref}: nested indexes are not supported`);
  const { config, layers } = parsed.manifest;
  await mapLimit([config, ...layers], options.concurrency ?? 4, async (b) => {
    if (await layout.hasBlob(b.digest)) return;
    await withRetries(client, async () => {
      await layout.putBlob(await client.getBlob(repo, b), { digest: b.digest, size: b.size });
    });
  });
  await layout.putManifest(image.bytes, image.descriptor.mediaType);
  if (image !== top) await layout.putManifest(top.bytes, top.descriptor.mediaType);
  await layout.tag(tagAs, top.descriptor);
  return top.descriptor;
}

/** A blob download that dies midway (reset, timeout) is restarted as a whole, a few times. */
async function withRetries(client: RegistryClient, fn: () => Promise<void>): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= 3 || !client.isRetryable(err)) throw err;
      await client.backoff(attempt);
    }
  }
}
