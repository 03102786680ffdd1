import { describe, expect, it } from 'vitest';
import { assertDigest, chainId, isDigest, sha256 } from './digest.ts';
import { OciFormatError } from './errors.ts';
import { MediaTypes } from './media-types.ts';
import { parseImageConfig, parseIndex, parseManifest, parseManifestOrIndex } from './types.ts';

const D = sha256('x');
const manifest = {
  schemaVersion: 2,
  mediaType: MediaTypes.ociManifest,
  config: { mediaType: MediaTypes.ociConfig, digest: D, size: 10 },
  layers: [{ mediaType: MediaTypes.ociLayerGzip, digest: D, size: 20 }],
};

describe('digests', () => {
  it('accepts only sha256 with 64 lowercase hex digits', () => {
    expect(isDigest(D)).toBe(true);
    expect(isDigest(D.toUpperCase())).toBe(false);
    expect(isDigest(`sha512:${'a'.repeat(64)}`)).toBe(false);
    expect(isDigest(`${D}0`)).toBe(false);
    expect(() => assertDigest('sha256:abc', 'layer digest')).toThrow(/invalid layer digest/);
  });

  it('computes chain IDs as the image spec defines them', () => {
    const [a, b] = [sha256('a'), sha256('b')];
    expect(chainId([a])).toBe(a);
    expect(chainId([a, b])).toBe(sha256(`${a} ${b}`));
  });
});

describe('parsers', () => {
  it('parses valid manifests, indexes and configs', () => {
    expect(parseManifest(JSON.stringify(manifest)).layers).toHaveLength(1);
    const index = {
      schemaVersion: 2,
      manifests: [{ ...manifest.config, mediaType: MediaTypes.ociManifest }],
    };
    expect(parseManifestOrIndex(JSON.stringify(index)).kind).toBe('index');
    expect(parseManifestOrIndex(JSON.stringify(manifest)).kind).toBe('manifest');
    const config = parseImageConfig(
      JSON.stringify({
        os: 'linux',
        architecture: 'amd64',
        rootfs: { type: 'layers', diff_ids: [D] },
        config: { Labels: null },
        extra: 1,
      }),
    );
    expect((config as unknown as { extra: number }).extra).toBe(1); // unknown fields kept
  });

  it.each([
    ['not JSON', '{', /not valid JSON/],
    ['schemaVersion', JSON.stringify({ ...manifest, schemaVersion: 1 }), /schemaVersion: must be 2/],
    [
      'bad digest',
      JSON.stringify({ ...manifest, config: { ...manifest.config, digest: 'sha256:zz' } }),
      /manifest.config.digest/,
    ],
    [
      'negative size',
      JSON.stringify({ ...manifest, layers: [{ ...manifest.layers[0], size: -1 }] }),
      /layers\[0\].size/,
    ],
    [
      'missing layers',
      JSON.stringify({ ...manifest, layers: undefined }),
      /manifest.layers: must be an array/,
    ],
    [
      'index as manifest',
      JSON.stringify({ ...manifest, mediaType: MediaTypes.ociIndex }),
      /not an image manifest/,
    ],
  ])('rejects a manifest with %s', (_, text, message) => {
    expect(() => parseManifest(text)).toThrow(OciFormatError);
    expect(() => parseManifest(text)).toThrow(message);
  });

  it('rejects content whose mediaType contradicts how it was served', () => {
    expect(() => parseManifest(JSON.stringify(manifest), MediaTypes.dockerManifest)).toThrow(/labelled/);
    expect(() => parseIndex(JSON.stringify({ schemaVersion: 2, manifests: {} }))).toThrow(/must be an array/);
    expect(() =>
      parseImageConfig('{"os":"linux","architecture":"amd64","rootfs":{"type":"layers","diff_ids":["x"]}}'),
    ).toThrow(/diff_ids\[0\]/);
    expect(() =>
      parseImageConfig('{"architecture":"amd64","rootfs":{"type":"layers","diff_ids":[]}}'),
    ).toThrow(/config.os/);
  });
});
