// An operator's catalogue workflow with `toolforge-admin`: check, build the kind × flavour images (real
// Debian packages, the shared download cache), publish against the build report, and the API using it.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stackStorePaths } from '@toolforge/buildpacks';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startApi } from '../helpers/api.ts';
import { cli } from '../helpers/cli.ts';
import { REPO_ROOT, TEST_STACK_DIR } from '../helpers/paths.ts';

const work = mkdtempSync(path.join(os.tmpdir(), 'tf-cat-admin-'));
const stackDir = path.join(work, 'stacks');
// A store of its own, sharing the test run's Debian downloads.
mkdirSync(path.dirname(stackStorePaths(stackDir).downloads), { recursive: true });
symlinkSync(stackStorePaths(TEST_STACK_DIR).downloads, stackStorePaths(stackDir).downloads);
const published = path.join(work, 'published', 'catalogue.yaml');

function admin(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      path.join(REPO_ROOT, 'bin/toolforge-admin'),
      args,
      {
        env: {
          PATH: process.env.PATH ?? '',
          TOOLFORGE_DATA_DIR: path.join(work, 'data'),
          TOOLFORGE_STACK_DIR: stackDir,
          TOOLFORGE_CATALOGUE: `file:${published}`,
        },
        timeout: 240_000,
      },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const source = (images: string) => `version: 1
builders:
  default: {builder: toolforge/bookworm-builder:latest, runner: toolforge/bookworm-run:latest}
kinds:
  base: {}
  web: {env: {PORT: "8000"}}
flavours:
  tiny: {packages: [jq]}
  broken: {packages: [no-such-package-tf]}
images:
  tiny:
    state: stable
    aliases: [tf-tiny]
    variants:
      jobs-framework: {build: {kind: base, flavour: tiny}}
      webservice: {build: {kind: web, flavour: tiny}, extra: {wstype: generic}}
${images}`;
const BROKEN = `  broken:
    state: beta
    variants:
      jobs-framework: {build: {kind: base, flavour: broken}}
`;

describe('toolforge-admin catalogue', () => {
  it('a matrix with a failing flavour publishes nothing; a successful one publishes once; the API serves it', async () => {
    const file = path.join(work, 'catalogue.yaml');
    writeFileSync(file, source(BROKEN));
    const check = await admin(['catalogue', 'check', file]);
    expect(check.stdout, check.stderr).toContain('OK (2 images, 2 kinds, 2 flavours)');

    // The whole matrix: the broken flavour fails (both kinds), the tiny one builds.
    const r1 = path.join(work, 'r1.json');
    const build = await admin(['catalogue', 'build', file, '--report', r1]);
    expect(build.code).toBe(1);
    expect(build.stdout).toMatch(/base\/broken\s+FAILED: .*no-such-package-tf/);
    expect(build.stdout).toMatch(/web\/tiny\s+toolforge\/tiny-web:\d{8}@sha256:[0-9a-f]{64}/);
    expect(build.stderr).toContain('2 of 4 images failed');
    const report = JSON.parse(readFileSync(r1, 'utf8'));
    expect(report.entries.map((e: any) => `${e.kind}/${e.flavour}:${e.status}`).sort()).toEqual([
      'base/broken:failed',
      'base/tiny:ok',
      'web/broken:failed',
      'web/tiny:ok',
    ]);

    // Publishing checks every referenced pair against the report before anything changes.
    const refused = await admin(['catalogue', 'publish', file, '--report', r1]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('images the catalogue needs are missing; nothing was published');
    expect(refused.stderr).toMatch(/base × broken: its build failed: .*no-such-package-tf/);
    expect(refused.stderr).not.toContain('web × broken'); // built, failed, but nothing refers to it
    expect(existsSync(path.dirname(published)) && existsSync(published)).toBe(false);

    // Without the broken image, the same report is enough: published once, as revision 1.
    writeFileSync(file, source(''));
    const ok = await admin(['catalogue', 'publish', file, '--report', r1]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(`published revision 1 to file ${published}`);
    const doc = parse(readFileSync(published, 'utf8'));
    expect(doc.revision).toBe(1);
    const tinyBase = report.entries.find((e: any) => e.kind === 'base' && e.flavour === 'tiny');
    expect(doc.images.tiny.variants['jobs-framework'].image).toBe(`${tinyBase.ref}@${tinyBase.digest}`);
    const legacy = parse(readFileSync(path.join(path.dirname(published), 'images-v1.yaml'), 'utf8'));
    expect(legacy.tiny).toMatchObject({ image: tinyBase.ref, state: 'stable', aliases: ['tf-tiny'] });
    expect((await admin(['catalogue', 'show'])).stdout).toContain('revision: 1');

    // The API reading that file lists the image at its digest.
    const api = await startApi({ TOOLFORGE_CATALOGUE: `file:${published}` });
    try {
      const r = await cli(['images', 'list', '--json'], {
        TOOLFORGE_API_URL: api.url,
        TOOLFORGE_TOOL: 'alpha',
        TOOLFORGE_TOKEN: api.token('alpha'),
      });
      expect(JSON.parse(r.stdout).images).toEqual([
        expect.objectContaining({ canonical_name: 'tiny', digest: tinyBase.digest, ws_type: 'generic' }),
      ]);
    } finally {
      await api.close();
    }
  }, 300_000);

  it('refuses bad input with the problems named', async () => {
    const bad = path.join(work, 'bad.yaml');
    writeFileSync(
      bad,
      'version: 1\nbuilders: {default: {builder: a, runner: b}}\nimages:\n  x: {state: gone, image: y}\n',
    );
    const r = await admin(['catalogue', 'check', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('images.x.state: unknown state "gone"');
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/);
    const only = await admin(['catalogue', 'build', path.join(work, 'catalogue.yaml'), '--only', 'tiny']);
    expect(only.code).toBe(1);
    expect(only.stderr).toContain('--only: "tiny" is not kind/flavour');
  });
});
