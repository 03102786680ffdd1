// Public API of @toolforge/oci. Internals (tar header codecs, transport, file lock) stay unexported.

export { type PullImageOptions, type PushImageOptions, pullImage, pushImage } from './copy.ts';
export { decompress } from './decompress.ts';
export { assertDigest, chainId, Digester, digestFile, digestHex, isDigest, sha256 } from './digest.ts';
export { DigestMismatchError, OciFormatError, UnsafeArchiveError, type UnsafeReason } from './errors.ts';
export { type LockOptions, withFileLock } from './file-lock.ts';
export {
  DEFAULT_PLATFORM,
  type ImageLayer,
  type ReadImage,
  readImage,
  selectPlatform,
  unpackImage,
  type WriteImageOptions,
  type WrittenImage,
  writeImage,
} from './image.ts';
export { stableStringify } from './json.ts';
export {
  buildLayer,
  type DirectoryLayerOptions,
  type EntriesLayerOptions,
  type LayerEntry,
  type LayerOutputOptions,
  type LayerResult,
  layerFromDirectory,
  layerFromEntries,
  NORMALIZED_MTIME,
  type ParentDir,
} from './layer.ts';
export {
  type BlobInfo,
  type BlobSource,
  type ExpectedBlob,
  isValidRefName,
  OciLayout,
  REF_NAME_ANNOTATION,
  type TaggedDescriptor,
} from './layout.ts';
export {
  type ImageFormat,
  isIndexType,
  isManifestType,
  type LayerCompression,
  layerCompression,
  MANIFEST_ACCEPT,
  MediaTypes,
  mediaTypesFor,
} from './media-types.ts';
export type { RegistryCredentials } from './registry/auth.ts';
export { type BlobToPush, blobFromBuffer, blobFromFile } from './registry/blob-source.ts';
export { type ManifestResult, RegistryClient, type RegistryClientOptions } from './registry/client.ts';
export { type OciErrorEntry, RegistryError } from './registry/errors.ts';
export type { RetryOptions } from './registry/retry.ts';
export type { RegistryStats } from './registry/transport.ts';
export type { PushBlobResult } from './registry/upload.ts';
export { mapLimit } from './stream-util.ts';
export type { TarEntryType } from './tar/header.ts';
export { type ReadTarOptions, readTar, type TarEntry, type TarHeader } from './tar/reader.ts';
export {
  type TarSink,
  type TarWriteHeader,
  TarWriter,
  type TarWriterOptions,
  type WritableEntryType,
} from './tar/writer.ts';
export {
  type ContainerConfig,
  type Descriptor,
  type HistoryEntry,
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
  type ManifestOrIndex,
  type Platform,
  parseImageConfig,
  parseIndex,
  parseManifest,
  parseManifestOrIndex,
  validateDescriptor,
} from './types.ts';
export {
  type SymlinkPolicy,
  type UnpackOptions,
  UnpackSession,
  type UnpackStats,
  unpackLayer,
} from './unpack.ts';
