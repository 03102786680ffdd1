import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256 } from './digest.ts';
import { DigestMismatchError } from './errors.ts';
import { readImage, unpackImage, writeImage } from './image.ts';
import { stableStringify } from './json.ts';
import { type LayerEntry, layerFromEntries } from './layer.ts';
import { OciLayout } from './layout.ts';
import { MediaTypes } from './media-types.ts';
import { tempDir } from './testing/fixtures.ts';
import type { ImageIndex } from './types.ts';

async function addLayer(layout: OciLayout, entries: LayerEntry[]) {
  const tmp = layout.tempPath();
  const r = await layerFromEntries(entries, tmp);
  await layout.putBlobFile(tmp, { move: true });
  return r;
}

const file = (name: string, data = name): LayerEntry => ({ name, type: 'file', data });

describe('writeImage / readImage', () => {
  it('writes byte-stable JSON whatever the key order of the config', async () => {
    await using dir = await tempDir();
    const layout = await OciLayout.open(dir.path);
    const l = await addLayer(layout, [file('/a')]);
    const one = await writeImage(layout, {
      config: { os: 'linux', architecture: 'amd64', config: { Labels: { b: '2', a: '1' }, Env: ['A=1'] } },
      layers: [l],
    });
    const two = await writeImage(layout, {
      config: { config: { Env: ['A=1'], Labels: { a: '1', b: '2' } }, architecture: 'amd64', os: 'linux' },
      layers: [l],
    });
    expect(two.manifest).toEqual(one.manifest);
    expect(one.manifestBytes.toString()).toBe(stableStringify(JSON.parse(one.manifestBytes.toString())));
    expect(one.manifestBytes.toString()).not.toMatch(/\s/);
    const read = await readImage(layout, one.manifest.digest);
    expect(read.config.rootfs.diff_ids).toEqual([l.diffID]);
    expect(read.manifest.layers[0]).toEqual({
      mediaType: MediaTypes.ociLayerGzip,
      digest: l.digest,
      size: l.size,
    });
  });

  it('keeps the Docker family when asked and checks diff_ids against layers', async () => {
    await using dir = await tempDir();
    const layout = await OciLayout.open(dir.path);
    const l = await addLayer(layout, [file('/a')]);
    const w = await writeImage(layout, {
      config: { os: 'linux', architecture: 'amd64' },
      layers: [l],
      format: 'docker',
    });
    const read = await readImage(layout, w.manifest.digest);
    expect(w.manifest.mediaType).toBe(MediaTypes.dockerManifest);
    expect(read.manifest.config.mediaType).toBe(MediaTypes.dockerConfig);
    expect(read.manifest.layers[0]?.mediaType).toBe(MediaTypes.dockerLayerGzip);
    await expect(
      writeImage(layout, {
        config: { os: 'linux', architecture: 'amd64', rootfs: { type: 'layers', diff_ids: [sha256('x')] } },
        layers: [l],
      }),
    ).rejects.toThrow(/do not match/);
    await expect(
      writeImage(layout, {
        config: { os: 'linux', architecture: 'amd64' },
        layers: [{ ...l, diffID: undefined }],
      }),
    ).rejects.toThrow(/diffID/);
  });

  it('resolves an index to linux/amd64', async () => {
    await using dir = await tempDir();
    const layout = await OciLayout.open(dir.path);
    const arm = await writeImage(layout, {
      config: { os: 'linux', architecture: 'arm64' },
      layers: [await addLayer(layout, [file('/arm')])],
    });
    const amd = await writeImage(layout, {
      config: { os: 'linux', architecture: 'amd64' },
      layers: [await addLayer(layout, [file('/amd')])],
    });
    const index: ImageIndex = {
      schemaVersion: 2,
      mediaType: MediaTypes.ociIndex,
      manifests: [
        { ...arm.manifest, platform: { os: 'linux', architecture: 'arm64' } },
        { ...amd.manifest, platform: { os: 'linux', architecture: 'amd64' } },
      ],
    };
    const desc = await layout.putManifest(Buffer.from(JSON.stringify(index)), MediaTypes.ociIndex);
    await layout.tag('multi', desc);
    const read = await readImage(layout, 'multi');
    expect(read.descriptor.digest).toBe(amd.manifest.digest);
    expect(read.index?.descriptor.digest).toBe(desc.digest);
    expect(
      (await readImage(layout, 'multi', { platform: { os: 'linux', architecture: 'arm64' } })).config
        .architecture,
    ).toBe('arm64');
    await expect(
      readImage(layout, 'multi', { platform: { os: 'linux', architecture: 's390x' } }),
    ).rejects.toThrow(/no manifest for linux\/s390x/);
  });
});

describe('unpackImage', () => {
  it('applies layers in order with whiteouts', async () => {
    await using dir = await tempDir();
    const layout = await OciLayout.open(join(dir.path, 'store'));
    const base = await addLayer(layout, [
      { name: '/etc', type: 'directory' },
      file('/etc/a'),
      file('/etc/b'),
      { name: '/bin', type: 'symlink', linkname: 'usr/bin' },
      { name: '/usr/bin', type: 'directory' },
      file('/usr/bin/sh', 'shell'),
    ]);
    const top = await addLayer(layout, [
      file('/etc/.wh.a', ''),
      file('/bin/tool', 'tool'),
      file('/etc/b', 'b2'),
    ]);
    await writeImage(layout, {
      config: { os: 'linux', architecture: 'amd64' },
      layers: [base, top],
      ref: 'img',
    });
    const dest = join(dir.path, 'rootfs');
    await unpackImage(layout, 'img', dest, { symlinks: 'rootfs' });
    expect(await readdir(join(dest, 'etc'))).toEqual(['b']);
    expect(await readFile(join(dest, 'etc/b'), 'utf8')).toBe('b2');
    // Written through the /bin -> usr/bin symlink, inside the root (rootfs policy).
    expect(await readFile(join(dest, 'usr/bin/tool'), 'utf8')).toBe('tool');
  });

  it('fails on a blob whose content does not match its digest', async () => {
    await using dir = await tempDir();
    const layout = await OciLayout.open(join(dir.path, 'store'));
    const l = await addLayer(layout, [file('/a')]);
    await writeImage(layout, { config: { os: 'linux', architecture: 'amd64' }, layers: [l], ref: 'img' });
    const other = await layerFromEntries([file('/b')], join(dir.path, 'other.tgz'));
    await writeFile(layout.blobPath(l.digest), await readFile(join(dir.path, 'other.tgz')));
    expect(other.digest).not.toBe(l.digest);
    await expect(unpackImage(layout, 'img', join(dir.path, 'x'))).rejects.toBeInstanceOf(DigestMismatchError);
  });
});
