import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { type ImageLayer, layerFromDirectory, type OciLayout } from '@toolforge/oci';
import { type BuildpackDescriptor, BuildpackDescriptorSchema, escapeId } from '../platform/descriptor.ts';
import { parseToml } from '../platform/toml.ts';

const run = promisify(execFile);

/** Shell helpers shared by our buildpacks, vendored into each one's lib/ when it is packaged. */
export const SHARED_LIB_DIR = new URL('../../lib/', import.meta.url).pathname;

export function existsDir(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

export function readDescriptor(dir: string): BuildpackDescriptor {
  const file = path.join(dir, 'buildpack.toml');
  return parseToml(readFileSync(file, 'utf8'), BuildpackDescriptorSchema, file);
}

/**
 * One buildpack as one image layer at /cnb/buildpacks/<escaped id>/<version> (CNB distribution spec),
 * with the shared lib vendored in, root-owned and normalised like every other layer.
 */
export async function buildpackLayer(
  layout: OciLayout,
  dir: string,
  stage: string,
): Promise<{ descriptor: BuildpackDescriptor; layer: ImageLayer }> {
  const descriptor = readDescriptor(dir);
  const { id, version } = descriptor.buildpack;
  const staged = path.join(stage, escapeId(id), version);
  await mkdir(path.dirname(staged), { recursive: true });
  await run('cp', ['-a', '--', dir, staged]);
  if (existsDir(SHARED_LIB_DIR)) {
    await mkdir(path.join(staged, 'lib'), { recursive: true });
    await run('cp', [
      '-a',
      '--',
      ...readdirSync(SHARED_LIB_DIR).map((f) => path.join(SHARED_LIB_DIR, f)),
      path.join(staged, 'lib'),
    ]);
  }
  const file = layout.tempPath('.layer');
  const r = await layerFromDirectory(
    {
      root: staged,
      prefix: `/cnb/buildpacks/${escapeId(id)}/${version}`,
      parents: [
        { name: '/cnb', uid: 0, gid: 0, mode: 0o755 },
        { name: '/cnb/buildpacks', uid: 0, gid: 0, mode: 0o755 },
        { name: `/cnb/buildpacks/${escapeId(id)}`, uid: 0, gid: 0, mode: 0o755 },
      ],
      uid: 0,
      gid: 0,
      // Hidden files and editor backups are not part of a buildpack.
      exclude: (rel) => rel.endsWith('~') || rel.startsWith('.'),
    },
    file,
  );
  await layout.putBlobFile(file, { move: true, trusted: true, digest: r.digest, size: r.size });
  return { descriptor, layer: { mediaType: r.mediaType, digest: r.digest, size: r.size, diffID: r.diffID } };
}
