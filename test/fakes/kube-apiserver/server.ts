// The fake kube-apiserver: an HTTP server on 127.0.0.1 that @kubernetes/client-node talks to for real,
// plus a test API to read and write its store, script container logs and inject faults.
// It is a test double, not a cluster: see test/fakes/README.md for what it does and does not model.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { errorForCode, errors, KubeError } from './errors.ts';
import * as h from './handlers.ts';
import { type ContainerState, containerStatus, LogHub } from './logs.ts';
import { authorize, type RbacOptions } from './rbac.ts';
import {
  apiVersionOf,
  DEFAULT_RESOURCES,
  type ResourceDef,
  type ResourceRef,
  ResourceRegistry,
} from './resources.ts';
import { discovery, route, verbOf } from './routing.ts';
import { matches, parseFieldSelector, parseLabelSelector } from './selectors.ts';
import { type KubeObject, kubeTime, Store, type StoreEvent } from './store.ts';
import { WatchHub } from './watch.ts';

export interface FakeApiServerOptions {
  /** Bearer token the kubeconfig carries and every request must present (401 otherwise). */
  token?: string;
  /** Extra resources to serve, on top of core ones and Tekton's. */
  resources?: ResourceDef[];
  /** Serve any plural under any group (a generic store) instead of 404 for unknown resources. */
  anyResource?: boolean;
  /** Events kept for watches to resume from; a watch from an older resourceVersion gets 410. */
  historyLimit?: number;
  /** BOOKMARK interval for watches that allow them (the real apiserver: about a minute). */
  bookmarkIntervalMs?: number;
  /** Authorize kubeconfig requests against a Role's rules (see loadRoleRules). */
  rbac?: RbacOptions;
  /** Default namespace written into the kubeconfig's context. */
  namespace?: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType: string | undefined;
  body?: unknown;
  status?: number;
  time: Date;
}

export interface Fault {
  method?: string;
  /** Matched against the URL path (without the query string). */
  path?: RegExp;
  /** How many matching requests fail (default 1; Infinity for all). */
  times?: number;
  /** An HTTP status answered with a Status body, 'timeout' (never answered) or 'reset' (socket destroyed). */
  status?: number | 'timeout' | 'reset';
  message?: string;
  /** Wait this long before failing (or, without `status`, before serving the request normally). */
  delayMs?: number;
}

export interface FaultHandle {
  /** Matching requests still to fail. */
  readonly remaining: number;
  /** Requests this fault has hit so far. */
  readonly hits: number;
  cancel(): void;
}

export interface WatchOptions {
  labelSelector?: string;
  fieldSelector?: string;
}

export interface FakeApiServer extends AsyncDisposable {
  readonly url: string;
  readonly token: string;
  /** Every request received, in order (method, path, query, content type, parsed body, status). */
  readonly requests: RecordedRequest[];
  /** Kubeconfig YAML pointing at the fake over plain http (insecure-skip-tls-verify) with the token. */
  kubeconfig(opts?: { namespace?: string }): string;
  /** A KubeConfig loaded from kubeconfig(). */
  makeKubeConfig(opts?: { namespace?: string }): KubeConfig;
  /** kubeconfig() written to a temporary file (removed by stop()); for KUBECONFIG=... */
  kubeconfigFile(opts?: { namespace?: string }): string;

  get(resource: ResourceRef, namespace: string | undefined, name: string): KubeObject | undefined;
  objects(resource: ResourceRef, namespace?: string, selector?: WatchOptions): KubeObject[];
  /** Create or replace (no checks, no admission); bumps resourceVersion and notifies watchers. */
  put(
    resource: ResourceRef,
    object: Omit<KubeObject, 'metadata'> & { metadata: Partial<KubeObject['metadata']> },
  ): KubeObject;
  /** Delete (with owner-reference garbage collection); false if absent. */
  delete(resource: ResourceRef, namespace: string | undefined, name: string): boolean;
  /** Every store change, synchronously. Returns an unsubscribe function. */
  onChange(listener: (e: StoreEvent) => void): () => void;
  /** Resolve with the object once `predicate` holds (checked now and on every change). */
  waitFor(
    resource: ResourceRef,
    namespace: string | undefined,
    name: string,
    predicate: (o: KubeObject | undefined) => boolean,
    timeoutMs?: number,
  ): Promise<KubeObject | undefined>;

  /** Add log line(s) to a container of an existing pod (served by pods/log, live to followers). */
  appendLog(namespace: string, pod: string, container: string, line: string, time?: Date): void;
  /** The lines logged so far (time: RFC 3339 with nanoseconds). */
  logLines(namespace: string, pod: string, container: string): { time: string; text: string }[];
  /** Set a container's state in the pod's status (creating the status entry); bumps resourceVersion. */
  setContainerState(namespace: string, pod: string, container: string, state: ContainerState): KubeObject;

  /** A hook run on create/update of `plural` (after name generation); it may mutate the object or deny. */
  admission(plural: string, hook: h.AdmissionHook): () => void;

  fail(fault: Fault): FaultHandle;
  clearFaults(): void;
  /** Reset every open watch and log-follow connection mid-stream; returns how many. */
  dropWatches(): number;
  /** End every open watch cleanly (as the apiserver's watch timeout does); returns how many. */
  endWatches(): number;
  /** Send a BOOKMARK now on every watch that allows them. */
  bookmark(): void;
  /** Forget the event history: the next watch from an older resourceVersion gets 410 Expired. */
  compactHistory(): void;
  /** The current (global) resourceVersion. */
  readonly resourceVersion: string;
  readonly openWatches: number;
  /** 'unavailable' answers every request 503; 'refuse' closes the port. Both reset open streams. */
  down(mode?: 'unavailable' | 'refuse'): Promise<void>;
  up(): Promise<void>;
  stop(): Promise<void>;
}

interface ActiveFault extends Fault {
  left: number;
  hits: number;
}

export async function startFakeApiServer(opts: FakeApiServerOptions = {}): Promise<FakeApiServer> {
  const token = opts.token ?? randomBytes(16).toString('hex');
  const registry = new ResourceRegistry([...DEFAULT_RESOURCES, ...(opts.resources ?? [])], opts.anyResource);
  const store = new Store(opts.historyLimit);
  const watches = new WatchHub(store, opts.bookmarkIntervalMs ?? 2000);
  const logs = new LogHub(store);
  const hooks = new Map<string, Set<h.AdmissionHook>>();
  const ctx: h.Ctx = { store, watches, logs, hooks };
  const requests: RecordedRequest[] = [];
  let faults: ActiveFault[] = [];
  let mode: 'up' | 'unavailable' | 'refuse' = 'up';
  const sockets = new Set<Socket>();
  const hanging = new Set<ServerResponse>();
  const tmpDirs: string[] = [];

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      h.sendError(
        res,
        err instanceof KubeError ? err : errors.internal(String((err as Error)?.stack ?? err)),
      );
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    const contentType = req.headers['content-type']?.split(';')[0]?.trim();
    const raw = method === 'GET' ? Buffer.alloc(0) : await h.readBody(req);
    const record: RecordedRequest = {
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      contentType,
      time: new Date(),
    };
    requests.push(record);
    res.on('finish', () => (record.status = res.statusCode));
    res.on('close', () => (record.status ??= res.headersSent ? res.statusCode : undefined));
    let body: unknown;
    if (raw.length) {
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        body = raw.toString('utf8');
      }
      record.body = body;
    }

    if (mode === 'unavailable') throw errors.unavailable();
    const fault = faults.find(
      (f) =>
        f.left > 0 &&
        (!f.method || f.method.toUpperCase() === method) &&
        (!f.path || f.path.test(url.pathname)),
    );
    if (fault) {
      fault.left--;
      fault.hits++;
      if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
      if (fault.status === 'reset') {
        req.socket.destroy();
        return;
      }
      if (fault.status === 'timeout') {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      if (typeof fault.status === 'number') throw errorForCode(fault.status, fault.message);
    }
    if (req.headers.authorization !== `Bearer ${token}`) throw errors.unauthorized();

    const segs = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (discovery(registry, segs, res)) return;
    if (segs[0] === 'healthz' || segs[0] === 'readyz' || segs[0] === 'livez') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('ok');
      return;
    }
    const t = route(registry, segs, url.searchParams);
    const verb = verbOf(method, t);
    if (opts.rbac) {
      authorize(opts.rbac, {
        verb,
        group: t.def.group,
        resource: t.subresource ? `${t.def.plural}/${t.subresource}` : t.def.plural,
        namespace: t.namespace,
        name: t.name,
      });
    }
    switch (verb) {
      case 'create':
        return h.create(ctx, t, url.searchParams, body, res);
      case 'get':
        return t.subresource === 'log' ? h.podLog(ctx, t, url.searchParams, res) : h.get(ctx, t, res);
      case 'list':
        return h.list(ctx, t, url.searchParams, res);
      case 'watch':
        return h.watch(ctx, t, url.searchParams, res);
      case 'update':
        return h.update(ctx, t, url.searchParams, body, res);
      case 'patch':
        return h.patch(ctx, t, url.searchParams, body, contentType ?? '', res);
      case 'delete':
        return h.remove(ctx, t, url.searchParams, body, res);
      case 'deletecollection':
        return h.removeCollection(ctx, t, url.searchParams, body, res);
    }
    throw errors.methodNotAllowed(method);
  }

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  let port = 0;
  await listen();
  port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;

  const resetStreams = () => {
    const n = watches.dropAll() + logs.dropAll();
    for (const r of hanging) r.socket?.destroy();
    return n;
  };

  const kubeconfig = (o: { namespace?: string } = {}) =>
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'fake', cluster: { server: url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'fake', user: { token } }],
      contexts: [
        {
          name: 'fake',
          context: {
            cluster: 'fake',
            user: 'fake',
            ...((o.namespace ?? opts.namespace) ? { namespace: o.namespace ?? opts.namespace } : {}),
          },
        },
      ],
      'current-context': 'fake',
    });

  const podDef = registry.resolve('pods');
  const mustPod = (ns: string, name: string) => {
    const pod = store.get(podDef, ns, name);
    if (!pod) throw new Error(`fake apiserver: no pod ${ns}/${name}`);
    return pod;
  };

  let stopped = false;
  const api: FakeApiServer = {
    url,
    token,
    requests,
    kubeconfig,
    makeKubeConfig(o) {
      const kc = new KubeConfig();
      kc.loadFromString(kubeconfig(o));
      return kc;
    },
    kubeconfigFile(o) {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'fake-kube-'));
      tmpDirs.push(dir);
      const file = path.join(dir, 'config');
      writeFileSync(file, kubeconfig(o), { mode: 0o600 });
      return file;
    },
    get: (r, ns, name) => store.get(registry.resolve(r), ns, name),
    objects(r, ns, sel) {
      const def = registry.resolve(r);
      const selector = {
        labels: parseLabelSelector(sel?.labelSelector),
        fields: parseFieldSelector(sel?.fieldSelector, def),
      };
      return store.list(def, ns).filter((o) => matches(selector, o));
    },
    put(r, o) {
      const def = registry.resolve(r);
      return store.put(def, { apiVersion: apiVersionOf(def), kind: def.kind, ...o } as KubeObject);
    },
    delete(r, ns, name) {
      try {
        store.remove(registry.resolve(r), ns, name);
        return true;
      } catch (e) {
        if (e instanceof KubeError && e.code === 404) return false;
        throw e;
      }
    },
    onChange: (fn) => store.subscribe(fn),
    waitFor(r, ns, name, predicate, timeoutMs = 10_000) {
      const def = registry.resolve(r);
      return new Promise((resolve, reject) => {
        const check = () => {
          const o = store.get(def, ns, name);
          if (!predicate(o)) return false;
          clearTimeout(timer);
          off();
          resolve(o);
          return true;
        };
        const timer = setTimeout(() => {
          off();
          reject(
            new Error(
              `fake apiserver: timed out waiting for ${def.plural} ${ns}/${name}: ${JSON.stringify(store.get(def, ns, name)?.status ?? null)}`,
            ),
          );
        }, timeoutMs);
        const off = store.subscribe(() => void check());
        check();
      });
    },
    appendLog(ns, pod, container, line, time) {
      logs.append(mustPod(ns, pod), container, line, time);
    },
    logLines: (ns, pod, container) => logs.lines(mustPod(ns, pod), container),
    setContainerState(ns, podName, container, state) {
      const pod = mustPod(ns, podName);
      const init = (pod.spec?.initContainers ?? []).some((c: any) => c.name === container);
      const spec = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find(
        (c: any) => c.name === container,
      );
      if (!spec) throw new Error(`fake apiserver: pod ${ns}/${podName} has no container ${container}`);
      pod.status ??= {};
      const key = init ? 'initContainerStatuses' : 'containerStatuses';
      pod.status[key] ??= [];
      let cs = containerStatus(pod, container);
      if (!cs) {
        cs = {
          name: container,
          image: spec.image,
          imageID: '',
          ready: false,
          restartCount: 0,
          started: false,
          state: {},
        };
        pod.status[key].push(cs);
      }
      const now = kubeTime();
      if ('running' in state) state.running.startedAt ??= now;
      if ('terminated' in state) {
        state.terminated.finishedAt ??= now;
        state.terminated.startedAt ??= cs.state?.running?.startedAt ?? now;
        state.terminated.reason ??= state.terminated.exitCode === 0 ? 'Completed' : 'Error';
      }
      cs.state = state;
      cs.started = 'running' in state;
      cs.ready = 'running' in state;
      return store.update(podDef, pod);
    },
    admission(plural, hook) {
      const set = hooks.get(plural) ?? new Set();
      hooks.set(plural, set);
      set.add(hook);
      return () => set.delete(hook);
    },
    fail(f) {
      const af: ActiveFault = { status: 503, ...f, left: f.times ?? 1, hits: 0 };
      if (f.delayMs && f.status === undefined) delete af.status;
      faults.push(af);
      return {
        get remaining() {
          return af.left;
        },
        get hits() {
          return af.hits;
        },
        cancel: () => {
          af.left = 0;
        },
      };
    },
    clearFaults() {
      faults = [];
    },
    dropWatches: resetStreams,
    endWatches: () => watches.endAll(),
    bookmark: () => watches.bookmarkAll(),
    compactHistory: () => store.compact(),
    get resourceVersion() {
      return String(store.rv);
    },
    get openWatches() {
      return watches.count;
    },
    async down(m = 'unavailable') {
      resetStreams();
      if (m === 'refuse' && mode !== 'refuse') {
        mode = 'refuse';
        const closed = new Promise((r) => server.close(r));
        for (const s of sockets) s.destroy();
        await closed;
      } else mode = m;
    },
    async up() {
      if (mode === 'refuse') await listen();
      mode = 'up';
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      resetStreams();
      for (const s of sockets) s.destroy();
      if (mode !== 'refuse') await new Promise((r) => server.close(r));
      for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
    },
    [Symbol.asyncDispose]() {
      return api.stop();
    },
  };
  return api;
}
