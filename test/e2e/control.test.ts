// Queue, cancel, timeout, delete, retention and durable logs on the embedded engine. A fixture buildpack
// (test/fixtures/buildpacks/misbehave) that sleeps makes builds last as long as a test needs.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startApi, type TestApi } from '../helpers/api.ts';
import { cli } from '../helpers/cli.ts';
import { makeRepo } from '../helpers/git.ts';
import { HARNESS_BUILDER } from '../helpers/paths.ts';

const sleeper = () => makeRepo({ 'misbehave.txt': 'sleep' });
const quick = () => makeRepo({ 'provide.txt': '', 'require.txt': '' });

async function api(env: Record<string, string> = {}) {
  const a = await startApi({ BUILDER: HARNESS_BUILDER, LATEST_BUILDER: HARNESS_BUILDER, ...env });
  const token = a.token('alpha');
  return { a, env: { TOOLFORGE_API_URL: a.url, TOOLFORGE_TOOL: 'alpha', TOOLFORGE_TOKEN: token }, token };
}

async function getBuild(a: TestApi, token: string, id: string) {
  const res = await fetch(`${a.url}/v1/tool/alpha/builds/${id}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const startDetached = async (env: Record<string, string>, url: string, extra: string[] = []) => {
  const r = await cli(['build', 'start', url, '--detach', '--json', ...extra], env);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  return JSON.parse(r.stdout).new_build.name as string;
};

const sleeping = () => {
  try {
    return execFileSync('pgrep', ['-f', '^sleep 600$'], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
};

describe('queue and cancel', () => {
  it('queues beyond the per-tool limit, shows the position, and cancel stops everything and publishes nothing', async () => {
    const { a, env, token } = await api({ TOOLFORGE_MAX_BUILDS_PER_TOOL: '1' });
    try {
      const first = await startDetached(env, sleeper().url);
      await until('the first build to run its buildpack', async () => (sleeping() ? true : undefined));
      const second = await startDetached(env, quick().url);
      const queued = await getBuild(a, token, second);
      expect(queued.body.build).toMatchObject({
        status: 'BUILD_PENDING',
        queue_position: 1,
        phase: 'queued',
      });
      expect((await cli(['build', 'show', second], env)).stdout).toContain('Queue position: 1');

      const cancel = await cli(['build', 'cancel', first, '-y'], env);
      expect(cancel.code, cancel.stderr).toBe(0);
      expect((await getBuild(a, token, first)).body.build.status).toBe('BUILD_CANCELLED');
      expect(sleeping()).toBe('');
      const again = await cli(['build', 'cancel', first, '-y'], env);
      expect(again.code).toBe(1);
      expect(again.stdout + again.stderr).toContain('cannot be cancelled again');

      const done = await until('the queued build to finish', async () => {
        const b = (await getBuild(a, token, second)).body.build;
        return b.status === 'BUILD_SUCCESS' ? b : undefined;
      });
      expect(done.destination_image).toMatch(/@sha256:/);
      const finished = await cli(['build', 'cancel', second, '-y'], env);
      expect(finished.stdout + finished.stderr).toContain('already completed');
      // Only the second build published an image.
      const show = JSON.parse((await cli(['build', 'list', '--json'], env)).stdout);
      expect(show.builds.map((b: any) => b.status).sort()).toEqual(['BUILD_CANCELLED', 'BUILD_SUCCESS']);
    } finally {
      await a.close();
    }
  });

  it('a build over its time limit ends as timeout, with nothing left running', async () => {
    const { a, env, token } = await api({ TOOLFORGE_BUILD_TIMEOUT_SECONDS: '10' });
    try {
      const id = await startDetached(env, sleeper().url);
      const b = await until(
        'the timeout',
        async () => {
          const x = (await getBuild(a, token, id)).body.build;
          return x.status === 'BUILD_TIMEOUT' ? x : undefined;
        },
        40_000,
      );
      expect(b.message).toMatch(/did not finish within/);
      expect(b.failure_reason).toBe('TIMEOUT');
      expect(sleeping()).toBe('');
      expect((await cli(['build', 'show', id], env)).stdout).toContain('Status: timeout');
    } finally {
      await a.close();
    }
  }, 60_000);
});

describe('logs', () => {
  it('many followers get the same lines; replay works after the end; the follow ends with the build', async () => {
    const { a, env, token } = await api();
    try {
      const id = await startDetached(env, quick().url);
      const follow = () => cli(['build', 'logs', id, '-f'], env);
      const [x, y, z] = await Promise.all([follow(), follow(), follow()]);
      expect(x?.code).toBe(0);
      expect(x?.stdout).toContain('[step-export]');
      expect(y?.stdout).toBe(x?.stdout);
      expect(z?.stdout).toBe(x?.stdout);
      const replay = await cli(['build', 'logs', id], env);
      expect(replay.stdout).toBe(x?.stdout);
      expect((await getBuild(a, token, id)).body.build.status).toBe('BUILD_SUCCESS');
    } finally {
      await a.close();
    }
  });

  it('a build that fails before any buildpack runs still has its log', async () => {
    const { a, env } = await api({ TOOLFORGE_MAX_BUILDS_PER_TOOL: '1' });
    try {
      const blocker = await startDetached(env, sleeper().url);
      const doomed = quick();
      const id = await startDetached(env, doomed.url);
      rmSync(doomed.dir, { recursive: true, force: true });
      await cli(['build', 'cancel', blocker, '-y'], env);
      const logs = await cli(['build', 'logs', id, '-f'], env);
      expect(logs.stdout).toContain('[step-clone]');
      expect(logs.stdout).toMatch(/\[step-error\].*Could not fetch commit/);
      expect((await cli(['build', 'show', id], env)).stdout).toContain('Status: error');
    } finally {
      await a.close();
    }
  });
});

describe('delete and retention', () => {
  it('delete removes a record and its logs (cancelling a running build first)', async () => {
    const { a, env, token } = await api();
    try {
      const running = await startDetached(env, sleeper().url);
      await until('the build to run', async () => (sleeping() ? true : undefined));
      const del = await cli(['build', 'delete', running, '-y'], env);
      expect(del.code, del.stderr).toBe(0);
      expect(sleeping()).toBe('');
      expect((await getBuild(a, token, running)).status).toBe(404);
      const logs = await cli(['build', 'logs', running], env);
      expect(logs.code).toBe(1);
      expect(logs.stderr).toContain('not found');
    } finally {
      await a.close();
    }
  });

  it('keeps the newest N successful and M failed builds per image', async () => {
    const { a, env } = await api({ OK_BUILDS_TO_KEEP: '1', FAILED_BUILDS_TO_KEEP: '1' });
    try {
      const repo = quick();
      for (let i = 0; i < 2; i++) expect((await cli(['build', 'start', repo.url], env)).code).toBe(0);
      const broken = makeRepo({ 'misbehave.txt': 'exit-7' });
      for (let i = 0; i < 2; i++)
        expect((await cli(['build', 'start', broken.url, '-i', 'broken'], env)).code).toBe(1);
      for (let i = 0; i < 2; i++) expect((await cli(['build', 'start', broken.url], env)).code).toBe(1);
      const { builds } = JSON.parse((await cli(['build', 'list', '--json'], env)).stdout);
      const summary = builds.map((b: any) => `${b.parameters.image_name}:${b.status}`).sort();
      expect(summary).toEqual([
        'broken:BUILD_FAILURE',
        'tool-alpha:BUILD_FAILURE',
        'tool-alpha:BUILD_SUCCESS',
      ]);
    } finally {
      await a.close();
    }
  }, 120_000);
});
