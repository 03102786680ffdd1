// Watch streams: newline-delimited JSON events over a chunked HTTP 200 response, as the apiserver sends.
import type { ServerResponse } from 'node:http';
import { failureStatus } from './errors.ts';
import { apiVersionOf, type ResourceDef } from './resources.ts';
import { matches, type Selector } from './selectors.ts';
import type { KubeObject, Store, StoreEvent } from './store.ts';

export interface WatchRequest {
  def: ResourceDef;
  version: string;
  namespace: string | undefined;
  selector: Selector;
  resourceVersion: string | undefined;
  timeoutSeconds: number | undefined;
  allowBookmarks: boolean;
  sendInitialEvents: boolean;
}

type Out = { type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR'; object: unknown };

interface OpenWatch {
  res: ServerResponse;
  bookmark(): void;
  end(): void;
}

export class WatchHub {
  readonly #store: Store;
  readonly #open = new Set<OpenWatch>();
  readonly #bookmarkMs: number;

  constructor(store: Store, bookmarkIntervalMs: number) {
    this.#store = store;
    this.#bookmarkMs = bookmarkIntervalMs;
  }

  get count(): number {
    return this.#open.size;
  }

  serve(w: WatchRequest, res: ServerResponse): void {
    const store = this.#store;
    const apiVersion = apiVersionOf(w.def, w.version);
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Cache-Control': 'no-cache, private',
      'Transfer-Encoding': 'chunked',
    });
    res.flushHeaders();
    const send = (e: Out) => {
      if (!res.writableEnded && !res.destroyed) res.write(`${JSON.stringify(e)}\n`);
    };
    const view = (o: KubeObject, rv?: number): KubeObject => {
      const v = { ...o, apiVersion, kind: w.def.kind, metadata: { ...o.metadata } };
      if (rv !== undefined) v.metadata.resourceVersion = String(rv);
      return v;
    };
    const inScope = (o: KubeObject) =>
      !w.def.namespaced || w.namespace === undefined || o.metadata.namespace === w.namespace;
    const translate = (e: StoreEvent): Out | undefined => {
      if (e.resource !== w.def && (e.resource.group !== w.def.group || e.resource.plural !== w.def.plural))
        return;
      if (!inScope(e.object)) return;
      const now = matches(w.selector, e.object);
      const before = e.oldObject ? matches(w.selector, e.oldObject) : false;
      switch (e.type) {
        case 'ADDED':
          return now ? { type: 'ADDED', object: view(e.object) } : undefined;
        case 'DELETED':
          return before || now ? { type: 'DELETED', object: view(e.object) } : undefined;
        case 'MODIFIED':
          if (now && before) return { type: 'MODIFIED', object: view(e.object) };
          if (now) return { type: 'ADDED', object: view(e.object) };
          // It stopped matching the selector: to this watcher it was deleted (watch cache semantics).
          if (before) return { type: 'DELETED', object: view(e.oldObject!, e.rv) };
      }
      return undefined;
    };
    const bookmarkObject = (initialEnd = false) => ({
      kind: w.def.kind,
      apiVersion,
      metadata: {
        resourceVersion: String(store.rv),
        ...(initialEnd ? { annotations: { 'k8s.io/initial-events-end': 'true' } } : {}),
      },
    });

    const rvParam = w.resourceVersion;
    const fromList = rvParam === undefined || rvParam === '' || rvParam === '0' || w.sendInitialEvents;
    let replay: Out[];
    if (fromList) {
      replay = store
        .list(w.def, w.def.namespaced ? w.namespace : undefined, w.selector)
        .map((o) => ({ type: 'ADDED', object: view(o) }));
    } else {
      const after = store.eventsAfter(Number(rvParam));
      if (!after) {
        send({
          type: 'ERROR',
          object: failureStatus(
            410,
            'Expired',
            `too old resource version: ${rvParam} (${store.compactedRv + 1})`,
          ),
        });
        res.end();
        return;
      }
      replay = after.map(translate).filter((e): e is Out => e !== undefined);
    }
    const startRv = store.rv;
    for (const e of replay) send(e);
    if (w.sendInitialEvents && w.allowBookmarks) send({ type: 'BOOKMARK', object: bookmarkObject(true) });

    const unsubscribe = store.subscribe((e) => {
      if (e.rv <= startRv) return;
      const out = translate(e);
      if (out) send(out);
    });
    const timers: NodeJS.Timeout[] = [];
    const open: OpenWatch = {
      res,
      bookmark: () => w.allowBookmarks && send({ type: 'BOOKMARK', object: bookmarkObject() }),
      end: () => res.end(),
    };
    if (w.allowBookmarks && this.#bookmarkMs > 0) timers.push(setInterval(open.bookmark, this.#bookmarkMs));
    if (w.timeoutSeconds !== undefined && w.timeoutSeconds > 0) {
      timers.push(setTimeout(() => res.end(), w.timeoutSeconds * 1000));
    }
    this.#open.add(open);
    res.on('close', () => {
      unsubscribe();
      for (const t of timers) clearTimeout(t);
      this.#open.delete(open);
    });
  }

  /** End every open watch abruptly (the connection is reset mid-stream). */
  dropAll(): number {
    const n = this.#open.size;
    for (const w of [...this.#open]) w.res.socket?.destroy();
    return n;
  }

  /** End every open watch cleanly (as when the apiserver's watch timeout elapses). */
  endAll(): number {
    const n = this.#open.size;
    for (const w of [...this.#open]) w.end();
    return n;
  }

  bookmarkAll(): void {
    for (const w of this.#open) w.bookmark();
  }
}
