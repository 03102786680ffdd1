// The catalogue in the running service: builder selection, supported versions and the images API, on the
// embedded engine with a catalogue file published as an operator would (and changed while it runs).
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishCatalogue } from '../../packages/api/src/catalogue/publish.ts';
import { FileCatalogueSource } from '../../packages/api/src/catalogue/source.ts';
import {
  ImageListResponseSchema,
  SupportedVersionsResponseSchema,
} from '../../packages/api/src/contract/index.ts';
import { startApi, type TestApi } from '../helpers/api.ts';
import { cli } from '../helpers/cli.ts';
import { makeRepo } from '../helpers/git.ts';
import { BUILDER, HARNESS_BUILDER, RUNNER } from '../helpers/paths.ts';

const catalogue = (deprecatedUntil: string, extra = '') => `version: 1
builders:
  default: {builder: "${HARNESS_BUILDER}", runner: "${RUNNER}"}
  latest: {builder: "${BUILDER}", runner: "${RUNNER}"}
  deprecated: {builder: "${HARNESS_BUILDER}", runner: "${RUNNER}", valid_until: ${deprecatedUntil}}
images:
  python3.11:
    state: stable
    aliases: [tf-python311]
    resources: {memory: 512Mi}
    variants:
      jobs-framework: {image: "registry.example/python311-base:1@sha256:${'a'.repeat(64)}"}
      webservice: {image: "registry.example/python311-web:1", extra: {wstype: python}}
  php7.4:
    state: deprecated
    valid_until: 2026-01-01
    aliases: [tf-php74-DEPRECATED]
    image: registry.example/php74:1
${extra}`;

let api: TestApi;
let file: string;
let target: FileCatalogueSource;
const env = (tool: string) => ({
  TOOLFORGE_API_URL: api.url,
  TOOLFORGE_TOOL: tool,
  TOOLFORGE_TOKEN: api.token(tool),
});
beforeAll(async () => {
  file = path.join(mkdtempSync(path.join(os.tmpdir(), 'tf-cat-')), 'catalogue.yaml');
  target = new FileCatalogueSource(file);
  await publishCatalogue(target, catalogue('2099-01-01'));
  api = await startApi({ TOOLFORGE_CATALOGUE: `file:${file}` });
});
afterAll(() => api?.close());

const quick = () => makeRepo({ 'provide.txt': '', 'require.txt': '' });
const builderOf = async (e: Record<string, string>, args: string[]) => {
  const r = await cli(['build', 'start', quick().url, ...args], e);
  expect(r.code, r.stderr).toBe(0);
  const { build } = JSON.parse((await cli(['build', 'show', '--json'], e)).stdout);
  return build.builder_image ?? build.builder ?? JSON.stringify(build);
};

describe('builders come from the catalogue', () => {
  it('default, -L and --use-deprecated-versions pick the catalogue’s pairs; `build versions` shows them', async () => {
    const e = env('alpha');
    expect(await builderOf(e, [])).toContain('toolforge/harness-builder');
    const versions = await cli(['build', 'versions', '--json'], e);
    expect(versions.code, versions.stderr).toBe(0);
    const v = SupportedVersionsResponseSchema.parse(JSON.parse(versions.stdout));
    expect(v).toMatchObject({
      default: { builder: HARNESS_BUILDER },
      latest: { builder: BUILDER },
      deprecated: { valid_until: '2099-01-01', is_valid: true },
      catalogue_revision: 1,
    });
    const text = await cli(['build', 'versions'], e);
    expect(text.stdout).toMatch(/latest \(-L\)\s+toolforge\/bookworm-builder:latest/);
    expect(text.stdout).toMatch(/--use-deprecated-versions .* until 2099-01-01/);
    const deprecated = await cli(['build', 'start', quick().url, '--use-deprecated-versions'], e);
    expect(deprecated.code, deprecated.stderr).toBe(0);
    expect(deprecated.stderr).toContain('Using a deprecated version of the builder and run images');
  });

  it('a new catalogue is in force without a restart: an expired deprecated pair is refused with a 400', async () => {
    await publishCatalogue(target, catalogue('2026-01-01'));
    for (let i = 0; i < 50 && api.service.catalogue.current?.revision !== 2; i++)
      await new Promise((r) => setTimeout(r, 100));
    const r = await cli(['build', 'start', quick().url, '--use-deprecated-versions'], env('alpha'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'Deprecated version are not supported anymore (the deadline was until 2026-01-01)',
    );
    const res = await fetch(`${api.url}/v1/supported-versions`);
    expect(((await res.json()) as any).deprecated).toMatchObject({ is_valid: false });
  });

  it('an invalid catalogue is not loaded: healthz warns with its problems and the last good one stays', async () => {
    writeFileSync(file, 'version: 1\nbuilders: {default: {builder: x}}\nimages: {}\n');
    let health: any;
    for (let i = 0; i < 50; i++) {
      health = await (await fetch(`${api.url}/v1/healthz`)).json();
      if (health.messages.warning.length) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(health.status).toBe('OK');
    expect(health.messages.warning[0]).toMatch(
      /^catalogue: the catalogue in file .* is invalid and was not loaded: builders.default.runner: /,
    );
    expect(api.service.catalogue.current?.revision).toBe(2);
    await publishCatalogue(target, catalogue('2099-01-01')).catch(() => undefined);
  });
});

describe('the images API', () => {
  it('lists curated images and the tool’s own built images, never another tool’s', async () => {
    const alpha = env('alpha');
    const listed = await cli(['images', 'list', '--json'], alpha);
    expect(listed.code, listed.stderr).toBe(0);
    const { images } = ImageListResponseSchema.parse(JSON.parse(listed.stdout));
    expect(images.find((i) => i.canonical_name === 'python3.11')).toEqual({
      canonical_name: 'python3.11',
      image_type: 'standard',
      aliases: ['tf-python311'],
      ws_type: 'python',
      ref: `registry.example/python311-base:1@sha256:${'a'.repeat(64)}`,
      state: 'stable',
      digest: `sha256:${'a'.repeat(64)}`,
      variants: {
        'jobs-framework': `registry.example/python311-base:1@sha256:${'a'.repeat(64)}`,
        webservice: 'registry.example/python311-web:1',
      },
      default_resources: { memory: '512Mi' },
    });
    expect(images.find((i) => i.canonical_name === 'php7.4')).toMatchObject({
      state: 'deprecated',
      valid_until: '2026-01-01',
    });
    const built = images.find((i) => i.image_type === 'buildservice');
    expect(built).toMatchObject({
      canonical_name: 'tool-alpha/tool-alpha:latest',
      aliases: [expect.stringMatching(/^tool-alpha\/tool-alpha:latest@sha256:[0-9a-f]{64}$/)],
      ref: 'toolforge.local/tool-alpha/tool-alpha:latest',
      state: 'stable',
    });
    expect(built?.aliases[0]).toBe(`tool-alpha/tool-alpha:latest@${built?.digest}`);
    const text = await cli(['images', 'list'], alpha);
    expect(text.stdout).toMatch(/^Name\s+Type\s+State\s+Image/);
    expect(text.stdout).toMatch(
      /php7.4\s+standard\s+deprecated \(until 2026-01-01\)\s+registry.example\/php74:1/,
    );
    const beta = await cli(['images', 'list', '--json'], env('beta'));
    expect(JSON.parse(beta.stdout).images.some((i: any) => i.image_type === 'buildservice')).toBe(false);
    const other = await cli(['images', 'list', '--tool', 'alpha'], env('beta'));
    expect(other.code).toBe(1);
  });

  it('accepts `buildpack`, the legacy name of buildservice, in replies', () => {
    const parsed = ImageListResponseSchema.parse({
      images: [{ canonical_name: 'x', image_type: 'buildpack', aliases: [], ref: 'x', state: 'stable' }],
      messages: { info: [], warning: [], error: [] },
    });
    expect(parsed.images[0]?.image_type).toBe('buildservice');
  });
});
