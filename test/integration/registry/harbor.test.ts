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

  it('a project that exists is reused (409), and a retention policy changed by hand is repaired', async () => {
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

describe('faults: Harbor 5xx or timeouts answer 503 and leave nothing half-created', () => {
  // Every management call issue() makes for a tool seen for the first time.
  const calls: [string, string, RegExp][] = [
    ['create project', 'POST', /\/api\/v2.0\/projects$/],
    ['read project', 'GET', /\/api\/v2.0\/projects\/tool-/],
    ['create retention', 'POST', /\/api\/v2.0\/retentions$/],
    ['create robot', 'POST', /\/api\/v2.0\/robots$/],
  ];
  for (const [what, method, path] of calls) {
    for (const kind of ['503', 'timeout'] as const) {
      it(`${what}: ${kind}`, async () => {
        const tool = `f${what.replace(/\W/g, '')}${kind}`.toLowerCase().slice(0, 20);
        const robotsBefore = harbor.robots().length;
        // Reads are retried once: fail them twice.
        const times = method === 'GET' ? 2 : 1;
        const fault = harbor.fail(
          kind === '503' ? { method, path, status: 503, times } : { method, path, delayMs: 1500, times },
        );
        const err = await registry.issue(tool, id(tool, 'hhhhh')).catch((e) => e);
        fault.cancel();
        expect(err).toBeInstanceOf(AppError);
        expect(err.code).toBe('REGISTRY_UNAVAILABLE');
        expect(err.message).toMatch(/^Harbor unavailable \(/);
        expect(harbor.project(`tool-${tool}`)).toBeUndefined();
        expect(harbor.robots()).toHaveLength(robotsBefore);
      });
    }
  }
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
