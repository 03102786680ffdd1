// Builds pushing to Harbor: a project per tool and a robot per build, on both engines. Harbor is the fake
// in test/fakes/harbor (a fake management API in front of a real docker-registry that enforces the robots'
// scopes); the cluster is the fake kube-apiserver with the Tekton simulator; the embedded engine builds for real.
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
    for (const [method, path] of [
      ['POST', /\/api\/v2.0\/projects$/],
      ['POST', /\/api\/v2.0\/retentions$/],
      ['POST', /\/api\/v2.0\/robots$/],
    ] as const) {
      const runs = s.kube.objects('pipelineruns', 'image-build').length;
      const secrets = s.kube.objects('secrets', 'image-build').length;
      const robots = harbor.robots().length;
      const fault = harbor.fail({ method, path, status: 503 });
      const r = await cli(['build', 'start', quick().url, '-D'], e);
      fault.cancel();
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/Harbor unavailable/);
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
  beforeAll(async () => {
    api = await startApi({
      BUILDER: HARNESS_BUILDER,
      TOOLFORGE_HARBOR_URL: harbor.url,
      TOOLFORGE_HARBOR_USERNAME: harbor.admin.username,
      TOOLFORGE_HARBOR_PASSWORD: harbor.admin.password,
    });
  });
  afterAll(() => api?.close());

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
});
