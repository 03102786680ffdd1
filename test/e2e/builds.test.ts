// End to end on the embedded engine: CLI → HTTP → API → engine → image, with real git servers on
// 127.0.0.1, a real registry, and every API response checked against the reference builds API spec.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OciLayout, readImage } from '@toolforge/oci';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type TestApi } from '../helpers/api.ts';
import { cli } from '../helpers/cli.ts';
import { gitDaemon, gitHttp, makeRepo, type Repo } from '../helpers/git.ts';
import { APPS_DIR, HARNESS_BUILDER, REPO_ROOT } from '../helpers/paths.ts';
import { ReferenceSpec } from '../helpers/reference.ts';
import { freePort, runImage, waitForHttp } from '../helpers/run-image.ts';

const spec = ReferenceSpec.load();

/** A raw API call; the response is checked against the reference spec when the operation is a reference one. */
async function call(
  api: TestApi,
  token: string | undefined,
  method: string,
  url: string,
  body?: unknown,
  refPath?: string,
) {
  const res = await fetch(`${api.url}${url}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (spec && refPath && json !== undefined && res.status < 400) {
    expect(spec.check(method, refPath, res.status, json), `${method} ${url}`).toEqual([]);
  }
  return { status: res.status, json: json as Record<string, any>, text };
}

describe('builds on the embedded engine', () => {
  let api: TestApi;
  let token: string;
  let env: Record<string, string>;
  let procfile: Repo;

  beforeAll(async () => {
    api = await startApi();
    token = api.token('alpha');
    env = { TOOLFORGE_API_URL: api.url, TOOLFORGE_TOOL: 'alpha', TOOLFORGE_TOKEN: token };
    procfile = makeRepo(path.join(APPS_DIR, 'procfile-app'));
  });
  afterAll(() => api.close());

  it('`toolforge build start` builds an image, follows the log and exits 0; `show` says ok', async () => {
    const r = await cli(['build', 'start', procfile.url], env);
    expect(r.stderr).toContain('» detect');
    expect(r.stdout).toContain('Procfile process web');
    expect(r.code, r.stderr).toBe(0);
    const show = await cli(['build', 'show'], env);
    expect(show.stdout).toContain('Status: ok');
    expect(show.stdout).toMatch(
      /Destination Image: toolforge\.local\/tool-alpha\/tool-alpha:latest@sha256:[0-9a-f]{64}/,
    );
    const list = await cli(['build', 'list'], env);
    expect(list.stdout).toMatch(/alpha-buildpacks-pipelinerun-[a-z0-9]{5}\s+ok/);
  });

  it('the image is in the tool’s layout store, readable by skopeo, and runs with its web process', async () => {
    const dir = path.join(api.dataDir, 'images', 'tool-alpha');
    const inspected = JSON.parse(
      execFileSync('skopeo', ['inspect', `oci:${dir}:tool-alpha:latest`], { encoding: 'utf8' }),
    );
    expect(inspected.Labels['io.buildpacks.base.distro.version']).toBe('12');
    const layout = await OciLayout.open(dir);
    const port = await freePort();
    const run = await runImage(layout, 'tool-alpha:latest', {
      env: { PORT: '8000' },
      publish: { hostPort: port, guestPort: 8000 },
    });
    try {
      const res = await waitForHttp(`http://127.0.0.1:${port}/`);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('procfile app');
    } finally {
      run.stop();
      await run.result;
    }
  });

  it('every endpoint answers in the reference shapes', async () => {
    const list = await call(
      api,
      token,
      'GET',
      '/v1/tool/alpha/builds',
      undefined,
      '/v1/tool/{toolname}/builds',
    );
    expect(list.status).toBe(200);
    const id = list.json.builds[0].build_id as string;
    expect(
      (
        await call(
          api,
          token,
          'GET',
          `/v1/tool/alpha/builds/${id}`,
          undefined,
          '/v1/tool/{toolname}/builds/{id}',
        )
      ).status,
    ).toBe(200);
    expect(
      (
        await call(
          api,
          token,
          'GET',
          '/v1/tool/alpha/builds/latest',
          undefined,
          '/v1/tool/{toolname}/builds/latest',
        )
      ).status,
    ).toBe(200);
    expect(
      (await call(api, token, 'GET', '/v1/tool/alpha/quotas', undefined, '/v1/tool/{toolname}/quotas')).json
        .quota.categories[0],
    ).toMatchObject({
      name: 'Registry',
      items: [{ name: 'Storage' }],
    });
    const logs = await call(api, token, 'GET', `/v1/tool/alpha/builds/${id}/logs`);
    for (const line of logs.text.trim().split('\n')) {
      expect(JSON.parse(line).line).toMatch(/^\[step-[a-z]+\] \d{4}-\d\d-\d\dT[\d:.]+Z /);
    }
    expect((await call(api, undefined, 'GET', '/v1/healthz', undefined, '/v1/healthz')).json.status).toBe(
      'OK',
    );
  });

  it('builds from git daemon and git http-backend on 127.0.0.1, at a branch, a tag and a commit', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'tf-served-'));
    const repo = makeRepo(path.join(APPS_DIR, 'static-site'), { root, name: 'site.git' });
    execFileSync('git', ['tag', 'v1'], { cwd: repo.dir });
    execFileSync('git', ['branch', 'other'], { cwd: repo.dir });
    await using daemon = await gitDaemon(root);
    await using http = await gitHttp(root);
    for (const [url, ref] of [
      [daemon.url('site.git'), 'other'],
      [http.url('site.git'), 'v1'],
      [http.url('site.git'), repo.commit],
    ] as const) {
      const r = await cli(['build', 'start', url, '--ref', ref, '-i', 'site'], env);
      expect(r.code, `${url} ${ref}: ${r.stderr}`).toBe(0);
      const show = JSON.parse((await cli(['build', 'show', '--json'], env)).stdout);
      expect(show.build.resolved_ref).toBe(repo.commit);
      expect(show.build.parameters.ref).toBe(ref);
    }
  });
});

describe('bin/toolforge from a shell', () => {
  it('runs on the project’s Node.js 24 whatever node is first on PATH', () => {
    const out = execFileSync(path.join(REPO_ROOT, 'bin/toolforge'), ['--version'], {
      env: { PATH: '/usr/bin:/bin', HOME: os.tmpdir() },
      encoding: 'utf8',
    });
    expect(out.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

void HARNESS_BUILDER;
void existsSync;
void readImage;
