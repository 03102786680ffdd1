// Fault injection: injected statuses, reset connections, hung requests, an apiserver that is down.
import * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { startFakeApiServer } from '../../fakes/kube-apiserver.ts';
import { apiError, NS, PR } from './helpers.ts';

const body = (name: string) => ({
  apiVersion: 'tekton.dev/v1',
  kind: 'PipelineRun',
  metadata: { name },
  spec: {},
});

describe('fake kube-apiserver: faults', () => {
  it('fails matching requests with a Status (503 on a create), a given number of times', async () => {
    await using api = await startFakeApiServer();
    const custom = api.makeKubeConfig().makeApiClient(k8s.CustomObjectsApi);
    const fault = api.fail({ method: 'POST', path: /\/pipelineruns$/, status: 503, times: 1 });
    const e = await apiError(custom.createNamespacedCustomObject({ ...PR, body: body('a') }));
    expect(e).toMatchObject({
      code: 503,
      status: { kind: 'Status', reason: 'ServiceUnavailable', code: 503 },
    });
    expect(fault).toMatchObject({ remaining: 0, hits: 1 });
    expect(api.get('pipelineruns', NS, 'a')).toBeUndefined();
    // The retry goes through; other methods were never affected.
    await custom.createNamespacedCustomObject({ ...PR, body: body('a') });
    expect((await custom.listNamespacedCustomObject({ ...PR })).items).toHaveLength(1);
    api.fail({ path: /pipelineruns/, status: 429, times: Infinity });
    expect(
      (await apiError(custom.listNamespacedCustomObject({ ...PR }))).status.details.retryAfterSeconds,
    ).toBe(1);
    api.clearFaults();
    await custom.listNamespacedCustomObject({ ...PR });
  });

  it('resets the connection: the client sees a network error, not an HTTP status', async () => {
    await using api = await startFakeApiServer();
    const custom = api.makeKubeConfig().makeApiClient(k8s.CustomObjectsApi);
    api.fail({ method: 'GET', status: 'reset' });
    const err = await custom.getNamespacedCustomObject({ ...PR, name: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(k8s.ApiException);
    expect((await apiError(custom.getNamespacedCustomObject({ ...PR, name: 'x' }))).code).toBe(404);
  });

  it("never answers a 'timeout' request (the client's own deadline decides)", async () => {
    await using api = await startFakeApiServer();
    api.fail({ path: /pods/, status: 'timeout' });
    const res = fetch(`${api.url}/api/v1/namespaces/${NS}/pods`, {
      headers: { authorization: `Bearer ${api.token}` },
      signal: AbortSignal.timeout(200),
    });
    await expect(res).rejects.toThrow(/timeout|abort/i);
  });

  it('delays requests without failing them', async () => {
    await using api = await startFakeApiServer();
    const core = api.makeKubeConfig().makeApiClient(k8s.CoreV1Api);
    api.fail({ delayMs: 150 });
    const t0 = Date.now();
    await core.listNamespacedPod({ namespace: NS });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
  });

  it("down() answers 503 to everything and ends open watches; down('refuse') closes the port; up() restores", async () => {
    await using api = await startFakeApiServer();
    const kc = api.makeKubeConfig();
    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    await custom.createNamespacedCustomObject({ ...PR, body: body('kept') });
    let done: (e: unknown) => void = () => undefined;
    const watchEnded = new Promise((r) => (done = r));
    await new k8s.Watch(kc).watch(
      `/apis/tekton.dev/v1/namespaces/${NS}/pipelineruns`,
      {},
      () => undefined,
      done,
    );

    await api.down();
    expect(await watchEnded).toBeInstanceOf(Error);
    expect((await apiError(custom.listNamespacedCustomObject({ ...PR }))).code).toBe(503);
    await api.up();
    expect((await custom.listNamespacedCustomObject({ ...PR })).items).toHaveLength(1);

    await api.down('refuse');
    const refused = await custom.listNamespacedCustomObject({ ...PR }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(Error);
    expect(refused).not.toBeInstanceOf(k8s.ApiException);
    await api.up();
    // Same URL, same store.
    expect(
      (await custom.listNamespacedCustomObject({ ...PR })).items.map((o: any) => o.metadata.name),
    ).toEqual(['kept']);
  });
});
