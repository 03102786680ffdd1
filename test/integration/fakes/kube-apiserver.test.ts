// The fake kube-apiserver through @kubernetes/client-node: CRUD, selectors, pagination, patches,
// status subresource, validation and errors, RBAC, discovery.
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeApiServer, loadRoleRules, startFakeApiServer } from '../../fakes/kube-apiserver.ts';
import { apiError, mergePatch, NS, PR } from './helpers.ts';

const REPO = path.resolve(import.meta.dirname, '../../..');
const pr = (name: string, labels: Record<string, string> = {}, extra: object = {}) => ({
  apiVersion: 'tekton.dev/v1',
  kind: 'PipelineRun',
  metadata: { name, labels },
  spec: { pipelineRef: { name: 'buildpacks' } },
  ...extra,
});

describe('fake kube-apiserver: custom objects', () => {
  let api: FakeApiServer;
  let custom: k8s.CustomObjectsApi;
  beforeAll(async () => {
    api = await startFakeApiServer();
    custom = api.makeKubeConfig().makeApiClient(k8s.CustomObjectsApi);
  });
  afterAll(() => api.stop());

  it('creates with generateName, reads back, and answers 404 and 409 as Status objects', async () => {
    const created = await custom.createNamespacedCustomObject({
      ...PR,
      body: { ...pr(''), metadata: { generateName: 'mytool-buildpacks-pipelinerun-' } },
    });
    expect(created.metadata.name).toMatch(/^mytool-buildpacks-pipelinerun-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(created.metadata).toMatchObject({ namespace: NS, generation: 1, uid: expect.any(String) });
    expect(created.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(typeof created.metadata.resourceVersion).toBe('string');
    const got = await custom.getNamespacedCustomObject({ ...PR, name: created.metadata.name });
    expect(got).toEqual(created);

    const missing = await apiError(custom.getNamespacedCustomObject({ ...PR, name: 'nope' }));
    expect(missing.code).toBe(404);
    expect(missing.status).toMatchObject({
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Failure',
      reason: 'NotFound',
      code: 404,
      message: 'pipelineruns.tekton.dev "nope" not found',
      details: { name: 'nope', group: 'tekton.dev', kind: 'pipelineruns' },
    });
    await custom.createNamespacedCustomObject({ ...PR, body: pr('fixed') });
    const dup = await apiError(custom.createNamespacedCustomObject({ ...PR, body: pr('fixed') }));
    expect(dup).toMatchObject({ code: 409, status: { reason: 'AlreadyExists' } });
  });

  it('lists with label and field selectors, and pages with limit/continue from one consistent snapshot', async () => {
    for (let i = 0; i < 5; i++) {
      await custom.createNamespacedCustomObject({
        ...PR,
        body: pr(`list-${i}`, { user: i % 2 ? 'odd' : 'even', tier: `t${i}` }),
      });
    }
    const names = (l: any) => l.items.map((o: any) => o.metadata.name);
    expect(names(await custom.listNamespacedCustomObject({ ...PR, labelSelector: 'user=odd' }))).toEqual([
      'list-1',
      'list-3',
    ]);
    expect(
      names(await custom.listNamespacedCustomObject({ ...PR, labelSelector: 'user==even,tier!=t0' })),
    ).toEqual(['list-2', 'list-4']);
    expect(
      names(await custom.listNamespacedCustomObject({ ...PR, labelSelector: 'tier in (t1, t4)' })),
    ).toEqual(['list-1', 'list-4']);
    expect(
      names(await custom.listNamespacedCustomObject({ ...PR, labelSelector: 'tier notin (t1),user' })),
    ).toEqual(['list-0', 'list-2', 'list-3', 'list-4']);
    expect(names(await custom.listNamespacedCustomObject({ ...PR, labelSelector: '!tier' }))).not.toContain(
      'list-0',
    );
    expect(
      names(await custom.listNamespacedCustomObject({ ...PR, fieldSelector: 'metadata.name=list-3' })),
    ).toEqual(['list-3']);
    const bad = await apiError(custom.listNamespacedCustomObject({ ...PR, fieldSelector: 'spec.status=x' }));
    expect(bad).toMatchObject({ code: 400, status: { reason: 'BadRequest' } });

    const first = await custom.listNamespacedCustomObject({ ...PR, labelSelector: 'user', limit: 2 });
    expect(first.items).toHaveLength(2);
    expect(first.metadata.continue).toEqual(expect.any(String));
    expect(first.metadata.remainingItemCount).toBe(3);
    // An object created between pages does not show up: pages come from the first page's snapshot.
    await custom.createNamespacedCustomObject({ ...PR, body: pr('list-00', { user: 'late' }) });
    const second = await custom.listNamespacedCustomObject({
      ...PR,
      labelSelector: 'user',
      limit: 2,
      _continue: first.metadata.continue,
    });
    const third = await custom.listNamespacedCustomObject({
      ...PR,
      labelSelector: 'user',
      limit: 2,
      _continue: second.metadata.continue,
    });
    expect([...names(first), ...names(second), ...names(third)]).toEqual([
      'list-0',
      'list-1',
      'list-2',
      'list-3',
      'list-4',
    ]);
    expect(third.metadata.continue).toBeUndefined();
    expect(second.metadata.resourceVersion).toBe(first.metadata.resourceVersion);
    api.compactHistory();
    const expired = await apiError(
      custom.listNamespacedCustomObject({ ...PR, limit: 2, _continue: first.metadata.continue }),
    );
    expect(expired).toMatchObject({ code: 410, status: { reason: 'Expired' } });
  });

  it('applies JSON patches (the default) and merge patches; spec changes bump generation, no-ops change nothing', async () => {
    const o = await custom.createNamespacedCustomObject({ ...PR, body: pr('patch-me') });
    const a = await custom.patchNamespacedCustomObject({
      ...PR,
      name: 'patch-me',
      body: [{ op: 'add', path: '/spec/status', value: 'Cancelled' }],
    });
    expect(a.spec.status).toBe('Cancelled');
    expect(a.metadata.generation).toBe(2);
    expect(Number(a.metadata.resourceVersion)).toBeGreaterThan(Number(o.metadata.resourceVersion));
    const b = await custom.patchNamespacedCustomObject(
      { ...PR, name: 'patch-me', body: { spec: { status: 'StoppedRunFinally' } } },
      mergePatch,
    );
    expect(b.spec).toEqual({ pipelineRef: { name: 'buildpacks' }, status: 'StoppedRunFinally' });
    const same = await custom.patchNamespacedCustomObject(
      { ...PR, name: 'patch-me', body: { spec: { status: 'StoppedRunFinally' } } },
      mergePatch,
    );
    expect(same.metadata.resourceVersion).toBe(b.metadata.resourceVersion);
    const labelled = await custom.patchNamespacedCustomObject(
      { ...PR, name: 'patch-me', body: { metadata: { labels: { a: 'b' } } } },
      mergePatch,
    );
    expect(labelled.metadata.generation).toBe(b.metadata.generation);

    const failedTest = await apiError(
      custom.patchNamespacedCustomObject({
        ...PR,
        name: 'patch-me',
        body: [{ op: 'test', path: '/spec/status', value: 'nope' }],
      }),
    );
    expect(failedTest.code).toBe(422);
    const stale = await apiError(
      custom.patchNamespacedCustomObject(
        {
          ...PR,
          name: 'patch-me',
          body: { metadata: { resourceVersion: o.metadata.resourceVersion }, spec: { status: '' } },
        },
        mergePatch,
      ),
    );
    expect(stale).toMatchObject({ code: 409, status: { reason: 'Conflict' } });
    expect((await apiError(custom.patchNamespacedCustomObject({ ...PR, name: 'nope', body: [] }))).code).toBe(
      404,
    );
  });

  it('replaces with a resourceVersion precondition (409 Conflict when stale, 422 when missing on a custom resource)', async () => {
    const o = await custom.createNamespacedCustomObject({ ...PR, body: pr('replace-me') });
    const updated = await custom.replaceNamespacedCustomObject({
      ...PR,
      name: 'replace-me',
      body: { ...o, spec: { ...o.spec, x: 1 } },
    });
    expect(updated.spec.x).toBe(1);
    const stale = await apiError(
      custom.replaceNamespacedCustomObject({ ...PR, name: 'replace-me', body: { ...o, spec: { x: 2 } } }),
    );
    expect(stale).toMatchObject({ code: 409, status: { reason: 'Conflict' } });
    const { resourceVersion: _rv, ...meta } = updated.metadata;
    const noRv = await apiError(
      custom.replaceNamespacedCustomObject({
        ...PR,
        name: 'replace-me',
        body: { ...updated, metadata: meta },
      }),
    );
    expect(noRv).toMatchObject({
      code: 422,
      status: { reason: 'Invalid', details: { causes: [{ field: 'metadata.resourceVersion' }] } },
    });
  });

  it('keeps status behind the status subresource, as for CRDs with subresources.status', async () => {
    const o = await custom.createNamespacedCustomObject({
      ...PR,
      body: pr('with-status', {}, { status: { startTime: 'x' } }),
    });
    expect(o.status).toBeUndefined();
    const s = await custom.patchNamespacedCustomObjectStatus(
      { ...PR, name: 'with-status', body: { status: { startTime: 'now' }, spec: { x: 1 } } },
      mergePatch,
    );
    expect(s.status).toEqual({ startTime: 'now' });
    expect(s.spec.x).toBeUndefined();
    const m = await custom.patchNamespacedCustomObject(
      { ...PR, name: 'with-status', body: { status: { startTime: 'changed' } } },
      mergePatch,
    );
    expect(m.status).toEqual({ startTime: 'now' });
  });

  it('validates names and labels (422 Invalid with causes) and needs kind on custom resources (400)', async () => {
    const noName = await apiError(
      custom.createNamespacedCustomObject({ ...PR, body: { ...pr(''), metadata: {} } }),
    );
    expect(noName).toMatchObject({
      code: 422,
      status: {
        reason: 'Invalid',
        details: { causes: [{ reason: 'FieldValueRequired', field: 'metadata.name' }] },
      },
    });
    const badName = await apiError(custom.createNamespacedCustomObject({ ...PR, body: pr('Not_Valid') }));
    expect(badName.status.message).toContain('a lowercase RFC 1123 subdomain');
    const badLabel = await apiError(
      custom.createNamespacedCustomObject({ ...PR, body: pr('ok-name', { user: 'has space' }) }),
    );
    expect(badLabel).toMatchObject({
      code: 422,
      status: { details: { causes: [{ field: 'metadata.labels' }] } },
    });
    const noKind = await apiError(
      custom.createNamespacedCustomObject({ ...PR, body: { metadata: { name: 'x' } } }),
    );
    expect(noKind).toMatchObject({
      code: 400,
      status: { message: expect.stringContaining("Object 'Kind' is missing") },
    });
    const unknown = await apiError(custom.listNamespacedCustomObject({ ...PR, plural: 'pipelinerun' }));
    expect(unknown).toMatchObject({
      code: 404,
      status: { message: 'the server could not find the requested resource' },
    });
  });

  it('deletes (a Status for custom resources) and garbage-collects owned objects', async () => {
    const owner = await custom.createNamespacedCustomObject({ ...PR, body: pr('owner') });
    api.put('taskruns.tekton.dev', {
      metadata: {
        name: 'owner-task',
        namespace: NS,
        ownerReferences: [
          { apiVersion: 'tekton.dev/v1', kind: 'PipelineRun', name: 'owner', uid: owner.metadata.uid },
        ],
      },
    });
    const res = await custom.deleteNamespacedCustomObject({
      ...PR,
      name: 'owner',
      propagationPolicy: 'Background',
    });
    expect(res).toMatchObject({
      kind: 'Status',
      status: 'Success',
      details: { name: 'owner', uid: owner.metadata.uid },
    });
    await api.waitFor('taskruns', NS, 'owner-task', (o) => o === undefined, 2000);
    expect((await apiError(custom.deleteNamespacedCustomObject({ ...PR, name: 'owner' }))).code).toBe(404);
  });
});

describe('fake kube-apiserver: core resources and the test API', () => {
  let api: FakeApiServer;
  let core: k8s.CoreV1Api;
  beforeAll(async () => {
    api = await startFakeApiServer();
    core = api.makeKubeConfig().makeApiClient(k8s.CoreV1Api);
  });
  afterAll(() => api.stop());

  it('serves pods as typed objects and returns the pod on delete', async () => {
    api.put('pods', {
      metadata: { name: 'p1', namespace: NS, labels: { 'tekton.dev/pipelineRun': 'r1' } },
      spec: { containers: [{ name: 'step-a', image: 'x' }] },
      status: { phase: 'Running', startTime: '2026-01-01T00:00:00Z' },
    });
    const pod = await core.readNamespacedPod({ namespace: NS, name: 'p1' });
    expect(pod.status?.phase).toBe('Running');
    expect(pod.status?.startTime).toBeInstanceOf(Date);
    const list = await core.listNamespacedPod({ namespace: NS, labelSelector: 'tekton.dev/pipelineRun=r1' });
    expect(list.items.map((p) => p.metadata?.name)).toEqual(['p1']);
    expect(list.kind).toBe('PodList');
    const phase = await core.listNamespacedPod({ namespace: NS, fieldSelector: 'status.phase=Succeeded' });
    expect(phase.items).toEqual([]);
    const deleted = await core.deleteNamespacedPod({ namespace: NS, name: 'p1' });
    expect(deleted.metadata?.name).toBe('p1');
    expect(api.get('pods', NS, 'p1')).toBeUndefined();
  });

  it('answers discovery for KubernetesObjectApi', async () => {
    const objects = k8s.KubernetesObjectApi.makeApiClient(api.makeKubeConfig());
    const created = await objects.create({
      apiVersion: 'tekton.dev/v1',
      kind: 'PipelineRun',
      metadata: { name: 'via-object-api', namespace: NS },
      spec: {},
    } as k8s.KubernetesObject);
    expect(created.metadata?.uid).toEqual(expect.any(String));
  });

  it('writes a kubeconfig file client-node loads (plain http, bearer token, default namespace)', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(api.kubeconfigFile({ namespace: NS }));
    expect(kc.getCurrentCluster()?.server).toBe(api.url);
    expect(kc.getContextObject(kc.getCurrentContext())?.namespace).toBe(NS);
    const list = await kc.makeApiClient(k8s.CoreV1Api).listNamespacedPod({ namespace: NS });
    expect(list.kind).toBe('PodList');
  });

  it('requires the kubeconfig token', async () => {
    const res = await fetch(`${api.url}/api/v1/namespaces/${NS}/pods`);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
  });

  it('records every request with its method, path, query and content type', async () => {
    api.requests.length = 0;
    await core.listNamespacedPod({ namespace: NS, labelSelector: 'a=b', limit: 5 });
    expect(api.requests).toEqual([
      expect.objectContaining({
        method: 'GET',
        path: `/api/v1/namespaces/${NS}/pods`,
        query: { labelSelector: 'a=b', limit: '5' },
        status: 200,
      }),
    ]);
  });

  it('runs admission hooks that can mutate or deny', async () => {
    const off = api.admission('configmaps', (req) => {
      if (req.object.data?.forbidden)
        return {
          allowed: false,
          code: 422,
          message: 'no forbidden keys',
          causes: [{ field: 'data.forbidden' }],
        };
      req.object.metadata.labels = { ...req.object.metadata.labels, mutated: 'yes' };
      return undefined;
    });
    const ok = await core.createNamespacedConfigMap({
      namespace: NS,
      body: { metadata: { name: 'cm1' }, data: { a: '1' } },
    });
    expect(ok.metadata?.labels).toEqual({ mutated: 'yes' });
    const denied = await apiError(
      core.createNamespacedConfigMap({
        namespace: NS,
        body: { metadata: { name: 'cm2' }, data: { forbidden: '1' } },
      }),
    );
    expect(denied).toMatchObject({ code: 422, status: { reason: 'Invalid', message: 'no forbidden keys' } });
    off();
  });
});

describe('fake kube-apiserver: RBAC from tekton/rbac.yaml', () => {
  it('forbids what the builds API Role does not grant', async () => {
    await using api = await startFakeApiServer({
      rbac: {
        rules: loadRoleRules(path.join(REPO, 'tekton/rbac.yaml'), 'builds-api-access'),
        namespace: NS,
        user: 'system:serviceaccount:builds-api:builds-api',
      },
    });
    const kc = api.makeKubeConfig();
    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const o = await custom.createNamespacedCustomObject({ ...PR, body: pr('rbac-run') });
    await custom.patchNamespacedCustomObject({
      ...PR,
      name: 'rbac-run',
      body: [{ op: 'add', path: '/spec/status', value: 'Cancelled' }],
    });
    // Update (PUT) is not granted: cancelling with replace, as upstream's builds-api does, is refused.
    const put = await apiError(custom.replaceNamespacedCustomObject({ ...PR, name: 'rbac-run', body: o }));
    expect(put).toMatchObject({ code: 403, status: { reason: 'Forbidden' } });
    expect(put.status.message).toBe(
      'pipelineruns.tekton.dev "rbac-run" is forbidden: User "system:serviceaccount:builds-api:builds-api" cannot update resource "pipelineruns" in API group "tekton.dev" in the namespace "image-build"',
    );
    expect((await apiError(core.deleteNamespacedPod({ namespace: NS, name: 'x' }))).code).toBe(403);
    expect((await apiError(core.listNamespacedPod({ namespace: 'default' }))).code).toBe(403);
    expect((await core.listNamespacedPod({ namespace: NS })).items).toEqual([]);
  });
});
