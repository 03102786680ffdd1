// Real images from the real builder: a Procfile app and a static site, built by the embedded platform,
// accepted by skopeo and umoci, run from their own config under bubblewrap (no host folder mounted),
// pushed to a real registry with token auth and pulled back with the same digest.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OciLayout, pullImage, pushImage, RegistryClient } from '@toolforge/oci';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harnessBuild } from '../../helpers/lifecycle.ts';
import { APPS_DIR, BUILDER } from '../../helpers/paths.ts';
import { startRegistry } from '../../helpers/registry.ts';
import { freePort, runImage, waitForHttp } from '../../helpers/run-image.ts';
import { startTokenServer } from '../../helpers/token-server.ts';

describe.each([
  ['procfile-app', 'procfile app'],
  ['static-site', 'static site'],
])('%s', (app, expected) => {
  let build: Awaited<ReturnType<typeof harnessBuild>>;
  beforeAll(async () => {
    build = await harnessBuild(path.join(APPS_DIR, app), { builder: BUILDER });
    expect(build.failure).toBeUndefined();
  });

  it('skopeo inspect and umoci unpack accept the image', () => {
    const out = JSON.parse(
      execFileSync('skopeo', ['inspect', `oci:${build.layout.dir}:${build.ref}`], { encoding: 'utf8' }),
    );
    expect(out.Architecture).toBe('amd64');
    expect(out.Labels['io.buildpacks.lifecycle.metadata']).toBeTruthy();
    const dest = path.join(mkdtempSync(path.join(os.tmpdir(), 'tf-umoci-')), 'bundle');
    execFileSync('umoci', ['unpack', '--rootless', '--image', `${build.layout.dir}:${build.ref}`, dest]);
    expect(existsSync(path.join(dest, 'rootfs/cnb/lifecycle/launcher'))).toBe(true);
    expect(existsSync(path.join(dest, 'rootfs/workspace'))).toBe(true);
  });

  it('runs from its own config and answers HTTP on $PORT', async () => {
    const port = await freePort();
    const run = await runImage(build.layout, build.ref, {
      env: { PORT: '8080' },
      publish: { hostPort: port, guestPort: 8080 },
    });
    try {
      const res = await waitForHttp(`http://127.0.0.1:${port}/`);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain(expected);
    } finally {
      run.stop();
      await run.result;
    }
  });
});

describe('a Procfile without processes', () => {
  it('fails the build in the procfile buildpack with a clear message', async () => {
    const b = await harnessBuild({ Procfile: '# nothing here\n\n' }, { builder: BUILDER });
    expect(b.failure).toMatchObject({
      phase: 'build',
      reason: 'BUILDPACK_FAILED',
      buildpack: 'toolforge/procfile@1.0.0',
    });
    expect(b.failure?.message).toContain('The Procfile defines no process');
  });
});

describe('pushing to a registry with token auth', () => {
  let tokens: Awaited<ReturnType<typeof startTokenServer>>;
  let registry: Awaited<ReturnType<typeof startRegistry>>;
  beforeAll(async () => {
    tokens = await startTokenServer();
    registry = await startRegistry({ auth: 'token', tokenServer: tokens });
  });
  afterAll(async () => {
    await registry.stop();
    await tokens.stop();
  });

  it('pushes, pulls back the same digest, and a second push uploads no blob bytes', async () => {
    const build = await harnessBuild(path.join(APPS_DIR, 'procfile-app'), { builder: BUILDER });
    const client = new RegistryClient({
      url: registry.url,
      credentials: { username: tokens.username, password: tokens.password },
    });
    const digest = await pushImage(build.layout, build.ref, client, 'tool-test/app', 'latest');
    expect(digest).toBe(build.result?.digest);
    const first = client.stats.blobBytesUploaded;
    expect(first).toBeGreaterThan(0);
    const again = new RegistryClient({
      url: registry.url,
      credentials: { username: tokens.username, password: tokens.password },
    });
    await pushImage(build.layout, build.ref, again, 'tool-test/app', 'latest');
    expect(again.stats.blobBytesUploaded).toBe(0);
    const pulled = await OciLayout.open(mkdtempSync(path.join(os.tmpdir(), 'tf-pull-')), { create: true });
    const d = await pullImage(client, 'tool-test/app', 'latest', pulled, 'app:latest');
    expect(d.digest).toBe(digest);
  });
});
