// Network: deb.debian.org, only for what the shared test stack store's download cache lacks (jq here).
// Builds a 2 × 2 catalogue matrix into a fresh OCI layout, twice, and a selection of it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildMatrix,
  IMAGE_FLAVOUR_LABEL,
  IMAGE_KIND_LABEL,
  type MatrixEntry,
  type MatrixInput,
  matrixPairs,
  matrixRecipe,
  matrixRepo,
  stackStorePaths,
} from '@toolforge/buildpacks';
import { OciLayout, readImage } from '@toolforge/oci';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGES_LABEL } from '../../../packages/buildpacks/src/stack-store/labels.ts';
import { TEST_STACK_DIR } from '../../helpers/paths.ts';
import { runImage } from '../../helpers/run-image.ts';

const INPUT: MatrixInput = {
  kinds: { base: {}, web: { env: { PORT: '8000' } } },
  flavours: {
    tiny: { packages: ['jq'], kinds: { web: { env: { TINY_WEB: '1' } } } },
    broken: { packages: ['no-such-package-tf'] },
  },
};
const TAG = '20000101';
const cacheDir = stackStorePaths(TEST_STACK_DIR).downloads;

let tmp: string;
let layout: OciLayout;
let first: MatrixEntry[];
const build = async (
  name: string,
  input: MatrixInput,
  opts: Partial<Parameters<typeof buildMatrix>[2]> = {},
) => {
  const l = await OciLayout.open(join(tmp, name, 'layout'), { create: true });
  return {
    layout: l,
    entries: await buildMatrix(l, input, { workDir: join(tmp, name, 'work'), cacheDir, tag: TAG, ...opts }),
  };
};
const entry = (entries: MatrixEntry[], flavour: string, kind: string) =>
  entries.find((e) => e.flavour === flavour && e.kind === kind);
const digest = (e: MatrixEntry | undefined) => (e?.status === 'ok' ? e.digest : undefined);
const env = async (l: OciLayout, ref: string) => (await readImage(l, ref)).config.config?.Env ?? [];

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'tf-matrix-'));
  const started = Date.now();
  ({ layout, entries: first } = await build('first', INPUT));
  console.log(`2 × 2 matrix: ${Date.now() - started} ms`, JSON.stringify(first));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

describe('catalogue matrix', () => {
  it('pairs every flavour with every kind, sorted, unless `only` says otherwise', () => {
    expect(matrixPairs(INPUT)).toEqual([
      { flavour: 'broken', kind: 'base' },
      { flavour: 'broken', kind: 'web' },
      { flavour: 'tiny', kind: 'base' },
      { flavour: 'tiny', kind: 'web' },
    ]);
    const only = {
      ...INPUT,
      flavours: { ...INPUT.flavours, tiny: { ...INPUT.flavours.tiny, only: ['web'] } },
    };
    expect(matrixPairs(only).filter((p) => p.flavour === 'tiny')).toEqual([{ flavour: 'tiny', kind: 'web' }]);
    expect(matrixRepo('web', 'python3.11')).toBe('toolforge/python3.11-web');
  });

  it('builds the good combinations and reports the broken ones, naming the missing package', () => {
    expect(first.map((e) => [e.flavour, e.kind, e.status])).toEqual([
      ['broken', 'base', 'failed'],
      ['broken', 'web', 'failed'],
      ['tiny', 'base', 'ok'],
      ['tiny', 'web', 'ok'],
    ]);
    for (const e of first.filter((e) => e.status === 'failed')) {
      expect(e.status === 'failed' && e.error).toMatch(/no-such-package-tf.*no such package/);
    }
  });

  it('stores tagged images recording their packages, kind, flavour and env', async () => {
    for (const kind of ['base', 'web']) {
      const e = entry(first, 'tiny', kind);
      if (e?.status !== 'ok') throw new Error(`tiny-${kind} failed`);
      expect(e.ref).toBe(`toolforge/tiny-${kind}:${TAG}`);
      expect((await layout.resolve(e.ref))?.digest).toBe(e.digest);
      expect((await layout.resolve(`toolforge/tiny-${kind}:latest`))?.digest).toBe(e.digest);
      const { config } = await readImage(layout, e.ref);
      const labels = config.config?.Labels ?? {};
      const packages: { name: string }[] = JSON.parse(labels[PACKAGES_LABEL] ?? '[]');
      expect(packages.map((p) => p.name)).toEqual(expect.arrayContaining(['jq', 'libjq1', 'bash', 'libc6']));
      expect(e.packages).toBe(packages.length);
      expect(labels).toMatchObject({ [IMAGE_KIND_LABEL]: kind, [IMAGE_FLAVOUR_LABEL]: 'tiny' });
      expect(labels['io.buildpacks.base.id']).toBe('org.toolforge.stacks.bookworm');
      expect(config.config?.User).toBe('1000:1000');
    }
    expect(await env(layout, `toolforge/tiny-web:${TAG}`)).toEqual([
      expect.stringMatching(/^PATH=/),
      'LANG=C.UTF-8',
      'PORT=8000',
      'TINY_WEB=1',
    ]);
    expect(await env(layout, `toolforge/tiny-base:${TAG}`)).toEqual([
      expect.stringMatching(/^PATH=/),
      'LANG=C.UTF-8',
    ]);
    expect(await layout.resolve(`toolforge/broken-base:${TAG}`)).toBeUndefined();
  });

  it('runs jq from the built image', async () => {
    const run = await runImage(layout, `toolforge/tiny-base:${TAG}`, { entrypoint: ['jq', '--version'] });
    expect((await run.result).exitCode).toBe(0);
    expect(run.output()).toMatch(/^jq-1\./);
  });

  it('gives the same digests when the same input is built again', async () => {
    const again = await build('again', INPUT);
    expect(again.entries.map(digest)).toEqual(first.map(digest));
    expect(first.map(digest).filter(Boolean)).toHaveLength(2);
  });

  it('builds only the selection, reporting an unknown selection as failed', async () => {
    const { layout: l, entries } = await build('select', INPUT, {
      select: [
        { flavour: 'tiny', kind: 'web' },
        { flavour: 'nope', kind: 'web' },
      ],
    });
    expect(entries).toEqual([
      expect.objectContaining({
        flavour: 'tiny',
        kind: 'web',
        status: 'ok',
        digest: digest(entry(first, 'tiny', 'web')),
        recipe: matrixRecipe(INPUT, { flavour: 'tiny', kind: 'web' }),
      }),
      expect.objectContaining({
        flavour: 'nope',
        kind: 'web',
        status: 'failed',
        error: "flavour 'nope' is not defined",
      }),
    ]);
    expect(await l.resolve(`toolforge/tiny-base:${TAG}`)).toBeUndefined();
  });

  it('builds a flavour only for the kinds in its `only`, rejecting bad names without building', async () => {
    const input: MatrixInput = {
      kinds: INPUT.kinds,
      flavours: { tiny: { packages: ['jq'], only: ['base', 'nokind'] }, Bad: {} },
    };
    const { entries } = await build('only', input, {
      select: [...matrixPairs(input), { flavour: 'tiny', kind: 'web' }],
    });
    expect(entries.map((e) => [e.flavour, e.kind, e.status === 'failed' ? e.error : e.status])).toEqual([
      ['Bad', 'base', expect.stringContaining("invalid flavour name 'Bad'")],
      ['Bad', 'web', expect.stringContaining("invalid flavour name 'Bad'")],
      ['tiny', 'base', 'ok'],
      ['tiny', 'nokind', "kind 'nokind' is not defined"],
      ['tiny', 'web', "flavour 'tiny' is not built for kind 'web' (only: base, nokind)"],
    ]);
  });
});
