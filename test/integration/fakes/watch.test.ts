// Watches through client-node's Watch: event order, resuming without gaps or duplicates, 410 after
// compaction, dropped streams, selector semantics, bookmarks, and an informer on top.
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeApiServer, startFakeApiServer } from '../../fakes/kube-apiserver.ts';
import { mergePatch, NS, PR, sleep } from './helpers.ts';

const PATH = `/apis/tekton.dev/v1/namespaces/${NS}/pipelineruns`;

interface Seen {
  events: { type: string; name: string; rv: string; obj: any }[];
  done: Promise<unknown>;
  controller: AbortController;
}

async function watch(
  kc: k8s.KubeConfig,
  query: Record<string, string | number | boolean | undefined> = {},
): Promise<Seen> {
  const events: Seen['events'] = [];
  let finish!: (e: unknown) => void;
  const done = new Promise((r) => (finish = r));
  const controller = await new k8s.Watch(kc).watch(
    PATH,
    query,
    (type, obj) => events.push({ type, name: obj?.metadata?.name, rv: obj?.metadata?.resourceVersion, obj }),
    (err) => finish(err ?? 'closed'),
  );
  return { events, done, controller };
}

async function until(check: () => boolean, ms = 2000) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(5);
  }
}

const body = (name: string, labels: Record<string, string> = {}) => ({
  apiVersion: 'tekton.dev/v1',
  kind: 'PipelineRun',
  metadata: { name, labels },
  spec: {},
});

describe('fake kube-apiserver: watch', () => {
  let api: FakeApiServer;
  let kc: k8s.KubeConfig;
  let custom: k8s.CustomObjectsApi;
  beforeAll(async () => {
    api = await startFakeApiServer({ historyLimit: 1000 });
    kc = api.makeKubeConfig();
    custom = kc.makeApiClient(k8s.CustomObjectsApi);
  });
  afterAll(() => api.stop());

  it('sends synthetic ADDED for existing objects, then ADDED/MODIFIED/DELETED in order', async () => {
    await custom.createNamespacedCustomObject({ ...PR, body: body('w-existing') });
    const w = await watch(kc);
    await until(() => w.events.length === 1);
    expect(w.events[0]).toMatchObject({ type: 'ADDED', name: 'w-existing' });
    await custom.createNamespacedCustomObject({ ...PR, body: body('w-new') });
    await custom.patchNamespacedCustomObject(
      { ...PR, name: 'w-new', body: { spec: { status: 'Cancelled' } } },
      mergePatch,
    );
    await custom.deleteNamespacedCustomObject({ ...PR, name: 'w-new' });
    await until(() => w.events.length === 4);
    expect(w.events.slice(1).map((e) => `${e.type} ${e.name}`)).toEqual([
      'ADDED w-new',
      'MODIFIED w-new',
      'DELETED w-new',
    ]);
    expect(w.events[2]!.obj.spec.status).toBe('Cancelled');
    const rvs = w.events.slice(1).map((e) => Number(e.rv));
    expect(rvs).toEqual([...rvs].sort((a, b) => a - b));
    w.controller.abort();
    await w.done;
  });

  it('resumes from a resourceVersion with no duplicates and no gaps', async () => {
    const list = await custom.listNamespacedCustomObject({ ...PR });
    const w1 = await watch(kc, { resourceVersion: list.metadata.resourceVersion });
    await custom.createNamespacedCustomObject({ ...PR, body: body('r-1') });
    await until(() => w1.events.length === 1);
    const last = w1.events[0]!.rv;
    w1.controller.abort();
    await w1.done;
    // Changes made while nobody watches.
    await custom.createNamespacedCustomObject({ ...PR, body: body('r-2') });
    await custom.patchNamespacedCustomObject({ ...PR, name: 'r-1', body: { spec: { x: 1 } } }, mergePatch);
    const w2 = await watch(kc, { resourceVersion: last });
    await custom.createNamespacedCustomObject({ ...PR, body: body('r-3') });
    await until(() => w2.events.length === 3);
    await sleep(50);
    expect(w2.events.map((e) => `${e.type} ${e.name}`)).toEqual(['ADDED r-2', 'MODIFIED r-1', 'ADDED r-3']);
    w2.controller.abort();
  });

  it('answers a watch from a compacted resourceVersion with an ERROR event carrying a 410 Status, then ends', async () => {
    const old = (await custom.listNamespacedCustomObject({ ...PR })).metadata.resourceVersion;
    await custom.createNamespacedCustomObject({ ...PR, body: body('c-1') });
    api.compactHistory();
    const w = await watch(kc, { resourceVersion: old });
    expect(await w.done).toBe('closed');
    expect(w.events).toHaveLength(1);
    expect(w.events[0]!.type).toBe('ERROR');
    expect(w.events[0]!.obj).toMatchObject({ kind: 'Status', code: 410, reason: 'Expired' });
    // From the current resourceVersion all is well.
    const w2 = await watch(kc, { resourceVersion: api.resourceVersion });
    await custom.createNamespacedCustomObject({ ...PR, body: body('c-2') });
    await until(() => w2.events.length === 1);
    expect(w2.events[0]).toMatchObject({ type: 'ADDED', name: 'c-2' });
    w2.controller.abort();
  });

  it('dropWatches() ends open streams abruptly (done gets an error); endWatches() cleanly', async () => {
    const w = await watch(kc, { resourceVersion: api.resourceVersion });
    await until(() => api.openWatches === 1);
    expect(api.dropWatches()).toBe(1);
    const err = await w.done;
    expect(err).toBeInstanceOf(Error);
    const w2 = await watch(kc, { resourceVersion: api.resourceVersion });
    await until(() => api.openWatches === 1);
    api.endWatches();
    expect(await w2.done).toBe('closed');
  });

  it('keeps resourceVersion order when a controller writes from inside a change listener', async () => {
    const off = api.onChange((e) => {
      if (e.type === 'ADDED' && e.object.metadata.name === 'ctl-1') {
        api.put('pipelineruns.tekton.dev', { ...e.object, status: { seen: true } });
      }
    });
    const w = await watch(kc, { resourceVersion: api.resourceVersion });
    await custom.createNamespacedCustomObject({ ...PR, body: body('ctl-1') });
    await until(() => w.events.length === 2);
    off();
    expect(w.events.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED']);
    expect(Number(w.events[1]!.rv)).toBeGreaterThan(Number(w.events[0]!.rv));
    expect(w.events[1]!.obj.status).toEqual({ seen: true });
    w.controller.abort();
  });

  it('serves the legacy /watch/ paths too', async () => {
    const events: string[] = [];
    const c = await new k8s.Watch(kc).watch(
      `/apis/tekton.dev/v1/watch/namespaces/${NS}/pipelineruns`,
      { resourceVersion: api.resourceVersion },
      (type, obj) => events.push(`${type} ${obj.metadata.name}`),
      () => undefined,
    );
    await custom.createNamespacedCustomObject({ ...PR, body: body('legacy') });
    await until(() => events.length === 1);
    expect(events).toEqual(['ADDED legacy']);
    c.abort();
  });

  it('honours timeoutSeconds', async () => {
    const w = await watch(kc, { resourceVersion: api.resourceVersion, timeoutSeconds: 1 });
    const t0 = Date.now();
    expect(await w.done).toBe('closed');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
  });

  it('applies selectors: an object that stops matching is DELETED for the watcher, one that starts matching is ADDED', async () => {
    const w = await watch(kc, { labelSelector: 'team=a', resourceVersion: api.resourceVersion });
    await custom.createNamespacedCustomObject({ ...PR, body: body('s-1', { team: 'a' }) });
    await custom.createNamespacedCustomObject({ ...PR, body: body('s-2', { team: 'b' }) });
    await custom.patchNamespacedCustomObject(
      { ...PR, name: 's-1', body: { metadata: { labels: { team: 'b' } } } },
      mergePatch,
    );
    await custom.patchNamespacedCustomObject(
      { ...PR, name: 's-2', body: { metadata: { labels: { team: 'a' } } } },
      mergePatch,
    );
    await until(() => w.events.length === 3);
    expect(w.events.map((e) => `${e.type} ${e.name}`)).toEqual(['ADDED s-1', 'DELETED s-1', 'ADDED s-2']);
    const byName = await watch(kc, { fieldSelector: 'metadata.name=s-2' });
    await until(() => byName.events.length === 1);
    expect(byName.events[0]!.name).toBe('s-2');
    w.controller.abort();
    byName.controller.abort();
  });

  it('sends bookmarks when allowed, with only metadata.resourceVersion', async () => {
    const w = await watch(kc, { resourceVersion: api.resourceVersion, allowWatchBookmarks: true });
    await until(() => api.openWatches >= 1);
    api.bookmark();
    await until(() => w.events.some((e) => e.type === 'BOOKMARK'));
    const b = w.events.find((e) => e.type === 'BOOKMARK')!;
    expect(b.obj).toEqual({
      kind: 'PipelineRun',
      apiVersion: 'tekton.dev/v1',
      metadata: { resourceVersion: api.resourceVersion },
    });
    w.controller.abort();
  });

  it('works under client-node informers (list + watch)', async () => {
    const informer = k8s.makeInformer(
      kc,
      PATH,
      () => custom.listNamespacedCustomObject({ ...PR }),
      'team=inf',
    );
    const added: string[] = [];
    const deleted: string[] = [];
    informer.on('add', (o) => added.push(o.metadata!.name!));
    informer.on('delete', (o) => deleted.push(o.metadata!.name!));
    await informer.start();
    await custom.createNamespacedCustomObject({ ...PR, body: body('inf-1', { team: 'inf' }) });
    await until(() => added.includes('inf-1'));
    await custom.deleteNamespacedCustomObject({ ...PR, name: 'inf-1' });
    await until(() => deleted.includes('inf-1'));
    await informer.stop();
  });
});
