/** Media types of OCI image-spec v1.1 and Docker image manifest v2 schema 2. */
export const MediaTypes = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  ociLayoutHeader: 'application/vnd.oci.layout.header.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

/** Accept header for manifest reads: distribution answers 404 for OCI manifests unless OCI types are listed. */
export const MANIFEST_ACCEPT = [
  MediaTypes.ociIndex,
  MediaTypes.ociManifest,
  MediaTypes.dockerManifestList,
  MediaTypes.dockerManifest,
].join(', ');

export function isManifestType(mediaType: string | undefined): boolean {
  return mediaType === MediaTypes.ociManifest || mediaType === MediaTypes.dockerManifest;
}

export function isIndexType(mediaType: string | undefined): boolean {
  return mediaType === MediaTypes.ociIndex || mediaType === MediaTypes.dockerManifestList;
}

/** Image family: manifests must not mix OCI and Docker types (imgutil keeps the base image's family). */
export type ImageFormat = 'oci' | 'docker';

export function mediaTypesFor(format: ImageFormat): { manifest: string; config: string; layerGzip: string } {
  return format === 'docker'
    ? {
        manifest: MediaTypes.dockerManifest,
        config: MediaTypes.dockerConfig,
        layerGzip: MediaTypes.dockerLayerGzip,
      }
    : { manifest: MediaTypes.ociManifest, config: MediaTypes.ociConfig, layerGzip: MediaTypes.ociLayerGzip };
}

export type LayerCompression = 'gzip' | 'zstd' | 'none';

/** Compression implied by a layer media type; undefined for types that are not layers we understand. */
export function layerCompression(mediaType: string): LayerCompression | undefined {
  switch (mediaType) {
    case MediaTypes.ociLayerGzip:
    case MediaTypes.dockerLayerGzip:
      return 'gzip';
    case MediaTypes.ociLayerZstd:
      return 'zstd';
    case MediaTypes.ociLayer:
      return 'none';
    default:
      return undefined;
  }
}
