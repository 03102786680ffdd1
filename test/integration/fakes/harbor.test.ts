// The fake Harbor: its management API, and the real registry behind it enforcing the token service's grants.
import { pullImage, pushImage, RegistryClient, RegistryError } from '@toolforge/oci';
import { describe, expect, it } from 'vitest';
import { type FakeHarbor, startFakeHarbor } from '../../fakes/harbor.ts';
import { emptyLayout, makeImage } from '../../helpers/oci-images.ts';

interface Creds {
  username: string;
  password: string;
}

const basic = (c: Creds) => `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;

/** A call to the management API (admin by default; `null` for anonymous). */
async function call(
  h: FakeHarbor,
  method: string,
  path: string,
  body?: unknown,
  opts: { creds?: Creds | null; headers?: Record<string, string> } = {},
) {
  const creds = opts.creds === undefined ? h.admin : opts.creds;
  const res = await fetch(`${h.url}/api/v2.0${path}`, {
    method,
    headers: {
      ...(creds ? { authorization: basic(creds) } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...opts.headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

const createProject = (h: FakeHarbor, name: string, extra: object = {}) =>
  call(h, 'POST', '/projects', { project_name: name, metadata: { public: 'false' }, ...extra });

async function createRobot(h: FakeHarbor, project: string, name = 'builder', actions = ['push', 'pull']) {
  const r = await call(h, 'POST', '/robots', {
    name,
    duration: -1,
    level: 'project',
    permissions: [
      {
        kind: 'project',
        namespace: project,
        access: actions.map((action) => ({ resource: 'repository', action })),
      },
    ],
  });
  expect(r.status).toBe(201);
  return r.body as { id: number; name: string; secret: string; expires_at: number };
}

const clientFor = (h: FakeHarbor, creds?: Creds) =>
  new RegistryClient({ url: h.url, ...(creds ? { credentials: creds } : {}), retry: { retries: 0 } });

const robotCreds = (r: { name: string; secret: string }) => ({ username: r.name, password: r.secret });

/** The status of a registry failure (401/403 are both "refused"). */
async function refused(p: Promise<unknown>): Promise<number | undefined> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RegistryError);
  return (err as RegistryError).status;
}

describe('fake Harbor: management API', () => {
  it('answers ping, systeminfo and users/current; refuses bad credentials', async () => {
    await using h = await startFakeHarbor();
    expect(await fetch(`${h.url}/api/v2.0/ping`).then((r) => r.text())).toBe('Pong');
    expect((await call(h, 'GET', '/systeminfo', undefined, { creds: null })).body).toMatchObject({
      external_url: h.url,
      registry_url: h.host,
    });
    expect((await call(h, 'GET', '/users/current')).body).toMatchObject({
      username: 'admin',
      sysadmin_flag: true,
    });
    const bad = await call(h, 'GET', '/users/current', undefined, {
      creds: { username: 'admin', password: 'x' },
    });
    expect(bad).toMatchObject({ status: 401, body: { errors: [{ code: 'UNAUTHORIZED' }] } });
    expect((await call(h, 'GET', '/projects', undefined, { creds: null })).status).toBe(401);
  });

  it('creates projects: 201 + Location, 409 when it exists, 400 for a bad name; get by name or id', async () => {
    await using h = await startFakeHarbor({ storagePerProject: 10_000_000 });
    const created = await createProject(h, 'tool-a');
    expect(created.status).toBe(201);
    const id = h.project('tool-a')?.project_id;
    expect(created.headers.get('location')).toBe(`/api/v2.0/projects/${id}`);
    expect(await createProject(h, 'tool-a')).toMatchObject({
      status: 409,
      body: { errors: [{ code: 'CONFLICT' }] },
    });
    for (const name of ['Tool-A', 'tool_', '-tool', 'a'.repeat(256), '']) {
      expect((await createProject(h, name)).status, name).toBe(400);
    }
    expect((await createProject(h, 'x', { metadata: { public: 'yes' } })).status).toBe(400);

    expect((await call(h, 'HEAD', '/projects?project_name=tool-a')).status).toBe(200);
    expect((await call(h, 'HEAD', '/projects?project_name=nope')).status).toBe(404);
    const byName = await call(h, 'GET', '/projects/tool-a');
    expect(byName.body).toMatchObject({
      project_id: id,
      name: 'tool-a',
      metadata: { public: 'false' },
      repo_count: 0,
    });
    expect((await call(h, 'GET', `/projects/${id}`)).body.name).toBe('tool-a');
    // A numeric name is an id unless the header says otherwise.
    expect((await createProject(h, '123')).status).toBe(201);
    expect((await call(h, 'GET', '/projects/123')).status).toBe(404);
    const asName = { headers: { 'X-Is-Resource-Name': 'true' } };
    expect((await call(h, 'GET', '/projects/123', undefined, asName)).body.name).toBe('123');

    expect((await call(h, 'PUT', '/projects/tool-a', { metadata: { public: 'true' } })).status).toBe(200);
    expect(h.project('tool-a')?.metadata.public).toBe('true');
    const summary = await call(h, 'GET', '/projects/tool-a/summary');
    expect(summary.body.quota).toEqual({ hard: { storage: 10_000_000 }, used: { storage: 0 } });
    expect((await call(h, 'DELETE', '/projects/123')).status).toBe(404); // no project with id 123
    expect((await call(h, 'DELETE', '/projects/123', undefined, asName)).status).toBe(200);
    expect((await call(h, 'GET', '/projects/123', undefined, asName)).status).toBe(404);
    expect(h.requests.find((r) => r.method === 'POST')).toMatchObject({
      path: '/api/v2.0/projects',
      status: 201,
    });
  });

  it('creates robots: the secret only once, 409 on the same name, validation; robots may not manage', async () => {
    await using h = await startFakeHarbor();
    await createProject(h, 'tool-a');
    const r = await createRobot(h, 'tool-a');
    expect(r).toMatchObject({ name: 'robot$tool-a+builder', expires_at: -1 });
    expect(r.secret).toMatch(/^[A-Za-z0-9]{32}$/);
    const pid = h.project('tool-a')?.project_id;
    const listed = await call(h, 'GET', `/robots?q=Level=project,ProjectID=${pid}`);
    expect(listed.body).toHaveLength(1);
    expect(listed.body[0]).toMatchObject({ id: r.id, name: r.name, level: 'project' });
    expect(listed.body[0].secret).toBeUndefined();
    expect((await call(h, 'GET', `/robots/${r.id}`)).body.secret).toBeUndefined();

    const again = await call(h, 'POST', '/robots', {
      name: 'builder',
      duration: 30,
      level: 'project',
      permissions: [
        { kind: 'project', namespace: 'tool-a', access: [{ resource: 'repository', action: 'pull' }] },
      ],
    });
    expect(again.status).toBe(409);
    const bad = (body: object) =>
      call(h, 'POST', '/robots', {
        name: 'x',
        duration: 30,
        level: 'project',
        permissions: [
          { kind: 'project', namespace: 'tool-a', access: [{ resource: 'repository', action: 'pull' }] },
        ],
        ...body,
      });
    expect((await bad({ name: 'a+b' })).status).toBe(400);
    expect((await bad({ duration: 0 })).status).toBe(400);
    expect((await bad({ permissions: [] })).status).toBe(400);
    expect(
      (
        await bad({
          permissions: [
            { kind: 'project', namespace: 'tool-a', access: [{ resource: 'repository', action: 'fly' }] },
          ],
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await bad({
          permissions: [
            { kind: 'project', namespace: 'nope', access: [{ resource: 'repository', action: 'pull' }] },
          ],
        })
      ).status,
    ).toBe(404);
    const month = await bad({ name: 'monthly' });
    expect(month.body.expires_at).toBeGreaterThan(Date.now() / 1000 + 29 * 86_400);

    // A robot's own credentials get 403 on management, not 401.
    const asRobot = { creds: robotCreds(r) };
    expect((await call(h, 'POST', '/projects', { project_name: 'tool-b' }, asRobot)).status).toBe(403);
    expect(
      (await call(h, 'GET', `/robots?q=Level=project,ProjectID=${pid}`, undefined, asRobot)).status,
    ).toBe(403);
    expect((await call(h, 'GET', '/quotas', undefined, asRobot)).status).toBe(403);
    expect((await call(h, 'DELETE', `/robots/${r.id}`)).status).toBe(200);
    expect((await call(h, 'GET', `/robots/${r.id}`)).status).toBe(404);
  });
});

describe('fake Harbor: the registry enforces what the token service grants', () => {
  it('robot A pushes to project A, is refused on project B; anonymous pulls public projects only', async () => {
    await using h = await startFakeHarbor();
    await createProject(h, 'tool-a');
    await createProject(h, 'tool-b');
    const robotA = await createRobot(h, 'tool-a');
    await using image = await makeImage('robot-a');
    const a = clientFor(h, robotCreds(robotA));
    expect(await pushImage(image.layout, image.ref, a, 'tool-a/app', 'v1')).toBe(image.digest);

    // The token service grants nothing on tool-b: the real registry refuses the upload.
    expect(await refused(pushImage(image.layout, image.ref, a, 'tool-b/app', 'v1'))).toBe(401);
    const onB = h.tokenRequests.filter((t) => t.scopes.some((s) => s.startsWith('repository:tool-b/app')));
    expect(onB.length).toBeGreaterThan(0);
    expect(onB.every((t) => t.granted?.every((g) => g.actions.length === 0))).toBe(true);
    expect(await clientFor(h, h.admin).headManifest('tool-b/app', 'v1')).toBeUndefined();
    expect(await refused(pushImage(image.layout, image.ref, clientFor(h, h.admin), 'nope/app', 'v1'))).toBe(
      401,
    );

    // Private: anonymous pull refused; public: allowed (but never push).
    await using target = await emptyLayout();
    const anonymous = clientFor(h);
    expect(await refused(pullImage(anonymous, 'tool-a/app', 'v1', target.layout, 'x:1'))).toBe(401);
    await call(h, 'PUT', '/projects/tool-a', { metadata: { public: 'true' } });
    expect((await pullImage(anonymous, 'tool-a/app', 'v1', target.layout, 'x:1')).digest).toBe(image.digest);
    expect(await refused(pushImage(image.layout, image.ref, anonymous, 'tool-a/app', 'v2'))).toBe(401);

    // Wrong secret, then a deleted robot: the token service answers 401.
    const wrong = clientFor(h, { username: robotA.name, password: 'nope' });
    expect(await refused(wrong.headManifest('tool-a/app', 'v1'))).toBe(401);
    expect((await call(h, 'DELETE', `/robots/${robotA.id}`)).status).toBe(200);
    expect(
      await refused(pushImage(image.layout, image.ref, clientFor(h, robotCreds(robotA)), 'tool-a/app', 'v3')),
    ).toBe(401);
  });

  it('refuses an expired robot and a pull-only robot push', async () => {
    await using h = await startFakeHarbor();
    await createProject(h, 'tool-a');
    const puller = await createRobot(h, 'tool-a', 'puller', ['pull']);
    const pusher = await createRobot(h, 'tool-a', 'pusher');
    await using image = await makeImage('perm');
    expect(
      await refused(pushImage(image.layout, image.ref, clientFor(h, robotCreds(puller)), 'tool-a/app', 'v1')),
    ).toBe(401);
    const robot = h.robots().find((r) => r.id === pusher.id);
    if (robot) robot.expires_at = Math.floor(Date.now() / 1000) - 1;
    expect(
      await refused(pushImage(image.layout, image.ref, clientFor(h, robotCreds(pusher)), 'tool-a/app', 'v1')),
    ).toBe(401);
  });
});

describe('fake Harbor: repositories and artifacts come from the registry', () => {
  it('lists real pushes (digest, size, tags), deletes tags and artifacts in the registry', async () => {
    await using h = await startFakeHarbor();
    await createProject(h, 'tool-a');
    const admin = clientFor(h, h.admin);
    await using one = await makeImage('one');
    await using two = await makeImage('two');
    await pushImage(one.layout, one.ref, admin, 'tool-a/app', 'v1');
    await pushImage(one.layout, one.ref, admin, 'tool-a/app', 'latest');
    await pushImage(two.layout, two.ref, admin, 'tool-a/app', 'v2');
    await pushImage(two.layout, two.ref, admin, 'tool-a/nested/app', 'v1');
    // Straight to the registry, past the Harbor host: still listed.
    const direct = new RegistryClient({ url: h.registry.url, credentials: h.admin, retry: { retries: 0 } });
    await pushImage(two.layout, two.ref, direct, 'tool-a/direct', 'v1');

    const repos = await call(h, 'GET', '/projects/tool-a/repositories');
    expect(repos.body.map((r: any) => [r.name, r.artifact_count])).toEqual([
      ['tool-a/app', 2],
      ['tool-a/direct', 1],
      ['tool-a/nested/app', 1],
    ]);
    expect(repos.headers.get('x-total-count')).toBe('3');

    const arts = await call(h, 'GET', '/projects/tool-a/repositories/app/artifacts?with_tag=true');
    expect(arts.headers.get('x-total-count')).toBe('2');
    const expectedSize = async (img: typeof one) =>
      (await img.layout.readBlob(img.digest)).length +
      (await Promise.all(img.blobs.map(async (b) => (await img.layout.readBlob(b)).length))).reduce(
        (x, y) => x + y,
      );
    // Newest first.
    expect(arts.body[0]).toMatchObject({
      digest: two.digest,
      size: await expectedSize(two),
      repository_name: 'tool-a/app',
    });
    expect(arts.body[1].digest).toBe(one.digest);
    expect(arts.body[1].tags.map((t: any) => t.name).sort()).toEqual(['latest', 'v1']);
    expect(arts.body[1].extra_attrs).toMatchObject({ os: 'linux', architecture: 'amd64' });
    expect(Date.parse(arts.body[0].push_time)).toBeGreaterThanOrEqual(Date.parse(arts.body[1].push_time));

    // Paging.
    const page2 = await call(h, 'GET', '/projects/tool-a/repositories/app/artifacts?page=2&page_size=1');
    expect(page2.body.map((a: any) => a.digest)).toEqual([one.digest]);

    // Nested repository names are double-encoded; singly encoded they do not route.
    expect(
      (await call(h, 'GET', '/projects/tool-a/repositories/nested%252Fapp/artifacts/v1')).body.digest,
    ).toBe(two.digest);
    expect((await call(h, 'GET', '/projects/tool-a/repositories/nested%2Fapp/artifacts/v1')).status).toBe(
      404,
    );

    // Deleting one tag keeps the artifact and its other tag, in the registry too.
    expect((await call(h, 'DELETE', '/projects/tool-a/repositories/app/artifacts/v1/tags/v1')).status).toBe(
      200,
    );
    expect(await admin.headManifest('tool-a/app', 'v1')).toBeUndefined();
    expect((await admin.headManifest('tool-a/app', 'latest'))?.digest).toBe(one.digest);
    const one1 = await call(h, 'GET', `/projects/tool-a/repositories/app/artifacts/${one.digest}`);
    expect(one1.body.tags.map((t: any) => t.name)).toEqual(['latest']);
    expect(one1.body.push_time).toBe(arts.body[1].push_time);

    // Deleting an artifact by tag removes the manifest and all its tags from the registry.
    expect((await call(h, 'DELETE', '/projects/tool-a/repositories/app/artifacts/latest')).status).toBe(200);
    expect(await admin.headManifest('tool-a/app', one.digest)).toBeUndefined();
    expect((await call(h, 'GET', `/projects/tool-a/repositories/app/artifacts/${one.digest}`)).status).toBe(
      404,
    );

    // A project with repositories cannot be deleted; deleting the repositories frees it.
    expect((await call(h, 'DELETE', '/projects/tool-a')).status).toBe(412);
    for (const repo of ['app', 'direct', 'nested%252Fapp']) {
      expect((await call(h, 'DELETE', `/projects/tool-a/repositories/${repo}`)).status).toBe(200);
    }
    expect(await admin.headManifest('tool-a/nested/app', 'v1')).toBeUndefined();
    expect((await call(h, 'GET', '/projects/tool-a/repositories')).body).toEqual([]);
    expect((await call(h, 'DELETE', '/projects/tool-a')).status).toBe(200);
  });

  it('lists an artifact left untagged by a re-push of its tag', async () => {
    await using h = await startFakeHarbor();
    await createProject(h, 'tool-a');
    const admin = clientFor(h, h.admin);
    await using one = await makeImage('old');
    await using two = await makeImage('new');
    await pushImage(one.layout, one.ref, admin, 'tool-a/app', 'latest');
    await pushImage(two.layout, two.ref, admin, 'tool-a/app', 'latest');
    const arts = (await call(h, 'GET', '/projects/tool-a/repositories/app/artifacts')).body;
    expect(arts.map((a: any) => [a.digest, a.tags?.map((t: any) => t.name) ?? null])).toEqual([
      [two.digest, ['latest']],
      [one.digest, null],
    ]);
  });
});

describe('fake Harbor: quotas and retention', () => {
  it('reports used storage from the registry and refuses pushes over the hard limit', async () => {
    await using h = await startFakeHarbor();
    await createProject(h, 'tool-a');
    const admin = clientFor(h, h.admin);
    await using one = await makeImage('q1');
    await pushImage(one.layout, one.ref, admin, 'tool-a/app', 'v1');
    await pushImage(one.layout, one.ref, admin, 'tool-a/copy', 'v1'); // same blobs: counted once
    const pid = h.project('tool-a')?.project_id;
    const quotas = await call(h, 'GET', `/quotas?reference=project&reference_id=${pid}`);
    expect(quotas.body).toHaveLength(1);
    const used = quotas.body[0].used.storage;
    const size = (await call(h, 'GET', '/projects/tool-a/repositories/app/artifacts/v1')).body.size;
    expect(used).toBe(size);
    expect(quotas.body[0].hard.storage).toBe(-1);
    expect(await h.usedStorage('tool-a')).toBe(used);

    // Room for the manifest of a re-tag, not for a new image: the manifest PUT is refused, as in Harbor.
    expect(
      (await call(h, 'PUT', `/quotas/${quotas.body[0].id}`, { hard: { storage: used + 100_000 } })).status,
    ).toBe(200);
    await using two = await makeImage('q2');
    const robot = await createRobot(h, 'tool-a');
    const status = await refused(
      pushImage(two.layout, two.ref, clientFor(h, robotCreds(robot)), 'tool-a/app', 'v2'),
    );
    expect(status).toBe(403);
    expect(await admin.headManifest('tool-a/app', 'v2')).toBeUndefined();

    // At the limit: the token service grants no push at all.
    await call(h, 'PUT', `/quotas/${quotas.body[0].id}`, { hard: { storage: used } });
    expect(
      await refused(pushImage(two.layout, two.ref, clientFor(h, robotCreds(robot)), 'tool-a/app', 'v2')),
    ).toBe(401);
    expect((await call(h, 'PUT', `/quotas/${quotas.body[0].id}`, { hard: { storage: 0 } })).status).toBe(400);
    expect((await call(h, 'GET', '/projects/tool-a/summary')).body.quota).toEqual({
      hard: { storage: used },
      used: { storage: used },
    });
  });

  it('runs a latestPushedK retention policy for real, per repository', async () => {
    await using h = await startFakeHarbor();
    await createProject(h, 'tool-a');
    const pid = h.project('tool-a')?.project_id;
    const admin = clientFor(h, h.admin);
    await using disposer = new AsyncDisposableStack();
    const images = [];
    for (const i of [1, 2, 3, 4]) {
      const img = disposer.use(await makeImage(`r${i}`, 1024));
      images.push(img);
      await pushImage(img.layout, img.ref, admin, 'tool-a/app', `v${i}`);
    }
    await pushImage(images[0]!.layout, images[0]!.ref, admin, 'tool-a/other', 'v1');
    const policy = {
      algorithm: 'or',
      rules: [
        {
          disabled: false,
          action: 'retain',
          template: 'latestPushedK',
          params: { latestPushedK: 2 },
          tag_selectors: [
            { kind: 'doublestar', decoration: 'matches', pattern: '**', extras: '{"untagged":true}' },
          ],
          scope_selectors: { repository: [{ kind: 'doublestar', decoration: 'repoMatches', pattern: '**' }] },
        },
      ],
      trigger: { kind: 'Schedule', settings: { cron: '' } },
      scope: { level: 'project', ref: pid },
    };
    const created = await call(h, 'POST', '/retentions', policy);
    expect(created.status).toBe(201);
    const id = Number(created.headers.get('location')?.split('/').pop());
    expect((await call(h, 'GET', '/projects/tool-a')).body.metadata.retention_id).toBe(String(id));
    expect((await call(h, 'POST', '/retentions', policy)).status).toBe(400);
    expect((await call(h, 'GET', `/retentions/${id}`)).body).toMatchObject({
      id,
      rules: [{ params: { latestPushedK: 2 } }],
    });

    // A dry run deletes nothing.
    expect((await call(h, 'POST', `/retentions/${id}/executions`, { dry_run: true })).status).toBe(201);
    expect((await call(h, 'GET', '/projects/tool-a/repositories/app')).body.artifact_count).toBe(4);

    expect((await call(h, 'POST', `/retentions/${id}/executions`, { dry_run: false })).status).toBe(201);
    const left = (await call(h, 'GET', '/projects/tool-a/repositories/app/artifacts')).body;
    expect(left.map((a: any) => a.tags[0].name)).toEqual(['v4', 'v3']);
    for (const i of [1, 2]) expect(await admin.headManifest('tool-a/app', `v${i}`)).toBeUndefined();
    expect((await admin.headManifest('tool-a/other', 'v1'))?.digest).toBe(images[0]!.digest);
    const execs = await call(h, 'GET', `/retentions/${id}/executions`);
    expect(execs.body.map((e: any) => [e.status, e.dry_run])).toEqual([
      ['Succeed', false],
      ['Succeed', true],
    ]);
    expect(h.retention('tool-a')?.executions[0]?.tasks.find((t) => t.repository === 'app')?.deleted).toEqual([
      images[1]!.digest,
      images[0]!.digest,
    ]);
    expect((await call(h, 'DELETE', `/retentions/${id}`)).status).toBe(200);
    expect(h.project('tool-a')?.metadata.retention_id).toBeUndefined();
  });
});

describe('fake Harbor: faults', () => {
  it('answers an injected 503 once, then recovers', async () => {
    await using h = await startFakeHarbor();
    const fault = h.fail({ path: /projects/, status: 503, times: 1 });
    const failed = await createProject(h, 'tool-a');
    expect(failed).toMatchObject({ status: 503, body: { errors: [{ code: 'UNKNOWN' }] } });
    expect(h.project('tool-a')).toBeUndefined();
    expect((await createProject(h, 'tool-a')).status).toBe(201);
    expect(fault.hits).toBe(1);
    expect(h.requests.map((r) => r.status)).toEqual([503, 201]);
  });

  it('delays requests (then serves them normally) with delayMs', async () => {
    await using h = await startFakeHarbor();
    h.fail({ method: 'GET', path: /\/ping$/, delayMs: 300 });
    const t0 = Date.now();
    expect(await fetch(`${h.url}/api/v2.0/ping`).then((r) => r.text())).toBe('Pong');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    const t1 = Date.now();
    await fetch(`${h.url}/api/v2.0/ping`).then((r) => r.text());
    expect(Date.now() - t1).toBeLessThan(250);
    // A client deadline shorter than the delay times out.
    h.fail({ path: /\/projects$/, delayMs: 500 });
    await expect(
      fetch(`${h.url}/api/v2.0/projects`, {
        headers: { authorization: basic(h.admin) },
        signal: AbortSignal.timeout(100),
      }),
    ).rejects.toThrow(/timeout|abort/i);
  });

  it('applies a request and then loses its answer with lose: hang (until the client gives up) or reset', async () => {
    await using h = await startFakeHarbor();
    const post = (name: string, signal?: AbortSignal) =>
      fetch(`${h.url}/api/v2.0/projects`, {
        method: 'POST',
        headers: { authorization: basic(h.admin), 'content-type': 'application/json' },
        body: JSON.stringify({ project_name: name }),
        ...(signal ? { signal } : {}),
      });
    h.fail({ method: 'POST', path: /\/projects$/, lose: 'hang' });
    await expect(post('tool-hang', AbortSignal.timeout(200))).rejects.toThrow(/timeout|abort/i);
    expect(h.project('tool-hang')).toBeDefined();
    h.fail({ method: 'POST', path: /\/projects$/, lose: 'reset' });
    await expect(post('tool-reset')).rejects.toThrow(/fetch failed/);
    expect(h.project('tool-reset')).toBeDefined();
    // With delayMs the answer comes, late; a refusal is applied (nothing) and lost the same way.
    h.fail({ method: 'POST', path: /\/projects$/, lose: 'hang', delayMs: 100 });
    expect((await post('tool-late')).status).toBe(201);
    h.fail({ method: 'POST', path: /\/projects$/, lose: 'reset' });
    await expect(post('tool-late')).rejects.toThrow(/fetch failed/);
    expect(h.projects().map((p) => p.name)).toEqual(['tool-hang', 'tool-reset', 'tool-late']);
  });

  it('answers an injected fault with a given message, and lists every robot secret it issued', async () => {
    await using h = await startFakeHarbor();
    h.fail({ path: /\/projects$/, status: 500, message: 'you sent: s3cret' });
    expect((await createProject(h, 'tool-a')).body).toEqual({
      errors: [{ code: 'UNKNOWN', message: 'you sent: s3cret' }],
    });
    expect((await createProject(h, 'tool-a')).status).toBe(201);
    const robot = await createRobot(h, 'tool-a');
    expect((await call(h, 'DELETE', `/robots/${robot.id}`)).status).toBe(200);
    expect(h.robots()).toEqual([]);
    expect(h.issuedSecrets).toEqual([robot.secret]);
  });
});
