// toolforge/apt (Aptfile) and lib/deb.sh: Debian packages installed into a launch layer by apt run as the
// build user, resolved against the run image's packages, usable at run time from the final image.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readImage } from '@toolforge/oci';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harnessBuild } from '../../helpers/lifecycle.ts';
import { APPS_DIR, REPO_ROOT } from '../../helpers/paths.ts';
import { freePort, runImage, waitForHttp } from '../../helpers/run-image.ts';

const BUILDER = 'toolforge/debian-langs-builder:latest';
const BUILDPACKS = path.join(REPO_ROOT, 'packages/buildpacks/buildpacks');
const LIB = path.join(REPO_ROOT, 'packages/buildpacks/lib');
const buildSeconds = (b: Awaited<ReturnType<typeof harnessBuild>>) => {
  const t = b.result?.timings.find((x) => x.phase === 'build');
  return t ? (t.endedAt.getTime() - t.startedAt.getTime()) / 1000 : Number.NaN;
};
const logText = (b: Awaited<ReturnType<typeof harnessBuild>>) => b.logs.map((l) => l.text).join('\n');

describe('aptfile-app: figlet from the Aptfile, run by a busybox httpd CGI script', () => {
  const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'tf-cache-apt-'));
  let first: Awaited<ReturnType<typeof harnessBuild>>;
  beforeAll(async () => {
    first = await harnessBuild(path.join(APPS_DIR, 'aptfile-app'), { builder: BUILDER, cacheDir });
    expect(first.failure).toBeUndefined();
  });
  afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

  it('installs the package (and only what the run image lacks) into a launch layer, recording versions', async () => {
    expect(first.result?.group.map((g) => g.id)).toEqual(['toolforge/apt', 'toolforge/procfile']);
    const text = logText(first);
    expect(text).toMatch(/\+ figlet \d/);
    expect(text).toMatch(/Installed 1 package\(s\) in \d+ s: figlet=/);
    const image = await readImage(first.layout, first.ref);
    const meta = JSON.parse(image.config.config?.Labels?.['io.buildpacks.lifecycle.metadata'] ?? '{}');
    const apt = meta.buildpacks.find((b: { key: string }) => b.key === 'toolforge/apt');
    expect(apt.layers.packages).toMatchObject({ launch: true, build: true, cache: true });
    expect(apt.layers.packages.data.requested).toEqual(['figlet']);
    expect(apt.layers.packages.data.installed).toEqual([expect.stringMatching(/^figlet=2\.2\.5/)]);
    expect(apt.layers.packages.data.distro).toBe('debian 12 (bookworm)');
    expect(apt.layers['apt-cache']).toBeUndefined(); // lists and .debs stay in the cache
  });

  it('the tool runs from the layer in the final image, answering HTTP on $PORT', async () => {
    const port = await freePort();
    const run = await runImage(first.layout, first.ref, {
      env: { PORT: '8080' },
      publish: { hostPort: port, guestPort: 8080 },
    });
    try {
      const res = await waitForHttp(`http://127.0.0.1:${port}/cgi-bin/banner`);
      expect(res.status).toBe(200);
      const body = await res.text();
      expect(body).toContain('|_   _|__   ___ | |/ _|'); // "Toolforge" in figlet's standard font
      expect(body).toContain('from /layers/toolforge_apt/packages/usr/bin/figlet');
    } finally {
      run.stop();
      await run.result;
    }
  });

  it('a second build with the same cache reuses the layer without apt, faster, to the same image', async () => {
    const second = await harnessBuild(path.join(APPS_DIR, 'aptfile-app'), { builder: BUILDER, cacheDir });
    expect(second.failure).toBeUndefined();
    const text = logText(second);
    expect(text).toContain('Restored cached layer toolforge/apt:packages');
    expect(text).toMatch(/Reusing the cached packages layer: same packages/);
    expect(text).not.toContain('Downloading');
    expect(buildSeconds(second)).toBeLessThan(buildSeconds(first));
    expect(second.result?.digest).toBe(first.result?.digest);
  });

  it('with the lists refreshed (DEB_REFRESH=1, as after a day) the layer is kept when versions are the same', async () => {
    const b = await harnessBuild(path.join(APPS_DIR, 'aptfile-app'), {
      builder: BUILDER,
      cacheDir,
      envvars: { DEB_REFRESH: '1' },
    });
    expect(b.failure).toBeUndefined();
    const text = logText(b);
    expect(text).toContain('Updating the package lists of bookworm, bookworm-updates, bookworm-security');
    expect(text).toMatch(/Reusing the cached packages layer: no newer package versions/);
    expect(b.result?.digest).toBe(first.result?.digest);
  });

  it('…and reinstalled when apt has a newer version than the layer has (a security update)', async () => {
    // Pretend the cached layer was installed from an older figlet (the cache's own metadata file).
    const file = path.join(cacheDir, 'committed/metadata.json');
    const meta = JSON.parse(readFileSync(file, 'utf8'));
    const layer = meta.buildpacks.find((b: { key: string }) => b.key === 'toolforge/apt').layers.packages;
    layer.data.installed = ['figlet=2.2.5-3'];
    writeFileSync(file, JSON.stringify(meta));
    const b = await harnessBuild(path.join(APPS_DIR, 'aptfile-app'), {
      builder: BUILDER,
      cacheDir,
      envvars: { DEB_REFRESH: '1' },
    });
    expect(b.failure).toBeUndefined();
    const text = logText(b);
    expect(text).toContain('Newer package versions: reinstalling the packages layer');
    expect(text).toMatch(/now: figlet=2\.2\.5-3\+b1/);
    expect(b.result?.digest).toBe(first.result?.digest);
  });

  it("a package that does not exist fails the build with apt's own error as the last line", async () => {
    const b = await harnessBuild(
      { Aptfile: 'figlet\nno-such-package-for-toolforge\n', Procfile: 'web: figlet hi\n' },
      { builder: BUILDER, cacheDir },
    );
    expect(b.failure).toMatchObject({
      phase: 'build',
      reason: 'BUILDPACK_FAILED',
      buildpack: 'toolforge/apt@1.0.0',
    });
    const lines = b.failure?.message.trim().split('\n') ?? [];
    expect(lines.at(-1)?.trim()).toBe('E: Unable to locate package no-such-package-for-toolforge');
    expect(b.failure?.message).not.toContain('only a simulation');
  });
});

// The build script and deb.sh run directly (no sandbox, no network): what they refuse before apt runs.
describe('refusals before apt runs', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'tf-apt-direct-'));
    // As in a builder: the shared lib/ is copied into the buildpack.
    cpSync(path.join(BUILDPACKS, 'apt'), path.join(dir, 'bp'), { recursive: true });
    cpSync(LIB, path.join(dir, 'bp/lib'), { recursive: true });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const runBuild = (aptfile: string, env: Record<string, string>) => {
    const app = mkdtempSync(path.join(dir, 'app-'));
    const layers = path.join(app, '.layers');
    mkdirSync(layers);
    writeFileSync(path.join(app, 'Aptfile'), aptfile);
    const r = spawnSync(path.join(dir, 'bp/bin/build'), [layers, '/platform', '/dev/null'], {
      cwd: app,
      encoding: 'utf8',
      env: {
        PATH: '/usr/bin:/bin',
        HOME: app,
        CNB_BUILDPACK_DIR: path.join(dir, 'bp'),
        CNB_TARGET_OS: 'linux',
        CNB_TARGET_ARCH: 'amd64',
        CNB_TARGET_DISTRO_NAME: 'debian',
        CNB_TARGET_DISTRO_VERSION: '12',
        ...env,
      },
    });
    return { status: r.status, out: `${r.stdout}${r.stderr}` };
  };

  it('another distribution is refused, naming what it found', () => {
    const r = runBuild('figlet\n', { CNB_TARGET_DISTRO_NAME: 'ubuntu', CNB_TARGET_DISTRO_VERSION: '22.04' });
    expect(r.status).toBe(1);
    expect(r.out).toContain("The run image here is 'ubuntu 22.04'");
    expect(r.out).toContain('needs a Debian run image');
  });

  it('an unknown Debian release is refused too', () => {
    const r = runBuild('figlet\n', { CNB_TARGET_DISTRO_VERSION: '10' });
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/the run image is Debian '10'/);
  });

  it.each([
    ['-o APT::Foo=1', /looks like an option/],
    ['--allow-unauthenticated', /looks like an option/],
    ['https://example.org/tool.deb', /is a URL or a \.deb file/],
    ['./local.deb', /is a URL or a \.deb file/],
    ['figlet cowsay', /one Debian package name per line/],
    ['Figlet_Tool', /is not a Debian package name/],
  ])('the Aptfile line %s is refused', (line, message) => {
    const r = runBuild(`# tools\nfiglet\n${line}\n`, {});
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/Aptfile line 3: /);
    expect(r.out).toMatch(message);
  });

  it('comments and blank lines only: nothing to install, no layer', () => {
    const r = runBuild('# nothing yet\n\n   \n', {});
    expect(r.status).toBe(0);
    expect(r.out).toContain('The Aptfile lists no package');
  });

  it('deb.sh on its own: deb_target refuses a non-Debian target and maps 12 to bookworm', () => {
    const sh = (env: Record<string, string>) =>
      spawnSync(
        'bash',
        ['-c', `. "${LIB}/deb.sh" && deb_target && echo "codename=$DEB_CODENAME $DEB_MULTIARCH"`],
        {
          encoding: 'utf8',
          env: { PATH: '/usr/bin:/bin', ...env },
        },
      );
    const bad = sh({ CNB_TARGET_DISTRO_NAME: 'alpine', CNB_TARGET_DISTRO_VERSION: '3.20' });
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain("'alpine 3.20'");
    const unset = sh({});
    expect(unset.status).toBe(1);
    expect(unset.stdout).toContain('CNB_TARGET_DISTRO_NAME=<unset>');
    const ok = sh({
      CNB_TARGET_DISTRO_NAME: 'debian',
      CNB_TARGET_DISTRO_VERSION: '12',
      CNB_TARGET_ARCH: 'amd64',
    });
    expect(ok.status).toBe(0);
    expect(ok.stdout.trim()).toBe('codename=bookworm x86_64-linux-gnu');
  });
});
