import { Digester } from './digest.ts';
import { DigestMismatchError, OciFormatError } from './errors.ts';
import { stableStringify } from './json.ts';
import type { OciLayout } from './layout.ts';
import { type ImageFormat, isIndexType, layerCompression, MediaTypes, mediaTypesFor } from './media-types.ts';
import {
  type Descriptor,
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
  type Platform,
  parseImageConfig,
  parseManifestOrIndex,
} from './types.ts';
import { type UnpackOptions, UnpackSession, type UnpackStats } from './unpack.ts';

export const DEFAULT_PLATFORM: Platform = { os: 'linux', architecture: 'amd64' };

export interface ImageLayer extends Descriptor {
  /** Uncompressed digest; used to fill config.rootfs when the config has none, checked otherwise. */
  diffID?: string;
}

export interface WriteImageOptions {
  /** Image config; `rootfs` may be omitted when every layer carries its diffID. */
  config: Omit<ImageConfig, 'rootfs'> & { rootfs?: ImageConfig['rootfs'] };
  /** Layers, base first. Their blobs need not be in the layout (e.g. still only in a registry). */
  layers: readonly ImageLayer[];
  /** Media type family (default 'oci'); gzip layer types are converted to it. */
  format?: ImageFormat;
  /** Manifest annotations (OCI only). */
  annotations?: Record<string, string>;
  /** Tag the manifest in the layout under this ref name. */
  ref?: string;
}

export interface WrittenImage {
  manifest: Descriptor;
  config: Descriptor;
  manifestBytes: Buffer;
}

/** Writes config and manifest as byte-stable JSON: the same inputs always give the same image digest. */
export async function writeImage(layout: OciLayout, options: WriteImageOptions): Promise<WrittenImage> {
  const format = options.format ?? 'oci';
  const types = mediaTypesFor(format);
  const diffIDs = options.layers.map((l) => l.diffID);
  let rootfs = options.config.rootfs;
  if (rootfs === undefined) {
    if (diffIDs.some((d) => d === undefined))
      throw new TypeError('writeImage: config.rootfs or every layer diffID needed');
    rootfs = { type: 'layers', diff_ids: diffIDs as string[] };
  } else if (rootfs.diff_ids.length !== options.layers.length) {
    throw new TypeError(`writeImage: ${rootfs.diff_ids.length} diff_ids for ${options.layers.length} layers`);
  } else if (diffIDs.some((d, i) => d !== undefined && d !== rootfs?.diff_ids[i])) {
    throw new TypeError('writeImage: layer diffIDs do not match config.rootfs.diff_ids');
  }
  const configBytes = Buffer.from(stableStringify({ ...options.config, rootfs }));
  parseImageConfig(configBytes);
  const configInfo = await layout.putBlob(configBytes);
  const config: Descriptor = { mediaType: types.config, ...configInfo };
  const layers = options.layers.map((l): Descriptor => {
    const gzip = layerCompression(l.mediaType) === 'gzip';
    const d: Descriptor = { mediaType: gzip ? types.layerGzip : l.mediaType, digest: l.digest, size: l.size };
    if (l.annotations && format === 'oci') d.annotations = l.annotations;
    if (l.urls) d.urls = l.urls;
    return d;
  });
  const manifest: ImageManifest = { schemaVersion: 2, mediaType: types.manifest, config, layers };
  if (options.annotations && format === 'oci') manifest.annotations = options.annotations;
  const manifestBytes = Buffer.from(stableStringify(manifest));
  const descriptor = await layout.putManifest(manifestBytes, types.manifest);
  if (options.ref !== undefined) await layout.tag(options.ref, descriptor);
  return { manifest: descriptor, config, manifestBytes };
}

export interface ReadImage {
  /** The image manifest's descriptor (the platform entry when `ref` named an index). */
  descriptor: Descriptor;
  manifest: ImageManifest;
  config: ImageConfig;
  /** The index `ref` pointed at, if any. */
  index?: { descriptor: Descriptor; index: ImageIndex };
}

/** Reads manifest and config for a ref name or digest; an index resolves to `platform` (linux/amd64). */
export async function readImage(
  layout: OciLayout,
  ref: string,
  options: { platform?: Platform } = {},
): Promise<ReadImage> {
  let descriptor = await layout.resolve(ref);
  if (!descriptor) throw new Error(`image ${JSON.stringify(ref)} not found in ${layout.dir}`);
  let parsed = parseManifestOrIndex(await layout.readBlob(descriptor.digest), descriptor.mediaType);
  let index: ReadImage['index'];
  if (parsed.kind === 'index') {
    index = { descriptor, index: parsed.index };
    descriptor = selectPlatform(parsed.index, options.platform ?? DEFAULT_PLATFORM, ref);
    parsed = parseManifestOrIndex(await layout.readBlob(descriptor.digest), descriptor.mediaType);
    if (parsed.kind !== 'manifest') throw new OciFormatError(`${ref}: nested indexes are not supported`);
  }
  const config = parseImageConfig(await layout.readBlob(parsed.manifest.config.digest));
  if (config.rootfs.diff_ids.length !== parsed.manifest.layers.length) {
    throw new OciFormatError(
      `${ref}: config has ${config.rootfs.diff_ids.length} diff_ids for ${parsed.manifest.layers.length} layers`,
    );
  }
  return index
    ? { descriptor, manifest: parsed.manifest, config, index }
    : { descriptor, manifest: parsed.manifest, config };
}

/** The index entry for `platform` (os/architecture, and variant when given). */
export function selectPlatform(index: ImageIndex, platform: Platform, what = 'index'): Descriptor {
  const match = index.manifests.find(
    (m) =>
      !isIndexType(m.mediaType) &&
      m.platform?.os === platform.os &&
      m.platform.architecture === platform.architecture &&
      (platform.variant === undefined || m.platform.variant === platform.variant),
  );
  if (!match) throw new Error(`${what}: no manifest for ${platform.os}/${platform.architecture}`);
  return match;
}

/**
 * Extracts an image's layers in order into `dest` with whiteouts applied. Each blob is hashed while it
 * is read and must match its digest. Use symlinks: 'rootfs' for base images.
 */
export async function unpackImage(
  layout: OciLayout,
  ref: string,
  dest: string,
  options: UnpackOptions & { platform?: Platform } = {},
): Promise<UnpackStats> {
  const image = await readImage(layout, ref, options);
  const session = await UnpackSession.open(dest, options);
  for (const layer of image.manifest.layers) {
    if (layer.mediaType === MediaTypes.ociEmpty) continue;
    const hash = new Digester();
    const blob = layout.openBlob(layer.digest);
    await session.apply(
      (async function* () {
        for await (const chunk of blob) {
          hash.update(chunk as Buffer);
          yield chunk as Buffer;
        }
      })(),
      'auto', // sniffed: a mislabelled but digest-correct blob still extracts
    );
    const actual = hash.digest();
    if (actual !== layer.digest) throw new DigestMismatchError(`layer ${layer.digest}`, layer.digest, actual);
  }
  session.finish();
  return session.stats;
}
