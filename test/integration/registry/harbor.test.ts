// The Harbor adapter against the fake Harbor (test/fakes/harbor: a fake management API and token service
// in front of a real docker-registry, which enforces the robots' scopes on every push).
import { Writable } from 'node:stream';
import { pushImage, RegistryClient } from '@toolforge/oci';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../../packages/api/src/errors.ts';
import { HarborClient } from '../../../packages/api/src/registry/harbor/client.ts';
import { HarborRegistry } from '../../../packages/api/src/registry/harbor/registry.ts';
import { type FakeHarbor, startFakeHarbor } from '../../fakes/harbor.ts';
import { makeImage, type TestImage } from '../../helpers/oci-images.ts';

let harbor: FakeHarbor;
let image: TestImage;
let logged = '';
let registry: HarborRegistry;
const MiB = 2 ** 20;

beforeAll(async () => {
  harbor = await startFakeHarbor();
  image = await makeImage('harbor');
  const sink = new Writable({
    write(chunk, _e, cb) {
      logged += String(chunk);
      cb();
    },
  });
  registry = new HarborRegistry({
    client: new HarborClient({ url: harbor.url, ...harbor.admin, timeoutMs: 1000 }),
    quotaBytes: 50 * MiB,
    retentionKeep: 3,
    log: pino({ level: 'trace' }, sink),
  });
});
afterAll(async () => {
  await harbor?.stop();
  await image?.[Symbol.asyncDispose]();
});

const client = (credentials?: { username: string; password: string }) =>
  new RegistryClient({ url: harbor.url, ...(credentials ? { credentials } : {}) });
const push = (c: RegistryClient, repo: string, tag = 'latest') =>
  pushImage(image.layout, image.ref, c, repo, tag);
const id = (tool: string, suffix: string) => `${tool}-buildpacks-pipelinerun-${suffix}`;

describe('push access per build', () => {
  it('creates the tool’s public project with its retention policy, and a robot that may push there only', async () => {
    const access = await registry.issue('alpha', id('alpha', 'aaaaa'));
    expect(access.username).toBe('robot$tool-alpha+build-aaaaa');
    const project = harbor.project('tool-alpha');
    expect(project?.metadata.public).toBe('true');
    expect((harbor.retention('tool-alpha')?.policy as any)?.rules[0]).toMatchObject({
      template: 'latestPushedK',
      params: { latestPushedK: 3 },
    });
    const robot = harbor.robots().find((r) => r.name === access.username);
    expect(robot).toMatchObject({ duration: 1, level: 'project' });
    // The real registry decides: the robot pushes to its tool's project, not to another tool's.
    await push(client(access), 'tool-alpha/web');
    await registry.issue('beta', id('beta', 'bbbbb'));
    await expect(push(client(access), 'tool-beta/web')).rejects.toThrow();
    // Anyone may pull (public, as Toolforge's projects are today).
    expect((await client().getManifest('tool-alpha/web', 'latest')).descriptor.digest).toBe(image.digest);
    // Revoked: no more pushes.
    await registry.revoke('alpha', access.id);
    await expect(push(client(access), 'tool-alpha/web', 'again')).rejects.toThrow();
  });

  it('a project that exists is reused, and a retention policy changed by hand is repaired', async () => {
    const rid = harbor.project('tool-alpha')?.metadata.retention_id;
    const policy = harbor.retention('tool-alpha')?.policy as any;
    policy.rules[0].params.latestPushedK = 99;
    const access = await registry.issue('alpha', id('alpha', 'ccccc'));
    expect(harbor.project('tool-alpha')?.metadata.retention_id).toBe(rid);
    expect((harbor.retention('tool-alpha')?.policy as any)?.rules[0].params.latestPushedK).toBe(3);
    await registry.revoke('alpha', access.id);
  });

  it('sweeping removes the robots of builds that are not running, and only those', async () => {
    const running = await registry.issue('alpha', id('alpha', 'ddddd'));
    await registry.issue('alpha', id('alpha', 'eeeee')); // its build "crashed"
    const removed = await registry.sweep(async (_tool, buildId) => buildId === id('alpha', 'ddddd'));
    expect(removed).toBeGreaterThanOrEqual(1);
    const names = harbor.robots().map((r) => r.name);
    expect(names).toContain(running.username);
    expect(names).not.toContain('robot$tool-alpha+build-eeeee');
    await registry.revoke('alpha', running.id);
  });

  it('tool names Harbor would rewrite are refused, not normalised into another project', async () => {
    await expect(registry.issue('a--b', id('a--b', 'fffff'))).rejects.toThrow(
      /cannot be a Harbor project name/,
    );
    expect(harbor.project('tool-a-b')).toBeUndefined();
  });

  it('robot secrets and the admin password never reach the logs', async () => {
    const access = await registry.issue('alpha', id('alpha', 'ggggg'));
    await registry.revoke('alpha', access.id);
    expect(logged).not.toContain(access.password);
    expect(logged).not.toContain(harbor.admin.password);
  });
});

/** A fault of each kind: an error answer, or the request applied and its answer lost (timeout, reset). */
const KINDS = ['503', 'hang', 'reset'] as const;
type Kind = (typeof KINDS)[number];
const fault = (kind: Kind, f: { method: string; path: RegExp; times?: number }) =>
  harbor.fail(kind === '503' ? { ...f, status: 503 } : { ...f, lose: kind });
/** Let `skip` matching requests through, then fault the next ones. */
const faultAfter = (skip: number, kind: Kind, f: { method: string; path: RegExp; times?: number }) => {
  const pass = skip ? harbor.fail({ method: f.method, path: f.path, delayMs: 1, times: skip }) : undefined;
  const h = fault(kind, f);
  return {
    cancel: () => {
      pass?.cancel();
      h.cancel();
    },
  };
};
const unavailable = async (p: Promise<unknown>) => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  expect((err as AppError).code).toBe('REGISTRY_UNAVAILABLE');
  expect((err as AppError).status).toBe(503);
  expect((err as AppError).message).toMatch(
    /^Harbor unavailable \(.*: (HTTP \d+|timed out|unreachable)\)\.$/,
  );
  return err as AppError;
};
const robotsOf = (tool: string) => harbor.robots().filter((r) => r.name.startsWith(`robot$tool-${tool}+`));

describe('faults: Harbor 5xx or timeouts answer 503 and leave nothing half-created', () => {
  // Every management call issue() makes for a tool seen for the first time; reads are retried once.
  const calls: [string, string, RegExp, number][] = [
    ['read project', 'GET', /\/api\/v2.0\/projects\/tool-/, 0],
    ['create project', 'POST', /\/api\/v2.0\/projects$/, 0],
    ['read the new project', 'GET', /\/api\/v2.0\/projects\/tool-/, 1],
    ['create retention', 'POST', /\/api\/v2.0\/retentions$/, 0],
    ['create robot', 'POST', /\/api\/v2.0\/robots$/, 0],
  ];
  for (const [what, method, path, skip] of calls) {
    for (const kind of KINDS) {
      it(`${what}: ${kind}`, async () => {
        const tool = `f${what.replace(/\W/g, '')}${kind}`.toLowerCase().slice(0, 24);
        const robotsBefore = harbor.robots().length;
        const f = faultAfter(skip, kind, { method, path, times: method === 'GET' ? 2 : 1 });
        await unavailable(registry.issue(tool, id(tool, 'hhhhh')));
        f.cancel();
        // Even when Harbor applied the POST and only its answer was lost: no project, no robot.
        expect(harbor.project(`tool-${tool}`)).toBeUndefined();
        expect(harbor.robots()).toHaveLength(robotsBefore);
      });
    }
  }

  it('an existing project: a robot created whose answer was lost is deleted, the project stays', async () => {
    const first = await registry.issue('kept', id('kept', 'aaaaa'));
    await registry.revoke('kept', first.id);
    for (const kind of ['hang', 'reset'] as const) {
      const f = fault(kind, { method: 'POST', path: /\/api\/v2.0\/robots$/ });
      await unavailable(registry.issue('kept', id('kept', `${kind}x`.padEnd(5, 'x'))));
      f.cancel();
      expect(f.hits).toBe(1);
      expect(robotsOf('kept')).toEqual([]);
      expect(harbor.project('tool-kept')).toBeDefined();
    }
  });

  it('repairing the retention policy (GET, PUT): 503, no robot, the project and its policy stay', async () => {
    const first = await registry.issue('repair', id('repair', 'aaaaa'));
    await registry.revoke('repair', first.id);
    const rid = harbor.project('tool-repair')?.metadata.retention_id;
    for (const method of ['GET', 'PUT']) {
      for (const kind of KINDS) {
        (harbor.retention('tool-repair')!.policy as any).rules[0].params.latestPushedK = 99;
        const f = fault(kind, {
          method,
          path: /\/api\/v2.0\/retentions\/\d+$/,
          times: method === 'GET' ? 2 : 1,
        });
        await unavailable(registry.issue('repair', id('repair', 'bbbbb')));
        f.cancel();
        expect(robotsOf('repair')).toEqual([]);
        expect(harbor.project('tool-repair')?.metadata.retention_id).toBe(rid);
      }
    }
    // Harbor back: the next build repairs it.
    const access = await registry.issue('repair', id('repair', 'ccccc'));
    expect((harbor.retention('tool-repair')?.policy as any)?.rules[0].params.latestPushedK).toBe(3);
    await registry.revoke('repair', access.id);
  });

  it('two first builds of one tool at once, one failing: the other keeps its project and robot', async () => {
    // The first, then the second robot creation fails (which build made the project depends on timing).
    for (const skip of [0, 1]) {
      const tool = `race${skip}`;
      const f = faultAfter(skip, '503', { method: 'POST', path: /\/api\/v2.0\/robots$/ });
      const results = await Promise.allSettled([
        registry.issue(tool, id(tool, 'aaaaa')),
        registry.issue(tool, id(tool, 'bbbbb')),
      ]);
      f.cancel();
      const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason.code] : []));
      const issued = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      expect(failed).toEqual(['REGISTRY_UNAVAILABLE']);
      expect(robotsOf(tool).map((r) => r.name)).toEqual(issued.map((a) => a.username));
      await push(client(issued[0]), `tool-${tool}/web`);
      await registry.revoke(tool, issued[0]!.id);
    }
  });

  it('a 503 names the operation and the HTTP status, never Harbor’s text (it may echo secrets)', async () => {
    const secrets = [harbor.admin.password, ...harbor.issuedSecrets];
    expect(secrets.length).toBeGreaterThan(1);
    const echo = `you sent: ${secrets.join(' ')}`;
    const f = harbor.fail({ method: 'POST', path: /\/api\/v2.0\/projects$/, status: 503, message: echo });
    const err = await unavailable(registry.issue('echoed', id('echoed', 'aaaaa')));
    f.cancel();
    expect(err.message).toBe('Harbor unavailable (preparing tool-echoed for a push: HTTP 503).');
    // The cause is what the API logs with the 503: none of Harbor's text there either.
    for (let e: unknown = err; e; e = (e as Error).cause) {
      expect((e as Error).message).not.toContain('you sent');
    }
    for (const secret of secrets) expect(logged).not.toContain(secret);
  });

  it('revoking: 503 when Harbor fails, and revoking again (idempotent) finishes the job', async () => {
    for (const kind of KINDS) {
      const access = await registry.issue('revoke', id('revoke', 'aaaaa'));
      const f = fault(kind, { method: 'DELETE', path: /\/api\/v2.0\/robots\/\d+$/ });
      await unavailable(registry.revoke('revoke', access.id));
      f.cancel();
      // 503: the robot is still there (the engines retry, or the start-up sweep removes it); lost: gone.
      expect(robotsOf('revoke')).toHaveLength(kind === '503' ? 1 : 0);
      await registry.revoke('revoke', access.id);
      expect(robotsOf('revoke')).toEqual([]);
    }
  });

  it('quota: 503 when Harbor fails twice (a read is retried once), the answer once it is back', async () => {
    const access = await registry.issue('quota', id('quota', 'aaaaa'));
    await registry.revoke('quota', access.id);
    for (const kind of KINDS) {
      const f = fault(kind, { method: 'GET', path: /\/api\/v2.0\/quotas$/, times: 2 });
      await unavailable(registry.quota('quota'));
      f.cancel();
    }
    const once = fault('503', { method: 'GET', path: /\/api\/v2.0\/quotas$/ });
    expect(await registry.quota('quota')).toEqual({ usedBytes: 0, limitBytes: 50 * MiB });
    expect(once.hits).toBe(1);
  });
});

describe('quota, listing and clean from Harbor', () => {
  it('counts the project (cache included), lists images without the cache, cleans keeping pins and latest', async () => {
    const access = await registry.issue('gamma', id('gamma', 'iiiii'));
    const c = client(access);
    await push(c, 'tool-gamma/tool-gamma', 'latest');
    await using other = await makeImage('other');
    await pushImage(other.layout, other.ref, c, 'tool-gamma/tool-gamma-cache', 'latest');
    await using old = await makeImage('old');
    await pushImage(old.layout, old.ref, c, 'tool-gamma/web', 'latest');
    await using pinned = await makeImage('pinned');
    await pushImage(pinned.layout, pinned.ref, c, 'tool-gamma/web', 'v1');
    await registry.revoke('gamma', access.id);

    const quota = await registry.quota('gamma');
    expect(quota.limitBytes).toBe(50 * MiB);
    expect(quota.usedBytes).toBe(await harbor.usedStorage('tool-gamma'));
    expect(quota.usedBytes).toBeGreaterThan(0);
    // The embedded engine's local build cache counts too.
    const withCache = new HarborRegistry({
      client: new HarborClient({ url: harbor.url, ...harbor.admin, timeoutMs: 1000 }),
      retentionKeep: 3,
      log: pino({ level: 'silent' }),
      extraUsage: async (tool) => (tool === 'gamma' ? 1234 : 0),
    });
    expect((await withCache.quota('gamma')).usedBytes).toBe(quota.usedBytes + 1234);
    expect((await withCache.quota('nobody')).usedBytes).toBe(0);

    const listed = await registry.list('gamma');
    expect(listed.map((i) => `${i.repository}:${i.tags.join(',')}`).sort()).toEqual([
      'tool-gamma:latest',
      'web:latest',
      'web:v1',
    ]);

    const report = await registry.clean('gamma', new Set([pinned.digest]), { keepLatest: true });
    expect(report.kept.map((k) => k.reason).sort()).toEqual([
      'latest image kept',
      'latest image kept',
      'used by a running webservice or job',
    ]);
    expect(report.removed).toEqual([
      expect.objectContaining({ image: 'tool-gamma/tool-gamma-cache:latest', reason: 'build cache' }),
    ]);
    const all = await registry.clean('gamma', new Set(), { keepLatest: false });
    expect(all.removed).toHaveLength(3);
    expect(await registry.list('gamma')).toEqual([]);
  });

  it('clean: a failed DELETE is kept as "Harbor unavailable" and the rest reported; nothing removed is a 503', async () => {
    await using a = await makeImage('clean-a', 1024);
    await using b = await makeImage('clean-b', 1024);
    await using c = await makeImage('clean-c', 1024);
    const del = {
      method: 'DELETE',
      path: /\/api\/v2.0\/projects\/tool-clean\/repositories\/[^/]+\/artifacts\//,
    };
    for (const kind of ['503', 'hang'] as const) {
      const access = await registry.issue('clean', id('clean', 'aaaaa'));
      for (const [i, img] of [a, b, c].entries()) {
        await pushImage(img.layout, img.ref, client(access), 'tool-clean/web', `v${i}`);
      }
      await registry.revoke('clean', access.id);
      // The second artifact's DELETE fails: the first and third are still removed and reported.
      const f = faultAfter(1, kind, { ...del, times: 1 });
      const report = await registry.clean('clean', new Set(), { keepLatest: false });
      f.cancel();
      expect(report.removed).toHaveLength(2);
      expect(report.kept).toEqual([expect.objectContaining({ reason: 'Harbor unavailable' })]);
      const failed = report.kept[0]!.digest;
      // A 503 left it there; a lost answer means Harbor did delete it (the report says it could not tell).
      expect((await registry.list('clean')).map((i) => i.digest)).toEqual(kind === '503' ? [failed] : []);
      if (kind === '503') {
        // Every DELETE failing: nothing removed, so the clean is a 503, and nothing changed.
        const all = fault('503', { ...del, times: Number.POSITIVE_INFINITY });
        await unavailable(registry.clean('clean', new Set(), { keepLatest: false }));
        all.cancel();
        expect((await registry.list('clean')).map((i) => i.digest)).toEqual([failed]);
        expect((await registry.clean('clean', new Set(), { keepLatest: false })).removed).toHaveLength(1);
      }
    }
  });

  it('a tool without a project has no images and the configured limit', async () => {
    expect(await registry.list('nobody')).toEqual([]);
    expect(await registry.quota('nobody')).toEqual({ usedBytes: 0, limitBytes: 50 * MiB });
  });

  it('listing or quota with Harbor down is a clear 503', async () => {
    const f = harbor.fail({ path: /\/api\/v2.0\//, status: 500, times: 10 });
    await expect(registry.quota('gamma')).rejects.toThrow(/^Harbor unavailable/);
    await expect(registry.list('gamma')).rejects.toThrow(/^Harbor unavailable/);
    f.cancel();
    expect(await registry.health()).toBeUndefined();
  });
});
