import { spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { sha256 } from './digest.ts';
import { DigestMismatchError } from './errors.ts';
import { writeImage } from './image.ts';
import { layerFromEntries } from './layer.ts';
import { isValidRefName, OciLayout } from './layout.ts';
import { MediaTypes } from './media-types.ts';
import { run, tempDir } from './testing/fixtures.ts';

const CONFIG = { architecture: 'amd64', os: 'linux', config: { Env: ['PATH=/usr/bin:/bin'] } };

/** Builds a layer from entries straight into the layout. */
async function addLayer(layout: OciLayout, files: Record<string, string>) {
  const tmp = layout.tempPath('.layer');
  const r = await layerFromEntries(
    Object.entries(files).map(([name, data]) => ({ name, type: 'file' as const, data })),
    tmp,
  );
  await layout.putBlobFile(tmp, { move: true, digest: r.digest, size: r.size });
  return r;
}

describe('OciLayout', () => {
  it('creates a layout skopeo and umoci read, under the documented ref-name convention', async () => {
    await using dir = await tempDir();
    const layout = await OciLayout.open(join(dir.path, 'store'));
    const base = await addLayer(layout, { '/etc/os-release': 'ID=debian\n' });
    const app = await addLayer(layout, { '/workspace/server.js': 'console.log(1)\n' });
    const written = await writeImage(layout, { config: CONFIG, layers: [base, app], ref: 'tool-foo:latest' });
    const refs = ['tool-foo/img:latest', 'tool-foo_latest', 'tools/tool-foo:v1.2.3', 'a--b@c+d'];
    for (const ref of refs) await layout.tag(ref, written.manifest);

    for (const ref of ['tool-foo:latest', ...refs]) {
      const { stdout } = await run('skopeo', ['inspect', '--raw', `oci:${layout.dir}:${ref}`]);
      expect(sha256(stdout), ref).toBe(written.manifest.digest);
    }
    const { stdout } = await run('skopeo', ['inspect', `oci:${layout.dir}:tool-foo:latest`]);
    expect(JSON.parse(stdout)).toMatchObject({
      Os: 'linux',
      Architecture: 'amd64',
      Layers: [base.digest, app.digest],
    });

    const bundle = join(dir.path, 'bundle');
    await run('umoci', ['unpack', '--rootless', '--image', `${layout.dir}:tool-foo/img:latest`, bundle]);
    expect(await readFile(join(bundle, 'rootfs/etc/os-release'), 'utf8')).toBe('ID=debian\n');
    expect(await readFile(join(bundle, 'rootfs/workspace/server.js'), 'utf8')).toBe('console.log(1)\n');

    const index = JSON.parse(await readFile(join(layout.dir, 'index.json'), 'utf8'));
    expect(index.manifests).toHaveLength(5);
    expect((await layout.list()).map((t) => t.ref)).toEqual(
      ['a--b@c+d', ...refs.slice(0, 3), 'tool-foo:latest'].sort(),
    );
  });

  it('validates ref names against the image-spec grammar', () => {
    for (const ok of [
      'latest',
      'tool-foo:latest',
      'tool-foo/img:latest',
      'a.b_c--d',
      'x@sha256:abc',
      'v1+build',
    ]) {
      expect(isValidRefName(ok), ok).toBe(true);
    }
    for (const bad of ['', ':latest', 'a//b', '-x', 'a b', 'a/', 'é', 'a:', 'a..b/../c']) {
      expect(isValidRefName(bad), bad).toBe(false);
    }
  });

  it('re-tagging replaces, untag removes, resolve finds tags and digests', async () => {
    await using dir = await tempDir();
    const layout = await OciLayout.open(dir.path);
    const l = await addLayer(layout, { '/a': 'a' });
    const one = await writeImage(layout, { config: CONFIG, layers: [l], ref: 'img' });
    const two = await writeImage(layout, {
      config: { ...CONFIG, os: 'linux', author: 'x' },
      layers: [l],
      ref: 'img',
    });
    expect(two.manifest.digest).not.toBe(one.manifest.digest);
    expect((await layout.resolve('img'))?.digest).toBe(two.manifest.digest);
    expect(await layout.list()).toHaveLength(1);
    expect(await layout.resolve(one.manifest.digest)).toEqual({
      mediaType: MediaTypes.ociManifest,
      digest: one.manifest.digest,
      size: one.manifest.size,
    });
    expect(await layout.untag('img')).toBe(true);
    expect(await layout.untag('img')).toBe(false);
    expect(await layout.resolve('img')).toBeUndefined();
    await expect(layout.tag('bad ref', two.manifest)).rejects.toThrow(/invalid ref name/);
    await expect(layout.tag('x', { ...two.manifest, digest: sha256('nope') })).rejects.toThrow(/not stored/);
  });

  it('verifies blobs and skips ones already present', async () => {
    await using dir = await tempDir();
    const layout = await OciLayout.open(dir.path);
    const data = Buffer.from('hello');
    await expect(layout.putBlob(data, { digest: sha256('other') })).rejects.toBeInstanceOf(
      DigestMismatchError,
    );
    await expect(layout.putBlob(data, { size: 4 })).rejects.toBeInstanceOf(DigestMismatchError);
    expect(await layout.hasBlob(sha256(data))).toBe(false);
    const info = await layout.putBlob(
      (async function* () {
        yield data.subarray(0, 2);
        yield data.subarray(2);
      })(),
    );
    expect(info).toEqual({ digest: sha256(data), size: 5 });
    let read = false;
    const again = await layout.putBlob(
      (async function* () {
        read = true;
        yield data;
      })(),
      { digest: info.digest },
    );
    expect(again).toEqual(info);
    expect(read).toBe(false);
    expect((await layout.readBlob(info.digest)).toString()).toBe('hello');
    await writeFile(layout.blobPath(info.digest), 'corrupted');
    await expect(layout.readBlob(info.digest)).rejects.toBeInstanceOf(DigestMismatchError);
    expect(await readdir(join(dir.path, '.tmp'))).toEqual([]); // no temp files left behind
  });

  it('gc removes only unreachable blobs and reports the bytes freed', async () => {
    await using dir = await tempDir();
    const layout = await OciLayout.open(dir.path);
    const shared = await addLayer(layout, { '/shared': 'shared' });
    const onlyA = await addLayer(layout, { '/a': 'a'.repeat(1000) });
    const onlyB = await addLayer(layout, { '/b': 'b' });
    const a = await writeImage(layout, { config: CONFIG, layers: [shared, onlyA], ref: 'a' });
    const b = await writeImage(layout, {
      config: { ...CONFIG, author: 'b' },
      layers: [shared, onlyB],
      ref: 'b',
    });
    const stray = await layout.putBlob(Buffer.from('stray'));

    expect(await layout.gc()).toEqual({ removed: 0, bytesFreed: 0 }); // default grace keeps fresh blobs
    expect(await layout.gc({ minAgeMs: 0 })).toEqual({ removed: 1, bytesFreed: 5 });
    await layout.untag('a');
    const before = await layout.diskUsage();
    const freed = await layout.gc({ minAgeMs: 0 });
    const expected = [onlyA.size, a.manifest.size, a.config.size].reduce((x, y) => x + y, 0);
    expect(freed).toEqual({ removed: 3, bytesFreed: expected });
    expect(before - (await layout.diskUsage())).toBe(expected);
    for (const d of [shared.digest, onlyB.digest, b.manifest.digest, b.config.digest]) {
      expect(await layout.hasBlob(d)).toBe(true);
    }
    expect(await layout.hasBlob(onlyA.digest)).toBe(false);
    expect(await layout.hasBlob(stray.digest)).toBe(false);
    await run('skopeo', ['inspect', `oci:${layout.dir}:b`]);
  });

  it('keeps every tag when many writers tag concurrently in one process', async () => {
    await using dir = await tempDir();
    const layout = await OciLayout.open(dir.path);
    const other = await OciLayout.open(dir.path); // a second handle on the same directory
    const l = await addLayer(layout, { '/x': 'x' });
    const img = await writeImage(layout, { config: CONFIG, layers: [l] });
    await Promise.all(
      Array.from({ length: 60 }, (_, i) => (i % 2 ? layout : other).tag(`t${i}`, img.manifest)),
    );
    expect((await layout.list()).length).toBe(60);
  });

  it('keeps every tag when several processes tag concurrently', async () => {
    await using dir = await tempDir();
    const layout = await OciLayout.open(dir.path);
    const l = await addLayer(layout, { '/x': 'x' });
    const img = await writeImage(layout, { config: CONFIG, layers: [l] });
    const script = join(dir.path, 'tagger.ts');
    const layoutModule = fileURLToPath(new URL('./layout.ts', import.meta.url));
    await writeFile(
      script,
      `import { OciLayout } from ${JSON.stringify(layoutModule)};
const [dir, prefix, desc] = process.argv.slice(2);
const layout = await OciLayout.open(dir);
await Promise.all(Array.from({ length: 15 }, (_, i) => layout.tag(prefix + '-' + i, JSON.parse(desc))));
`,
    );
    const procs = ['p0', 'p1', 'p2', 'p3'].map(
      (p) =>
        new Promise<void>((resolve, reject) => {
          const child = spawn(process.execPath, [script, dir.path, p, JSON.stringify(img.manifest)], {
            stdio: ['ignore', 'ignore', 'pipe'],
          });
          let err = '';
          child.stderr.on('data', (c) => (err += c));
          child.on('exit', (code) =>
            code === 0 ? resolve() : reject(new Error(`${p} exited ${code}: ${err}`)),
          );
        }),
    );
    await Promise.all(procs);
    expect((await layout.list()).length).toBe(60);
    expect(await readdir(dir.path)).not.toContain('index.json.lock');
  });
});
