// Builds pushing to Harbor: a project per tool and a robot per build, on both engines. Harbor is the fake
// in test/fakes/harbor (a fake management API in front of a real docker-registry that enforces the robots'
// scopes); the cluster is the fake kube-apiserver with the Tekton simulator; the embedded engine builds for real.
import { readdir, readFile } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeHarbor, startFakeHarbor } from '../fakes/harbor.ts';
import { startApi, type TestApi } from '../helpers/api.ts';
import { cli } from '../helpers/cli.ts';
import { makeRepo } from '../helpers/git.ts';
import { HARNESS_BUILDER } from '../helpers/paths.ts';
import { startTektonStack, type TektonStack } from '../helpers/tekton.ts';

let harbor: FakeHarbor;
beforeAll(async () => {
  harbor = await startFakeHarbor({ storagePerProject: 100 * 2 ** 20 });
}, 60_000);
afterAll(() => harbor?.stop());

const quick = (kind = 'quick') => makeRepo({ 'provide.txt': '', 'require.txt': '' }, { name: `${kind}.git` });
const until = async (f: () => boolean | Promise<boolean>, ms = 15_000) => {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    if (await f()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('timed out');
};
const harborApi = (method: string, path: string, body?: unknown) =>
  fetch(`${harbor.url}/api/v2.0${path}`, {
    method,
    headers: {
      authorization: `Basic ${Buffer.from(`${harbor.admin.username}:${harbor.admin.password}`).toString('base64')}`,
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });

/** An HTTP proxy in front of the API keeping every answer's body: what any client of the API was sent. */
async function recordingProxy(target: string) {
  const bodies: Buffer[] = [];
  const server = createServer((req, res) => {
    const up = request(new URL(req.url ?? '/', target), { method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.on('data', (c: Buffer) => {
        bodies.push(c);
        res.write(c);
      });
      r.on('end', () => res.end());
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bodies: () => Buffer.concat(bodies).toString('utf8'),
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The SQLite database files (with their -wal and -shm) below a folder, as one text. */
async function databaseFiles(dir: string): Promise<string> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries.filter((e) => e.isFile() && e.name.includes('.sqlite'));
  expect(files.length).toBeGreaterThan(0);
  const texts = await Promise.all(files.map((f) => readFile(path.join(f.parentPath, f.name), 'latin1')));
  return texts.join('\n');
}

describe('the Tekton engine with Harbor', () => {
  let s: TektonStack;
  let env: Record<string, string>;
  beforeAll(async () => {
    s = await startTektonStack({}, { harbor });
    env = { TOOLFORGE_API_URL: s.api.url, TOOLFORGE_TOOL: 'alpha', TOOLFORGE_TOKEN: s.api.token('alpha') };
    await harborApi('POST', '/projects', { project_name: 'tool-alpha', metadata: { public: 'true' } });
    await s.publish('alpha', 'tool-alpha');
  }, 300_000);
  afterAll(() => s?.close());

  it('each run gets its own Secret with a robot of its tool, revoked and deleted when the run ends', async () => {
    const r = await cli(['build', 'start', quick().url, '-D', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const id = JSON.parse(r.stdout).new_build.name as string;
    const pr = s.kube.get('pipelineruns', 'image-build', id) as any;
    const secretName = pr.spec.params.find((p: any) => p.name === 'REGISTRY_SECRET').value;
    expect(secretName).toBe(`${id}-push`);
    const secret = s.kube.get('secrets', 'image-build', secretName) as any;
    expect(secret.type).toBe('kubernetes.io/dockerconfigjson');
    expect(secret.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'PipelineRun', name: id }),
    ]);
    const config = JSON.parse(
      secret.data
        ? Buffer.from(secret.data['.dockerconfigjson'], 'base64').toString()
        : secret.stringData['.dockerconfigjson'],
    );
    const [user] = Buffer.from(config.auths[harbor.host].auth, 'base64').toString().split(':');
    expect(user).toBe(`robot$tool-alpha+build-${id.slice(-5)}`);
    // Never in the run's params, annotations or the API's answers.
    const robot = harbor.robots().find((x) => x.name === user);
    expect(robot?.permissions).toEqual([
      expect.objectContaining({
        namespace: 'tool-alpha',
        access: expect.arrayContaining([expect.objectContaining({ resource: 'repository', action: 'push' })]),
      }),
    ]);
    expect(JSON.stringify(pr)).not.toContain(robot?.secret);
    expect((await cli(['build', 'show', id, '--json'], env)).stdout).not.toContain(robot?.secret);
    // The run ends: the robot and the Secret go.
    await until(
      async () =>
        JSON.parse((await cli(['build', 'show', id, '--json'], env)).stdout).build.status === 'BUILD_SUCCESS',
    );
    await until(
      () =>
        !harbor.robots().some((x) => x.name === user) && !s.kube.get('secrets', 'image-build', secretName),
    );
  });

  it('Harbor failing at start: 503 "Harbor unavailable", and no run, Secret, robot or project is left', async () => {
    const e = { ...env, TOOLFORGE_TOOL: 'newtool', TOOLFORGE_TOKEN: s.api.token('newtool') };
    // A 503 whose text echoes the password, or the request applied and its answer lost (reset).
    const echo = { status: 503, message: `you sent: ${harbor.admin.password}` };
    for (const [method, path, how] of [
      ['POST', /\/api\/v2.0\/projects$/, echo],
      ['POST', /\/api\/v2.0\/projects$/, { lose: 'reset' }],
      ['POST', /\/api\/v2.0\/retentions$/, echo],
      ['POST', /\/api\/v2.0\/robots$/, echo],
      ['POST', /\/api\/v2.0\/robots$/, { lose: 'reset' }],
    ] as const) {
      const runs = s.kube.objects('pipelineruns', 'image-build').length;
      const secrets = s.kube.objects('secrets', 'image-build').length;
      const robots = harbor.robots().length;
      const fault = harbor.fail({ method, path, ...how });
      const r = await cli(['build', 'start', quick().url, '-D'], e);
      fault.cancel();
      expect(fault.hits).toBe(1);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /Harbor unavailable \(preparing tool-newtool for a push: (HTTP 503|unreachable)\)/,
      );
      expect(r.stderr).not.toContain(harbor.admin.password);
      expect(s.kube.objects('pipelineruns', 'image-build')).toHaveLength(runs);
      expect(s.kube.objects('secrets', 'image-build')).toHaveLength(secrets);
      expect(harbor.robots()).toHaveLength(robots);
      expect(harbor.project('tool-newtool')).toBeUndefined();
    }
  });

  it('the cluster refusing the run revokes the robot it got and deletes its Secret', async () => {
    const robots = harbor.robots().length;
    s.kube.fail({ method: 'POST', path: /pipelineruns$/, status: 500, times: 1 });
    const r = await cli(['build', 'start', quick().url, '-D'], env);
    expect(r.code).toBe(1);
    expect(harbor.robots()).toHaveLength(robots);
    expect(
      s.kube.objects('secrets', 'image-build').filter((x: any) => x.metadata.name.endsWith('-push')),
    ).toEqual([]);
  });

  it('quota comes from Harbor; robots left by a crash are swept when an API starts', async () => {
    const q = JSON.parse((await cli(['build', 'quota', '--json'], env)).stdout).quota.categories[0].items[0];
    expect(q.limit).toBe('100.00Mi');
    expect(q.used).not.toBe('0B');
    // A robot whose build does not exist any more (the API died between creating it and the run).
    const created = await harborApi('POST', '/robots', {
      name: 'build-zzzzz',
      duration: 1,
      level: 'project',
      permissions: [
        { kind: 'project', namespace: 'tool-alpha', access: [{ resource: 'repository', action: 'push' }] },
      ],
    });
    expect(created.status).toBe(201);
    const other = await startApi(s.env);
    try {
      await until(() => !harbor.robots().some((x) => x.name === 'robot$tool-alpha+build-zzzzz'));
    } finally {
      await other.close();
    }
  });
});

describe('the embedded engine with Harbor', () => {
  let api: TestApi;
  let proxy: Awaited<ReturnType<typeof recordingProxy>>;
  beforeAll(async () => {
    api = await startApi(
      {
        BUILDER: HARNESS_BUILDER,
        TOOLFORGE_HARBOR_URL: harbor.url,
        TOOLFORGE_HARBOR_USERNAME: harbor.admin.username,
        TOOLFORGE_HARBOR_PASSWORD: harbor.admin.password,
      },
      { captureLogs: true },
    );
    proxy = await recordingProxy(api.url);
  });
  afterAll(async () => {
    await proxy?.close();
    await api?.close();
  });

  it('pushes a real build with a robot of its own, deleted afterwards; images and clean use Harbor', async () => {
    const env = { TOOLFORGE_API_URL: api.url, TOOLFORGE_TOOL: 'delta', TOOLFORGE_TOKEN: api.token('delta') };
    const r = await cli(['build', 'start', quick().url], env);
    expect(r.code, r.stderr).toBe(0);
    const { build } = JSON.parse((await cli(['build', 'show', '--json'], env)).stdout);
    expect(build.destination_image).toMatch(
      new RegExp(`^${harbor.host}/tool-delta/tool-delta:latest@sha256:`),
    );
    const pushers = harbor.tokenRequests.filter((t) =>
      t.scopes.some((sc) => sc.includes('tool-delta') && sc.includes('push')),
    );
    expect(pushers.map((t) => t.username)).toContain(`robot$tool-delta+build-${build.build_id.slice(-5)}`);
    expect(pushers.map((t) => t.username)).not.toContain(harbor.admin.username);
    expect(harbor.robots().filter((x) => x.name.startsWith('robot$tool-delta+'))).toEqual([]);
    const images = JSON.parse((await cli(['images', 'list', '--json'], env)).stdout).images;
    expect(images).toEqual([
      expect.objectContaining({
        canonical_name: 'tool-delta/tool-delta:latest',
        digest: build.destination_image.split('@')[1],
      }),
    ]);
    const clean = await cli(['build', 'clean', '-y'], env);
    expect(clean.code, clean.stderr).toBe(0);
    expect(JSON.parse((await cli(['images', 'list', '--json'], env)).stdout).images).toEqual([]);
  });

  it('Harbor failing when a build starts: 503 "Harbor unavailable", nothing queued, no project left', async () => {
    const env = { TOOLFORGE_API_URL: api.url, TOOLFORGE_TOOL: 'zeta', TOOLFORGE_TOKEN: api.token('zeta') };
    for (const [method, path, how] of [
      ['GET', /\/api\/v2.0\/projects\/tool-zeta$/, { status: 503, times: 2 }], // GETs are retried once
      ['POST', /\/api\/v2.0\/projects$/, { status: 503 }],
      ['POST', /\/api\/v2.0\/projects$/, { lose: 'reset' }],
      ['POST', /\/api\/v2.0\/retentions$/, { status: 500 }],
    ] as const) {
      const fault = harbor.fail({ method, path, ...how });
      const r = await cli(['build', 'start', quick().url, '-D'], env);
      fault.cancel();
      expect(fault.hits).toBeGreaterThan(0);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /Harbor unavailable \(preparing tool-zeta for a push: (HTTP 50\d|unreachable)\)/,
      );
      expect(harbor.project('tool-zeta')).toBeUndefined();
      expect(JSON.parse((await cli(['build', 'list', '--json'], env)).stdout).builds).toEqual([]);
    }
    expect(harbor.robots().filter((x) => x.name.startsWith('robot$tool-zeta+'))).toEqual([]);
  });

  it('robot secrets and the Harbor password are in no log, answer, build record or database', async () => {
    const env = {
      TOOLFORGE_API_URL: proxy.url,
      TOOLFORGE_TOOL: 'epsilon',
      TOOLFORGE_TOKEN: api.token('epsilon'),
    };
    const built = await cli(['build', 'start', quick().url], env);
    expect(built.code, built.stderr).toBe(0);
    expect(harbor.issuedSecrets.length).toBeGreaterThan(0);
    const secrets = [harbor.admin.password, ...harbor.issuedSecrets];
    // Harbor failing with a text that echoes them all: at the push (the build fails) and for the quota (503).
    const echo = `you sent: ${secrets.join(' ')}`;
    const robotFault = harbor.fail({
      method: 'POST',
      path: /\/api\/v2.0\/robots$/,
      status: 503,
      message: echo,
    });
    const failed = await cli(['build', 'start', quick().url], env);
    robotFault.cancel();
    const quotaFault = harbor.fail({
      method: 'GET',
      path: /\/quotas$/,
      status: 503,
      message: echo,
      times: 2,
    });
    const quota = await cli(['build', 'quota', '--json'], env);
    quotaFault.cancel();
    expect([robotFault.hits, quotaFault.hits]).toEqual([1, 2]);
    expect(quota.code).toBe(1);
    expect(quota.stdout + quota.stderr).toMatch(
      /Harbor unavailable \(reading the quota of tool-epsilon: HTTP 503\)/,
    );

    const outputs = [built, failed, quota];
    const { builds } = JSON.parse((await cli(['build', 'list', '--json'], env)).stdout);
    expect(builds.map((b: any) => b.status).sort()).toEqual(['BUILD_FAILURE', 'BUILD_SUCCESS']);
    for (const b of builds) {
      for (const args of [
        ['show', b.build_id, '--json'],
        ['show', b.build_id],
        ['logs', b.build_id],
      ]) {
        const r = await cli(['build', ...args], env);
        expect(r.code, r.stderr).toBe(0);
        outputs.push(r);
      }
    }
    const outputText = outputs.map((r) => r.stdout + r.stderr).join('\n');
    expect(outputText).toMatch(/Harbor unavailable \(preparing tool-epsilon for a push: HTTP 503\)/);
    const places = {
      'API logs': api.logs(),
      'API answers': proxy.bodies(),
      'CLI output': outputText,
      database: await databaseFiles(api.dataDir),
    };
    // The places hold what they should (the 503 was logged and answered), and no secret.
    expect(places['API logs']).toContain('REGISTRY_UNAVAILABLE');
    expect(places['API answers']).toContain('REGISTRY_UNAVAILABLE');
    expect(places.database).toContain('Harbor unavailable');
    for (const [where, text] of Object.entries(places)) {
      for (const secret of secrets) expect(text.includes(secret), `a secret in the ${where}`).toBe(false);
    }
  });
});
