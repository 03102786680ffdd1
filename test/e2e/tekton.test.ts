// The cluster engine's own behaviour against the fake kube-apiserver and the Tekton simulator (fakes, not a
// cluster): the PipelineRun it creates, Kubernetes failures, dropped watches and log streams, pods that
// never start, runs deleted by someone else, and pod-level failures.
import { pushImage, RegistryClient } from '@toolforge/oci';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi } from '../helpers/api.ts';
import { cli } from '../helpers/cli.ts';
import { makeRepo } from '../helpers/git.ts';
import { makeImage } from '../helpers/oci-images.ts';
import { startTektonStack, type TektonStack } from '../helpers/tekton.ts';

let s: TektonStack;
let env: Record<string, string>;
beforeAll(async () => {
  s = await startTektonStack();
  env = { TOOLFORGE_API_URL: s.api.url, TOOLFORGE_TOOL: 'alpha', TOOLFORGE_TOKEN: s.api.token('alpha') };
  await s.publish('alpha', 'tool-alpha');
}, 300_000);
afterAll(() => s?.close());

const repo = (kind: string) => makeRepo({ 'README.md': kind }, { name: `${kind}.git` });
const start = async (url: string, extra: string[] = []) => {
  const r = await cli(['build', 'start', url, '-D', '--json', ...extra], env);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  return JSON.parse(r.stdout).new_build.name as string;
};
const show = async (id: string) => JSON.parse((await cli(['build', 'show', id, '--json'], env)).stdout).build;
const until = async (id: string, status: string, ms = 20_000) => {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    const b = await show(id);
    if (b.status === status) return b;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${id} never reached ${status}`);
};

describe('the PipelineRun', () => {
  it('carries upstream params, labels, the service account and a timeout; credentials only reach the registry steps', async () => {
    const r = repo('quick');
    const id = await start(r.url, ['-e', 'API_KEY=s3cret-value']);
    await until(id, 'BUILD_SUCCESS');
    const pr = s.kube.get('pipelineruns', 'image-build', id) as any;
    const params = Object.fromEntries(pr.spec.params.map((p: any) => [p.name, p.value]));
    expect(params).toMatchObject({
      BUILDER_IMAGE: 'toolforge/bookworm-builder:latest',
      RUN_IMAGE: 'toolforge/bookworm-run:latest',
      APP_IMAGE: `${s.registry.host}/tool-alpha/tool-alpha:latest`,
      SOURCE_URL: r.url,
      SOURCE_REFERENCE: r.commit,
      UNRESOLVED_SOURCE_REFERENCE: '',
      ENV_VARS: ['API_KEY=s3cret-value'],
      CACHE_IMAGE: `${s.registry.host}/tool-alpha/tool-alpha-cache`,
    });
    expect(pr.metadata.labels).toMatchObject({
      user: 'alpha',
      'toolforge.org/tool': 'alpha',
      'toolforge.org/image': 'tool-alpha',
    });
    expect(pr.spec.taskRunTemplate.serviceAccountName).toBe('buildpacks-service-account');
    expect(pr.spec.timeouts.pipeline).toBe('30m0s');
    const [pod] = s.kube.objects('pods', 'image-build', {
      labelSelector: `tekton.dev/pipelineRun=${id}`,
    }) as any[];
    const creds = pod.spec.containers
      .filter((c: any) => (c.volumeMounts ?? []).some((m: any) => m.name === 'registry-credentials'))
      .map((c: any) => c.name);
    expect(creds).toEqual(['step-analyze', 'step-restore', 'step-export']);
    expect(pod.spec.volumes.find((v: any) => v.name === 'registry-credentials').secret.secretName).toBe(
      'builds-registry-credentials',
    );
    // The API never shows the value back.
    expect(JSON.stringify(await show(id))).not.toContain('s3cret-value');
  });
});

describe('Kubernetes failures', () => {
  it('the API down answers 503 with a clear message, and healthz says why', async () => {
    s.kube.down('unavailable');
    try {
      const r = await cli(['build', 'start', repo('quick').url], env);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('The Kubernetes API is unavailable');
      const health = await fetch(`${s.api.url}/v1/healthz`);
      expect(health.status).toBe(503);
      expect(((await health.json()) as any).messages.error[0]).toMatch(/^engine: cannot list PipelineRuns/);
    } finally {
      s.kube.up();
    }
  });

  it('a 409 on create (a generated name taken) is retried once', async () => {
    s.kube.fail({ method: 'POST', path: /pipelineruns$/, status: 409, times: 1 });
    const id = await start(repo('quick').url);
    await until(id, 'BUILD_SUCCESS');
  });
});

describe('logs', () => {
  it('a follow survives dropped log streams and watches with no missing or repeated line', async () => {
    const r = repo('quick');
    s.tekton.script((pr: any) => pr.spec.params.find((p: any) => p.name === 'SOURCE_URL')?.value === r.url, {
      stepMs: 250,
      logs: Object.fromEntries(
        ['clone', 'prepare', 'analyze', 'detect', 'restore', 'build', 'export', 'results'].map((st) => [
          st,
          [`${st} 1`, `${st} 2`, `${st} 3`],
        ]),
      ),
    });
    const id = await start(r.url);
    const following = cli(['build', 'logs', id, '-f'], env);
    for (let i = 0; i < 4; i++) {
      await new Promise((res) => setTimeout(res, 400));
      s.kube.dropWatches();
    }
    const followed = await following;
    await until(id, 'BUILD_SUCCESS');
    const replay = await cli(['build', 'logs', id], env);
    expect(followed.code, followed.stderr).toBe(0);
    const lines = (t: string) => t.trim().split('\n');
    expect(lines(followed.stdout)).toEqual(lines(replay.stdout));
    expect(lines(replay.stdout).filter((l) => / build [123]$/.test(l))).toHaveLength(3);
  });

  it('a pod that never starts is reported in the log instead of hanging', async () => {
    const id = await start(repo('pull').url);
    const logs = await cli(['build', 'logs', id, '-f'], env);
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toMatch(/\[step-analyze\] \S+ Container step-analyze cannot start: ImagePullBackOff/);
    expect(logs.stdout.match(/cannot start/g)).toHaveLength(1);
    expect((await cli(['build', 'cancel', id, '-y'], env)).code).toBe(0);
  }, 60_000);

  it('a PipelineRun deleted by someone else ends the follow with a clear error', async () => {
    const id = await start(repo('slow').url);
    const following = cli(['build', 'logs', id, '-f'], env);
    await new Promise((r) => setTimeout(r, 500));
    s.kube.delete('pipelineruns', 'image-build', id);
    const r = await following;
    const after = await cli(['build', 'show', id], env);
    expect(after.code).toBe(1);
    expect(after.stderr).toContain('not found');
    expect(r.code === 0 || r.stderr.includes('deleted') || r.stderr.includes('not found')).toBe(true);
  });

  it('shutting the API down ends open follows instead of waiting for them', async () => {
    const other = await startApi(s.env);
    const e = { ...env, TOOLFORGE_API_URL: other.url, TOOLFORGE_TOKEN: other.token('alpha') };
    const id = JSON.parse((await cli(['build', 'start', repo('slow').url, '-D', '--json'], e)).stdout)
      .new_build.name;
    const following = cli(['build', 'logs', id, '-f'], e);
    await new Promise((r) => setTimeout(r, 1000));
    await other.close();
    const r = await following;
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('The build service is restarting; the log stopped here.');
    expect((await cli(['build', 'cancel', id, '-y'], env)).code).toBe(0);
  }, 30_000);
});

describe('the build cache image', () => {
  it('tool-<tool>/<image>-cache counts in the quota, is not listed as an image, and clean removes it', async () => {
    await s.publish('cachy', 'tool-cachy');
    const e = { ...env, TOOLFORGE_TOOL: 'cachy', TOOLFORGE_TOKEN: s.api.token('cachy') };
    const quota = async () =>
      JSON.parse((await cli(['build', 'quota', '--json'], e)).stdout).quota.categories[0].items[0].used;
    const before = await quota();
    // What the export step would push there: another image (its own layers).
    await using cache = await makeImage('cache');
    const client = new RegistryClient({ url: s.registry.url });
    await pushImage(cache.layout, cache.ref, client, 'tool-cachy/tool-cachy-cache', 'latest');
    expect(await quota()).not.toBe(before);
    // Not an image of the tool: clean reports it as the build cache.
    const clean = await cli(['build', 'clean', '-y', '--json'], e);
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.stdout).toContain('tool-cachy-cache');
    expect(clean.stdout).toContain('build cache');
    expect(await client.listTags('tool-cachy/tool-cachy-cache').catch(() => [])).toEqual([]);
    expect(await client.listTags('tool-cachy/tool-cachy').catch(() => [])).toEqual([]);
  });
});

describe('pod-level failures', () => {
  it.each([
    ['oom', 'OOMKilled', /ran out of memory/],
    ['evict', 'Evicted', /evicted/],
  ])('%s: the failure reason and the log say so', async (kind, reason, line) => {
    const id = await start(repo(kind).url);
    const b = await until(id, 'BUILD_FAILURE');
    expect(b.failure_reason).toBe(reason);
    expect((await cli(['build', 'logs', id], env)).stdout).toMatch(line);
  });
});
