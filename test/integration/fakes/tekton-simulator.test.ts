// The Tekton simulator, driven through @kubernetes/client-node as the builds API will drive Tekton.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type FakeApiServer, startFakeApiServer } from '../../fakes/kube-apiserver.ts';
import {
  podScripts,
  startTektonSimulator,
  stepCommand,
  type TektonSimulator,
} from '../../fakes/tekton-simulator.ts';
import { apiError, buildPipelineRun, condition, mergePatch, NS, PR, sleep, TR } from './helpers.ts';

const REPO = path.resolve(import.meta.dirname, '../../..');
const TASK = parse(readFileSync(path.join(REPO, 'tekton/task-buildpacks-phases.yaml'), 'utf8'));
const DIGEST = `sha256:${'ab'.repeat(32)}`;

describe('tekton simulator', () => {
  let api: FakeApiServer;
  let sim: TektonSimulator;
  let kc: k8s.KubeConfig;
  let custom: k8s.CustomObjectsApi;
  let core: k8s.CoreV1Api;

  beforeAll(async () => {
    api = await startFakeApiServer();
    sim = await startTektonSimulator(api, { namespace: NS, stepMs: 20, initMs: 10, digest: () => DIGEST });
    kc = api.makeKubeConfig();
    custom = kc.makeApiClient(k8s.CustomObjectsApi);
    core = kc.makeApiClient(k8s.CoreV1Api);
    // Per-scenario behaviour, chosen by a label on the run.
    const scenario = (name: string) => (pr: any) => pr.metadata.labels?.scenario === name;
    sim.script(scenario('fail-build'), { fail: { step: 'build', exitCode: 51 } });
    sim.script(scenario('slow'), { stepMs: 10_000 });
    sim.script(scenario('pull'), { imagePullBackOff: { step: 'clone' } });
    sim.script(scenario('oom'), { oomKilled: { step: 'build' } });
    sim.script(scenario('evicted'), { evicted: { step: 'export' } });
    sim.script(scenario('slow-build'), { stepMs: { build: 300 } });
    sim.script(scenario('slow-init'), { initMs: 150 });
  });
  afterAll(async () => {
    expect(sim.errors).toEqual([]);
    await sim.stop();
    await api.stop();
  });

  const start = async (o: Parameters<typeof buildPipelineRun>[0] = {}) =>
    (await custom.createNamespacedCustomObject({ ...PR, body: buildPipelineRun(o) })).metadata.name as string;
  const podOf = async (name: string) => {
    const pods = await core.listNamespacedPod({
      namespace: NS,
      labelSelector: `tekton.dev/pipelineRun=${name}`,
    });
    expect(pods.items).toHaveLength(1);
    return pods.items[0]!;
  };
  const taskRunOf = async (name: string) => {
    const list = await custom.listNamespacedCustomObject({
      ...TR,
      labelSelector: `tekton.dev/pipelineRun=${name}`,
    });
    expect(list.items).toHaveLength(1);
    return list.items[0];
  };

  it('runs the builds API PipelineRun to Succeeded with results, as Tekton reports it', async () => {
    const name = await start();
    const created = await custom.getNamespacedCustomObject({ ...PR, name });
    expect(created.spec.timeouts).toEqual({ pipeline: '1h0m0s' }); // Tekton's defaulting webhook
    const pr = await sim.waitFor(name, 'Succeeded');
    expect(condition(pr)).toMatchObject({
      status: 'True',
      message: 'Tasks Completed: 1 (Failed: 0, Cancelled 0), Skipped: 0',
    });
    expect(pr.status.results).toEqual([
      { name: 'APP_IMAGE_URL', value: 'tools-harbor.wmcloud.org/tool-mytool/mytool:latest' },
      { name: 'APP_IMAGE_DIGEST', value: DIGEST },
    ]);
    expect(pr.status.startTime).toEqual(expect.any(String));
    expect(pr.status.completionTime).toEqual(expect.any(String));
    expect(pr.metadata.labels).toMatchObject({ user: 'mytool', 'tekton.dev/pipeline': 'buildpacks' });
    expect(pr.status.childReferences).toEqual([
      {
        apiVersion: 'tekton.dev/v1',
        kind: 'TaskRun',
        name: `${name}-build-from-git`,
        pipelineTaskName: 'build-from-git',
      },
    ]);

    const tr = await taskRunOf(name);
    expect(tr.metadata.name).toBe(`${name}-build-from-git`);
    expect(tr.metadata.labels).toMatchObject({
      user: 'mytool',
      'tekton.dev/pipelineRun': name,
      'tekton.dev/pipelineTask': 'build-from-git',
      'tekton.dev/task': 'toolforge-buildpacks-phases',
    });
    expect(tr.status.results).toEqual([
      { name: 'APP_IMAGE_URL', type: 'string', value: 'tools-harbor.wmcloud.org/tool-mytool/mytool:latest' },
      { name: 'APP_IMAGE_DIGEST', type: 'string', value: DIGEST },
    ]);
    expect(tr.status.steps.map((s: any) => [s.container, s.terminated.exitCode])).toEqual(
      TASK.spec.steps.map((s: any) => [`step-${s.name}`, 0]),
    );
    expect(condition(tr)).toMatchObject({ status: 'True', reason: 'Succeeded' });
  });

  it('makes the pod the way Tekton does: names, labels, containers in Task order, images, env, args, volumes', async () => {
    const name = await start({ labels: { scenario: 'pod-shape' } });
    await sim.waitFor(name, 'Succeeded');
    const pod = await podOf(name);
    expect(pod.metadata?.name).toBe(`${name}-build-from-git-pod`);
    expect(pod.metadata?.labels).toMatchObject({
      user: 'mytool',
      scenario: 'pod-shape',
      'tekton.dev/pipelineRun': name,
      'tekton.dev/pipelineTask': 'build-from-git',
      'tekton.dev/taskRun': `${name}-build-from-git`,
      'app.kubernetes.io/managed-by': 'tekton-pipelines',
    });
    expect(pod.spec?.serviceAccountName).toBe('buildpacks-service-account');
    expect(pod.spec?.initContainers?.map((c) => c.name)).toEqual(['prepare', 'place-scripts']);
    const containers = pod.spec!.containers;
    expect(containers.map((c) => c.name)).toEqual([
      'step-clone',
      'step-prepare',
      'step-analyze',
      'step-detect',
      'step-restore',
      'step-build',
      'step-export',
      'step-results',
    ]);
    const c = Object.fromEntries(containers.map((x) => [x.name, x]));
    expect(c['step-clone']!.image).toBe('tools-harbor.wmcloud.org/toolforge/heroku-builder:24');
    expect(c['step-analyze']!.image).toBe(
      'tools-harbor.wmcloud.org/toolforge/buildpacksio-lifecycle:0.20.11',
    );
    const env = (n: string) => Object.fromEntries((c[n]!.env ?? []).map((e) => [e.name, e.value]));
    expect(env('step-clone')).toMatchObject({
      SOURCE_URL: 'https://gitlab.wikimedia.org/toolforge-repos/mytool.git',
      SOURCE_REFERENCE: '0123456789abcdef0123456789abcdef01234567',
      UNRESOLVED_SOURCE_REFERENCE: 'main',
      SOURCE_DIR: '/workspace/source',
      CNB_PLATFORM_API: '0.13',
      HOME: '/tekton/home',
    });
    expect(env('step-prepare').CACHE_DIR).toBe('/workspace/cache');
    // Array params expand in place; the step's own command line follows the entrypoint wrapper's `--`.
    expect(stepCommand(c['step-prepare']).slice(1)).toEqual([
      '--env-vars',
      'GREETING=hello',
      'EMPTY=',
      '--extra-buildpacks',
      'tools-harbor.wmcloud.org/toolforge/apt-buildpack:1',
    ]);
    expect(stepCommand(c['step-analyze'])).toEqual([
      '/cnb/lifecycle/analyzer',
      '-layers=/layers',
      '-run=/layers/run.toml',
      '-analyzed=/layers/analyzed.toml',
      '-cache-image=',
      '-uid=1000',
      '-gid=1000',
      'tools-harbor.wmcloud.org/tool-mytool/mytool:latest',
    ]);
    // Scripts get Tekton's substitutions but user values only ever arrive through env.
    const clone = podScripts(pod as any)[stepCommand(c['step-clone'])[0]!]!;
    expect(clone).toContain('git fetch -q --depth=1 --no-tags -- "$SOURCE_URL" "$SOURCE_REFERENCE"');
    expect(clone).not.toContain('gitlab.wikimedia.org');
    const results = podScripts(pod as any)[stepCommand(c['step-results'])[0]!]!;
    expect(results).toContain('>"/tekton/results/APP_IMAGE_DIGEST"');
    const secretVolume = pod.spec?.volumes?.find((v) => v.name === 'registry-credentials');
    // The lifecycle reads $DOCKER_CONFIG/config.json: the Secret's .dockerconfigjson key lands there.
    expect({ ...secretVolume?.secret }).toEqual({
      secretName: 'registry-push-mytool-abc12',
      optional: true,
      items: [expect.objectContaining({ key: '.dockerconfigjson', path: 'config.json' })],
    });
    expect(c['step-analyze']!.volumeMounts).toContainEqual(
      expect.objectContaining({
        name: 'registry-credentials',
        mountPath: '/registry-credentials',
        readOnly: true,
      }),
    );
    expect(c['step-build']!.volumeMounts?.map((m) => m.name)).not.toContain('registry-credentials');
    expect(pod.status?.phase).toBe('Succeeded');
  });

  it('takes the service account from taskRunSpecs, as upstream builds-api sets it', async () => {
    const name = await start({
      spec: {
        taskRunTemplate: undefined,
        taskRunSpecs: [{ pipelineTaskName: 'build-from-git', serviceAccountName: 'from-task-run-specs' }],
      },
    });
    await sim.waitFor(name, 'Succeeded');
    expect((await podOf(name)).spec?.serviceAccountName).toBe('from-task-run-specs');
  });

  it('streams every step log in order with Log.log follow (the Tekton log recipe)', async () => {
    const name = await start({ labels: { scenario: 'slow-init' } });
    const log = new k8s.Log(kc);
    let pod: k8s.V1Pod | undefined;
    while (!pod) {
      pod = (await core.listNamespacedPod({ namespace: NS, labelSelector: `tekton.dev/pipelineRun=${name}` }))
        .items[0];
      if (!pod) await sleep(5);
    }
    let saw400 = false;
    const out: string[] = [];
    for (const container of pod.spec!.containers.map((c) => c.name)) {
      for (;;) {
        const sink = new PassThrough();
        let text = '';
        sink.on('data', (d) => (text += d));
        const ended = new Promise((r) => sink.on('end', r));
        try {
          await log.log(NS, pod.metadata!.name!, container, sink, { follow: true });
        } catch (e) {
          expect((e as k8s.ApiException<unknown>).code).toBe(400); // still initializing
          saw400 = true;
          await sleep(5);
          continue;
        }
        await ended;
        out.push(
          ...text
            .trimEnd()
            .split('\n')
            .map((l) => `[${container}] ${l}`),
        );
        break;
      }
    }
    expect(saw400).toBe(true);
    expect(out[0]).toBe('[step-clone] step clone running');
    expect(out).toContain('[step-build] step build done');
    expect(out.at(-1)).toBe(
      `[step-results] Built image tools-harbor.wmcloud.org/tool-mytool/mytool:latest@${DIGEST}`,
    );
    expect(out).toHaveLength(16);
    await sim.waitFor(name, 'Succeeded');
  });

  it('fails the run when a step fails, with that exit code in the TaskRun and later steps skipped', async () => {
    const name = await start({ labels: { scenario: 'fail-build' } });
    const pr = await sim.waitFor(name, 'done');
    expect(condition(pr)).toMatchObject({
      status: 'False',
      reason: 'Failed',
      message: 'Tasks Completed: 1 (Failed: 1, Cancelled 0), Skipped: 0',
    });
    expect(pr.status.results).toBeUndefined();
    const tr = await taskRunOf(name);
    expect(condition(tr)).toMatchObject({
      status: 'False',
      reason: 'Failed',
      message: '"step-build" exited with code 51',
    });
    const steps = Object.fromEntries(tr.status.steps.map((s: any) => [s.name, s]));
    expect(steps.build.terminated).toMatchObject({ exitCode: 51, reason: 'Error' });
    expect(steps.detect.terminated.exitCode).toBe(0);
    expect(steps.export).toMatchObject({ terminated: { exitCode: 1 }, terminationReason: 'Skipped' });
    const pod = await podOf(name);
    expect(pod.status?.phase).toBe('Failed');
    const exportLog = await core.readNamespacedPodLog({
      namespace: NS,
      name: pod.metadata!.name!,
      container: 'step-export',
    });
    expect(exportLog).toMatch(/Skipping step because a previous step failed/);
  });

  it('shows ImagePullBackOff where a client looks: pod Pending, container waiting, log 400, TaskRun PullImageFailed', async () => {
    const name = await start({ labels: { scenario: 'pull' } });
    const pod = await sim.waitForStep(name, 'clone', 'waiting');
    await api.waitFor('pods', NS, pod.metadata.name, (p) =>
      p?.status?.containerStatuses?.some((c: any) => c.state.waiting?.reason === 'ImagePullBackOff'),
    );
    const read = await core.readNamespacedPod({ namespace: NS, name: pod.metadata.name });
    expect(read.status?.phase).toBe('Pending');
    const clone = read.status?.containerStatuses?.find((c) => c.name === 'step-clone');
    expect(clone?.state?.waiting).toEqual({
      reason: 'ImagePullBackOff',
      message: 'Back-off pulling image "tools-harbor.wmcloud.org/toolforge/heroku-builder:24"',
    });
    const log = await apiError(
      core.readNamespacedPodLog({ namespace: NS, name: pod.metadata.name, container: 'step-clone' }),
    );
    expect(log.status.message).toBe(
      `container "step-clone" in pod "${pod.metadata.name}" is waiting to start: trying and failing to pull image`,
    );
    const tr = await taskRunOf(name);
    expect(condition(tr)).toMatchObject({ status: 'Unknown', reason: 'PullImageFailed' });
    expect(condition(await custom.getNamespacedCustomObject({ ...PR, name }))).toMatchObject({
      status: 'Unknown',
      reason: 'Running',
    });
    await custom.patchNamespacedCustomObject({
      ...PR,
      name,
      body: [{ op: 'add', path: '/spec/status', value: 'Cancelled' }],
    });
    await sim.waitFor(name, 'Cancelled');
  });

  it('shows OOMKilled in the pod status (exit 137) and fails the run', async () => {
    const name = await start({ labels: { scenario: 'oom' } });
    await sim.waitFor(name, 'Failed');
    const pod = await podOf(name);
    const build = pod.status?.containerStatuses?.find((c) => c.name === 'step-build');
    expect(build?.state?.terminated).toMatchObject({ exitCode: 137, reason: 'OOMKilled' });
    expect(pod.status?.phase).toBe('Failed');
    expect(condition(await taskRunOf(name))?.message).toBe('"step-build" exited with code 137');
  });

  it('shows an eviction in the pod status (phase Failed, reason Evicted) and the TaskRun message', async () => {
    const name = await start({ labels: { scenario: 'evicted' } });
    await sim.waitFor(name, 'Failed');
    const pod = await podOf(name);
    expect(pod.status).toMatchObject({ phase: 'Failed', reason: 'Evicted' });
    expect(pod.status?.message).toMatch(/^The node was low on resource: ephemeral-storage/);
    expect(condition(await taskRunOf(name))).toMatchObject({
      status: 'False',
      reason: 'Failed',
      message: pod.status?.message,
    });
  });

  it('times out: PipelineRunTimeout, TaskRun cancelled, pod deleted', async () => {
    const name = await start({ labels: { scenario: 'slow' }, spec: { timeouts: { pipeline: '0.3s' } } });
    expect((await custom.getNamespacedCustomObject({ ...PR, name })).spec.timeouts.pipeline).toBe('300ms');
    const pr = await sim.waitFor(name, 'PipelineRunTimeout');
    expect(condition(pr)).toMatchObject({
      status: 'False',
      message: `PipelineRun "${name}" failed to finish within "300ms"`,
    });
    expect(pr.status.completionTime).toEqual(expect.any(String));
    const tr = await taskRunOf(name);
    expect(condition(tr)).toMatchObject({
      status: 'False',
      reason: 'TaskRunCancelled',
      message: `TaskRun "${name}-build-from-git" was cancelled. TaskRun cancelled as the PipelineRun it belongs to has timed out.`,
    });
    expect(tr.spec.status).toBe('TaskRunCancelled');
    expect(
      (await core.listNamespacedPod({ namespace: NS, labelSelector: `tekton.dev/pipelineRun=${name}` }))
        .items,
    ).toEqual([]);
  });

  it('cancels on spec.status: Cancelled (JSON patch): running steps terminated, pod deleted', async () => {
    const name = await start({ labels: { scenario: 'slow' } });
    await sim.waitForStep(name, 'clone', 'running');
    await custom.patchNamespacedCustomObject({
      ...PR,
      name,
      body: [{ op: 'add', path: '/spec/status', value: 'Cancelled' }],
    });
    const pr = await sim.waitFor(name, 'Cancelled');
    expect(condition(pr)).toMatchObject({ status: 'False', message: `PipelineRun "${name}" was cancelled` });
    const tr = await taskRunOf(name);
    expect(condition(tr)?.reason).toBe('TaskRunCancelled');
    expect(tr.status.steps[0]).toMatchObject({
      terminated: { exitCode: 1, reason: 'TaskRunCancelled' },
      terminationReason: 'TaskRunCancelled',
    });
    await api.waitFor('pods', NS, `${name}-build-from-git-pod`, (p) => p === undefined);
  });

  /** Every reason the run's Succeeded condition goes through, as stored (not racing short-lived ones). */
  const reasons = (name: string) => {
    const seen: string[] = [];
    const off = api.onChange((e) => {
      const r =
        e.resource.plural === 'pipelineruns' &&
        e.object.metadata.name === name &&
        condition(e.object)?.reason;
      if (r && seen.at(-1) !== r) seen.push(r);
    });
    return { seen, off };
  };

  it('handles CancelledRunFinally and StoppedRunFinally (merge patch) with their interim reasons', async () => {
    const a = await start({ labels: { scenario: 'slow' } });
    await sim.waitForStep(a, 'clone', 'running');
    const ra = reasons(a);
    await custom.patchNamespacedCustomObject(
      { ...PR, name: a, body: { spec: { status: 'CancelledRunFinally' } } },
      mergePatch,
    );
    expect(condition(await sim.waitFor(a, 'done'))?.reason).toBe('Cancelled');
    ra.off();
    expect(ra.seen).toEqual(['Running', 'CancelledRunningFinally', 'Cancelled']);

    const b = await start({ labels: { scenario: 'slow-build' } });
    await sim.waitForStep(b, 'build', 'running');
    const rb = reasons(b);
    await custom.patchNamespacedCustomObject(
      { ...PR, name: b, body: { spec: { status: 'StoppedRunFinally' } } },
      mergePatch,
    );
    const stopped = await sim.waitFor(b, 'done');
    rb.off();
    expect(rb.seen).toEqual(['Running', 'StoppedRunningFinally', 'Cancelled']);
    // The running task finishes, then the run ends Cancelled.
    expect(condition(stopped)).toMatchObject({ status: 'False', reason: 'Cancelled' });
    expect(condition(await taskRunOf(b))?.reason).toBe('Succeeded');
  });

  it('holds a PipelineRunPending run until spec.status is cleared', async () => {
    const name = await start({ spec: { status: 'PipelineRunPending' } });
    await sim.waitFor(name, 'PipelineRunPending');
    await sleep(50);
    expect(
      (await custom.listNamespacedCustomObject({ ...TR, labelSelector: `tekton.dev/pipelineRun=${name}` }))
        .items,
    ).toEqual([]);
    await custom.patchNamespacedCustomObject({ ...PR, name, body: [{ op: 'remove', path: '/spec/status' }] });
    await sim.waitFor(name, 'Succeeded');
  });

  it('deleting a PipelineRun takes its TaskRun and pod with it', async () => {
    const name = await start({ labels: { scenario: 'slow' } });
    await sim.waitForStep(name, 'clone', 'running');
    await custom.deleteNamespacedCustomObject({ ...PR, name });
    await api.waitFor('pods', NS, `${name}-build-from-git-pod`, (p) => p === undefined);
    await api.waitFor('taskruns', NS, `${name}-build-from-git`, (t) => t === undefined);
  });

  it('fails runs the controller cannot run, with Tekton reasons; undeclared params are ignored', async () => {
    const params = buildPipelineRun().spec.params;
    const missing = await start({ params: params.filter((p) => p.name !== 'SOURCE_URL') });
    expect(condition(await sim.waitFor(missing, 'done'))).toMatchObject({
      status: 'False',
      reason: 'ParameterMissing',
      message: `PipelineRun ${NS}/${missing} is missing some parameters required by Pipeline ${NS}/buildpacks: [User error] pipelineRun missing parameters: [SOURCE_URL]`,
    });
    const mismatch = await start({
      params: params.map((p) => (p.name === 'ENV_VARS' ? { ...p, value: 'A=1' } : p)),
    });
    expect(condition(await sim.waitFor(mismatch, 'done'))).toMatchObject({ reason: 'ParameterTypeMismatch' });
    const noPipeline = await start({ spec: { pipelineRef: { name: 'nope' } } });
    expect(condition(await sim.waitFor(noPipeline, 'done'))).toMatchObject({ reason: 'CouldntGetPipeline' });
    const noWorkspace = await start({ spec: { workspaces: [] } });
    expect(condition(await sim.waitFor(noWorkspace, 'done'))).toMatchObject({
      reason: 'InvalidWorkspaceBindings',
    });
    const extra = await start({ params: [...params, { name: 'NOT_DECLARED', value: 'x' }] });
    expect(condition(await sim.waitFor(extra, 'done'))?.reason).toBe('Succeeded');
  });

  it("refuses what Tekton's webhook refuses (400), and spec changes once a run finished", async () => {
    const params = buildPipelineRun().spec.params;
    const dup = await apiError(
      custom.createNamespacedCustomObject({
        ...PR,
        body: buildPipelineRun({ params: [...params, params[0]!] }),
      }),
    );
    expect(dup).toMatchObject({ code: 400, status: { reason: 'BadRequest' } });
    expect(dup.status.message).toBe(
      'admission webhook "validation.webhook.pipeline.tekton.dev" denied the request: validation failed: expected exactly one, got both: spec.params[BUILDER_IMAGE].name',
    );
    const badStatus = await apiError(
      custom.createNamespacedCustomObject({ ...PR, body: buildPipelineRun({ spec: { status: 'Stop' } }) }),
    );
    expect(badStatus.code).toBe(400);
    const badTimeout = await apiError(
      custom.createNamespacedCustomObject({
        ...PR,
        body: buildPipelineRun({ spec: { timeouts: { pipeline: '1 hour' } } }),
      }),
    );
    expect(badTimeout.status.message).toContain('spec.timeouts.pipeline');

    const name = await start();
    const done = await sim.waitFor(name, 'Succeeded');
    const late = await apiError(
      custom.patchNamespacedCustomObject(
        { ...PR, name, body: { spec: { status: 'Cancelled' } } },
        mergePatch,
      ),
    );
    expect(late.status.message).toContain('Once the PipelineRun is complete, no updates are allowed');
    expect(done.spec.status).toBeUndefined();
  });
});

describe('tekton simulator: options', () => {
  it("'admission' param validation refuses bad params at create with 422 naming the param", async () => {
    await using api = await startFakeApiServer();
    await using _sim = await startTektonSimulator(api, { namespace: NS, paramValidation: 'admission' });
    const custom = api.makeKubeConfig().makeApiClient(k8s.CustomObjectsApi);
    const params = buildPipelineRun().spec.params;
    const undeclared = await apiError(
      custom.createNamespacedCustomObject({
        ...PR,
        body: buildPipelineRun({ params: [...params, { name: 'SOURCE_BRANCH', value: 'x' }] }),
      }),
    );
    expect(undeclared).toMatchObject({
      code: 422,
      status: { reason: 'Invalid', details: { causes: [{ field: 'spec.params[SOURCE_BRANCH]' }] } },
    });
    expect(undeclared.status.message).toContain('SOURCE_BRANCH');
    const missing = await apiError(
      custom.createNamespacedCustomObject({
        ...PR,
        body: buildPipelineRun({ params: params.filter((p) => p.name !== 'APP_IMAGE') }),
      }),
    );
    expect(missing).toMatchObject({
      code: 422,
      status: { details: { causes: [{ field: 'spec.params[APP_IMAGE]', reason: 'FieldValueRequired' }] } },
    });
    const wrongType = await apiError(
      custom.createNamespacedCustomObject({
        ...PR,
        body: buildPipelineRun({
          params: params.map((p) => (p.name === 'SOURCE_URL' ? { ...p, value: ['a'] } : p)),
        }),
      }),
    );
    expect(wrongType.status.message).toContain('SOURCE_URL');
    const wrongPipeline = await apiError(
      custom.createNamespacedCustomObject({
        ...PR,
        body: buildPipelineRun({ spec: { pipelineRef: { name: 'other' } } }),
      }),
    );
    expect(wrongPipeline.code).toBe(422);
  });

  it("'specific' failure reasons (Tekton 1.12+) and keep-pod-on-cancel", async () => {
    await using api = await startFakeApiServer();
    await using sim = await startTektonSimulator(api, {
      namespace: NS,
      stepMs: 20,
      failureReasons: 'specific',
      keepPodOnCancel: true,
      script: (pr) =>
        pr.metadata.labels?.scenario === 'oom' ? { oomKilled: { step: 'build' } } : { stepMs: 5000 },
    });
    const custom = api.makeKubeConfig().makeApiClient(k8s.CustomObjectsApi);
    const oom = (
      await custom.createNamespacedCustomObject({
        ...PR,
        body: buildPipelineRun({ labels: { scenario: 'oom' } }),
      })
    ).metadata.name;
    await sim.waitFor(oom, 'Failed');
    const tr = api.get('taskruns', NS, `${oom}-build-from-git`)!;
    expect(condition(tr)).toMatchObject({
      reason: 'StepOOM',
      message: '"step-build" exited with code 137: OOMKilled',
    });

    const slow = (await custom.createNamespacedCustomObject({ ...PR, body: buildPipelineRun() })).metadata
      .name;
    await sim.waitForStep(slow, 'clone', 'running');
    await custom.patchNamespacedCustomObject({
      ...PR,
      name: slow,
      body: [{ op: 'add', path: '/spec/status', value: 'Cancelled' }],
    });
    await sim.waitFor(slow, 'Cancelled');
    const pod = api.get('pods', NS, `${slow}-build-from-git-pod`);
    expect(pod?.status.phase).toBe('Failed');
    expect(pod?.status.containerStatuses[0].state.terminated.exitCode).toBe(9);
  });
});
