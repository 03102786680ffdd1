// The engine-agnostic end-to-end suite: the same CLI and API behaviour (start, logs, list, show, cancel,
// delete, quota, queue, isolation) on the embedded engine (real builds) and on the cluster engine (the
// fake kube-apiserver and Tekton simulator of test/fakes, with a real registry — a fake, not a cluster).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApi } from '../helpers/api.ts';
import { startApi } from '../helpers/api.ts';
import { cli } from '../helpers/cli.ts';
import { makeRepo } from '../helpers/git.ts';
import { HARNESS_BUILDER } from '../helpers/paths.ts';
import { startTektonStack } from '../helpers/tekton.ts';

interface Engine {
  api: TestApi;
  /** A repository whose build succeeds / fails / runs for minutes. */
  source(kind: 'quick' | 'fail' | 'slow'): string;
  /** Make the registry hold what a successful build of tool/image reports (cluster engine only). */
  prepare(tool: string, image: string): Promise<void>;
  close(): Promise<void>;
}

const engines: [string, (env: Record<string, string>) => Promise<Engine>][] = [
  [
    'embedded engine',
    async (env) => {
      const api = await startApi({ BUILDER: HARNESS_BUILDER, ...env });
      const repos = {
        quick: () => makeRepo({ 'provide.txt': '', 'require.txt': '' }).url,
        fail: () => makeRepo({ 'misbehave.txt': 'exit-7' }).url,
        slow: () => makeRepo({ 'misbehave.txt': 'sleep' }).url,
      };
      return { api, source: (k) => repos[k](), prepare: async () => {}, close: () => api.close() };
    },
  ],
  [
    'cluster engine (Tekton on the fake apiserver)',
    async (env) => {
      const stack = await startTektonStack(env);
      return {
        api: stack.api,
        source: (k) => makeRepo({ 'README.md': k }, { name: `${k}.git` }).url,
        prepare: async (tool, image) => void (await stack.publish(tool, image)),
        close: () => stack.close(),
      };
    },
  ],
];

describe.each(engines)('%s', (_name, start) => {
  let e: Engine;
  let alpha: Record<string, string>;
  let beta: Record<string, string>;
  beforeAll(async () => {
    e = await start({ TOOLFORGE_MAX_BUILDS_PER_TOOL: '1' });
    alpha = { TOOLFORGE_API_URL: e.api.url, TOOLFORGE_TOOL: 'alpha', TOOLFORGE_TOKEN: e.api.token('alpha') };
    beta = { TOOLFORGE_API_URL: e.api.url, TOOLFORGE_TOOL: 'beta', TOOLFORGE_TOKEN: e.api.token('beta') };
    await e.prepare('alpha', 'tool-alpha');
  }, 300_000);
  afterAll(() => e?.close());

  let okId = '';
  it('start follows the log to a successful build; show, list and latest agree', async () => {
    const r = await cli(['build', 'start', e.source('quick')], alpha);
    expect(r.code, r.stderr).toBe(0);
    const shown = JSON.parse((await cli(['build', 'show', '--json'], alpha)).stdout).build;
    okId = shown.build_id;
    expect(shown).toMatchObject({ status: 'BUILD_SUCCESS', parameters: { image_name: 'tool-alpha' } });
    expect(shown.destination_image).toMatch(/\/tool-alpha\/tool-alpha:latest@sha256:[0-9a-f]{64}$/);
    expect((await cli(['build', 'show', okId], alpha)).stdout).toContain('Status: ok');
    const list = JSON.parse((await cli(['build', 'list', '--json'], alpha)).stdout);
    expect(list.builds.map((b: any) => b.build_id)).toContain(okId);
    const logs = await cli(['build', 'logs', okId], alpha);
    expect(logs.stdout).toMatch(/^\[step-[a-z-]+\] \S+ /m);
  });

  it('a failing build exits 1 with status error, and its log says why', async () => {
    const r = await cli(['build', 'start', e.source('fail')], alpha);
    expect(r.code).toBe(1);
    const b = JSON.parse((await cli(['build', 'show', '--json'], alpha)).stdout).build;
    expect(b.status).toBe('BUILD_FAILURE');
    expect((await cli(['build', 'show'], alpha)).stdout).toContain('Status: error');
  });

  it('queues past the per-tool limit, cancel stops a build, cancelling twice is refused, delete removes it', async () => {
    const slow = JSON.parse((await cli(['build', 'start', e.source('slow'), '-D', '--json'], alpha)).stdout)
      .new_build.name;
    const queued = JSON.parse(
      (await cli(['build', 'start', e.source('quick'), '-D', '--json'], alpha)).stdout,
    ).new_build.name;
    const q = JSON.parse((await cli(['build', 'show', queued, '--json'], alpha)).stdout).build;
    expect(q).toMatchObject({ status: 'BUILD_PENDING', queue_position: 1 });
    expect((await cli(['build', 'cancel', slow, '-y'], alpha)).code).toBe(0);
    let status = '';
    for (let i = 0; i < 100 && status !== 'BUILD_CANCELLED'; i++) {
      status = JSON.parse((await cli(['build', 'show', slow, '--json'], alpha)).stdout).build.status;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe('BUILD_CANCELLED');
    const again = await cli(['build', 'cancel', slow, '-y'], alpha);
    expect(again.code).toBe(1);
    expect(again.stdout + again.stderr).toMatch(/cannot be cancelled again/);
    const follow = await cli(['build', 'logs', queued, '-f'], alpha);
    expect(follow.code).toBe(0);
    expect((await cli(['build', 'delete', queued, '-y'], alpha)).code).toBe(0);
    const gone = await cli(['build', 'show', queued], alpha);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('not found');
  });

  it('quota answers in the upstream shape', async () => {
    const q = JSON.parse((await cli(['build', 'quota', '--json'], alpha)).stdout).quota;
    expect(q.categories[0]).toMatchObject({
      name: 'Registry',
      items: [{ name: 'Storage', limit: '1.00Gi' }],
    });
  });

  it('another tool’s build answers exactly like one that never existed, on every endpoint', async () => {
    const never = 'alpha-buildpacks-pipelinerun-zzzzz';
    for (const [method, suffix] of [
      ['GET', ''],
      ['GET', '/logs'],
      ['GET', '/logs?follow=true'],
      ['PUT', '/cancel'],
      ['DELETE', ''],
    ] as const) {
      const ask = async (id: string) => {
        const res = await fetch(`${e.api.url}/v1/tool/beta/builds/${id}${suffix}`, {
          method,
          headers: { authorization: `Bearer ${beta.TOOLFORGE_TOKEN}` },
        });
        return `${res.status} ${(await res.text()).replaceAll(id, 'ID')}`;
      };
      expect(await ask(okId), `${method} ${suffix}`).toBe(await ask(never));
    }
    expect((await cli(['build', 'list'], beta)).stdout).toContain('No builds found');
  });
});
