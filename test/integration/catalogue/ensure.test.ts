// The embedded default's `ensureCatalogue` on a one-image catalogue: build, publish to a file, then leave
// it alone, then publish again when forced. No network: the flavour adds no packages to the run image's,
// which the shared test stack store's download cache (as in stacks/matrix.test.ts) already holds.
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { stackStorePaths } from '@toolforge/buildpacks';
import { OciLayout } from '@toolforge/oci';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ensureCatalogue } from '../../../packages/api/src/catalogue/ensure.ts';
import { parseCatalogue } from '../../../packages/api/src/catalogue/parse.ts';
import type { Catalogue } from '../../../packages/api/src/catalogue/schema.ts';
import { FileCatalogueSource } from '../../../packages/api/src/catalogue/source.ts';
import { TEST_STACK_DIR } from '../../helpers/paths.ts';

const SOURCE = `version: 1
builders: {default: {builder: toolforge/bookworm-builder:latest, runner: toolforge/bookworm-run:latest}}
kinds: {base: {}}
flavours: {tiny: {}}
images:
  tiny:
    state: stable
    variants:
      jobs-framework: {build: {kind: base, flavour: tiny}}
`;

let tmp: string;
let stackDir: string;
let catalogueFile: string;
let layout: OciLayout;
let target: FileCatalogueSource;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'tf-cat-ensure-'));
  stackDir = join(tmp, 'stack');
  // A store of its own, sharing only the download cache (safe to share across processes).
  const downloads = stackStorePaths(stackDir).downloads;
  await mkdir(dirname(downloads), { recursive: true });
  await symlink(stackStorePaths(TEST_STACK_DIR).downloads, downloads);
  layout = await OciLayout.open(join(tmp, 'layout'), { create: true });
  catalogueFile = join(tmp, 'catalogue.yaml');
  await writeFile(catalogueFile, SOURCE);
  target = new FileCatalogueSource(join(tmp, 'published', 'catalogue.yaml'));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

const ensure = (force = false) => ensureCatalogue(target, { file: catalogueFile, stackDir, layout, force });
const published = async (): Promise<Catalogue> => {
  const r = parseCatalogue((await target.read())?.text ?? '');
  if (!r.ok) throw new Error(r.problems.join('\n'));
  return r.catalogue;
};

describe('ensureCatalogue (embedded default)', () => {
  it('builds and publishes, every image resolving in the local layout; then unchanged; forced: again', async () => {
    let t = Date.now();
    const first = await ensure();
    console.log(`first ensure: ${Date.now() - t} ms`);
    expect(first).toMatchObject({ status: 'published', revision: 1, report: expect.any(String) });
    expect(JSON.parse(await readFile(first.report as string, 'utf8')).entries).toEqual([
      expect.objectContaining({ kind: 'base', flavour: 'tiny', status: 'ok' }),
    ]);

    const refs = Object.values((await published()).images).flatMap((i) => [
      ...(i.image ? [i.image] : []),
      ...Object.values(i.variants).map((v) => v.image ?? ''),
    ]);
    expect(refs).toEqual([expect.stringMatching(/^toolforge\/tiny-base:\d{8}@sha256:[0-9a-f]{64}$/)]);
    for (const ref of refs) {
      const [name = '', digest] = ref.split('@');
      expect((await layout.resolve(name))?.digest).toBe(digest);
    }
    // The legacy file beside it names the same image, without the digest.
    const legacy = parse(await readFile(join(tmp, 'published', 'images-v1.yaml'), 'utf8'));
    expect(legacy.tiny.image).toBe(refs[0]?.split('@')[0]);

    t = Date.now();
    expect(await ensure()).toEqual({ status: 'unchanged', revision: 1 });
    console.log(`unchanged ensure: ${Date.now() - t} ms`);

    t = Date.now();
    const forced = await ensure(true);
    console.log(`forced ensure: ${Date.now() - t} ms`);
    expect(forced).toMatchObject({ status: 'published', revision: 2 });
    // Same packages, same digest (the tag is the day's): forcing republishes the same image.
    const again = Object.values((await published()).images)[0]?.variants['jobs-framework']?.image;
    expect(again?.split('@')[1]).toBe(refs[0]?.split('@')[1]);
  });
});
