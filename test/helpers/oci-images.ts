// Small random test images (three layers) for registry and push tests.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { layerFromEntries, OciLayout, writeImage } from '@toolforge/oci';

export interface TestImage extends AsyncDisposable {
  layout: OciLayout;
  ref: string;
  digest: string;
  /** Blob digests (config + layers). */
  blobs: string[];
  dir: string;
}

/** A 3-layer image; the big layer (~`bigSize` bytes, incompressible) exercises chunked uploads. */
export async function makeImage(seed: string, bigSize = 300 * 1024): Promise<TestImage> {
  const dir = await mkdtemp(join(tmpdir(), 'oci-image-'));
  const layout = await OciLayout.open(join(dir, 'layout'));
  const layers = [];
  const specs = [
    [{ name: '/etc/os-release', type: 'file' as const, data: `ID=test\nSEED=${seed}\n` }],
    [{ name: '/opt/big.bin', type: 'file' as const, data: randomBytes(bigSize) }],
    [{ name: '/workspace/app.txt', type: 'file' as const, data: `app ${seed}` }],
  ];
  for (const entries of specs) {
    const tmp = layout.tempPath();
    const r = await layerFromEntries(entries, tmp);
    await layout.putBlobFile(tmp, { move: true, digest: r.digest, trusted: true });
    layers.push(r);
  }
  const written = await writeImage(layout, {
    config: { os: 'linux', architecture: 'amd64', config: { Labels: { seed } } },
    layers,
    ref: 'test:latest',
  });
  return {
    layout,
    ref: 'test:latest',
    digest: written.manifest.digest,
    blobs: [written.config.digest, ...layers.map((l) => l.digest)],
    dir,
    [Symbol.asyncDispose]: () => rm(dir, { recursive: true, force: true }),
  };
}

export async function emptyLayout(): Promise<{ layout: OciLayout } & AsyncDisposable> {
  const dir = await mkdtemp(join(tmpdir(), 'oci-pull-'));
  return {
    layout: await OciLayout.open(dir),
    [Symbol.asyncDispose]: () => rm(dir, { recursive: true, force: true }),
  };
}
