// The object store: one global, increasing resourceVersion (like etcd's revision), a bounded event
// history for watches to resume from, owner-reference garbage collection and consistent list snapshots
// for `limit`/`continue`.
import { randomUUID } from 'node:crypto';
import { errors } from './errors.ts';
import { apiVersionOf, type ResourceDef, resourceKey } from './resources.ts';
import { matches, type Selector } from './selectors.ts';

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid: string;
  resourceVersion: string;
  creationTimestamp: string;
  generation?: number;
  generateName?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
  [key: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [key: string]: any;
}

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: EventType;
  resource: ResourceDef;
  /** The object after the change (for DELETED: the last state, with the deletion's resourceVersion). */
  object: KubeObject;
  /** The object before the change (MODIFIED, DELETED). */
  oldObject?: KubeObject;
  rv: number;
}

export type Propagation = 'Background' | 'Foreground' | 'Orphan';

const SUFFIX_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

export function randomSuffix(n = 5): string {
  let s = '';
  for (let i = 0; i < n; i++) s += SUFFIX_CHARS[Math.floor(Math.random() * SUFFIX_CHARS.length)];
  return s;
}

/** RFC 3339 with second precision, as metav1.Time marshals. */
export function kubeTime(d = new Date()): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as any)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as any)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => deepEqual((a as any)[k], (b as any)[k]));
}

/** Everything except metadata and status: a change here bumps metadata.generation. */
function specPart(o: KubeObject): Record<string, unknown> {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = o;
  return rest;
}

interface Snapshot {
  rv: number;
  items: KubeObject[];
}

export class Store {
  #rv = 0;
  #compactedRv = 0;
  #history: StoreEvent[] = [];
  readonly #objects = new Map<string, { def: ResourceDef; items: Map<string, KubeObject> }>();
  readonly #listeners = new Set<(e: StoreEvent) => void>();
  readonly #snapshots = new Map<string, Snapshot>();
  readonly historyLimit: number;

  constructor(historyLimit = 10_000) {
    this.historyLimit = historyLimit;
  }

  get rv(): number {
    return this.#rv;
  }

  /** Watches from a resourceVersion older than this get 410 Expired. */
  get compactedRv(): number {
    return this.#compactedRv;
  }

  subscribe(fn: (e: StoreEvent) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  #table(def: ResourceDef): Map<string, KubeObject> {
    const k = resourceKey(def);
    let t = this.#objects.get(k);
    if (!t) {
      t = { def, items: new Map() };
      this.#objects.set(k, t);
    }
    return t.items;
  }

  get(def: ResourceDef, ns: string | undefined, name: string): KubeObject | undefined {
    const o = this.#table(def).get(`${ns ?? ''}/${name}`);
    return o && structuredClone(o);
  }

  list(def: ResourceDef, ns: string | undefined, sel?: Selector): KubeObject[] {
    const out: KubeObject[] = [];
    const keys = [...this.#table(def).keys()].sort();
    for (const k of keys) {
      const o = this.#table(def).get(k)!;
      if (ns !== undefined && def.namespaced && o.metadata.namespace !== ns) continue;
      if (sel && !matches(sel, o)) continue;
      out.push(structuredClone(o));
    }
    return out;
  }

  /** A page of a list, from a consistent snapshot like etcd's (the continue token names the snapshot). */
  page(
    def: ResourceDef,
    ns: string | undefined,
    sel: Selector,
    limit: number | undefined,
    token: string | undefined,
  ): { items: KubeObject[]; rv: number; continue?: string; remaining?: number } {
    let snap: Snapshot;
    let offset = 0;
    if (token) {
      const [id, off] = Buffer.from(token, 'base64url').toString().split(':');
      const s = this.#snapshots.get(id ?? '');
      if (!s || s.rv < this.#compactedRv) {
        throw errors.expired(
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
        );
      }
      snap = s;
      offset = Number(off);
    } else snap = { rv: this.#rv, items: this.list(def, ns, sel) };
    if (!limit || limit <= 0 || offset + limit >= snap.items.length) {
      return { items: snap.items.slice(offset), rv: snap.rv };
    }
    const id = randomUUID();
    this.#snapshots.set(id, snap);
    while (this.#snapshots.size > 100) this.#snapshots.delete(this.#snapshots.keys().next().value!);
    const next = offset + limit;
    return {
      items: snap.items.slice(offset, next),
      rv: snap.rv,
      continue: Buffer.from(`${id}:${next}`).toString('base64url'),
      remaining: snap.items.length - next,
    };
  }

  create(
    def: ResourceDef,
    ns: string | undefined,
    input: KubeObject,
    opts: { dryRun?: boolean } = {},
  ): KubeObject {
    const obj: KubeObject = structuredClone(input);
    obj.metadata ??= {} as ObjectMeta;
    const m = obj.metadata;
    const table = this.#table(def);
    if (!m.name && m.generateName) {
      const base = m.generateName.slice(0, 58);
      for (let i = 0; i < 8 && (!m.name || table.has(`${ns ?? ''}/${m.name}`)); i++)
        m.name = base + randomSuffix();
    }
    const key = `${def.namespaced ? (ns ?? '') : ''}/${m.name}`;
    if (table.has(key)) throw errors.alreadyExists(def.group, def.plural, m.name);
    if (def.namespaced) m.namespace = ns;
    else delete m.namespace;
    m.uid = randomUUID();
    m.creationTimestamp = kubeTime();
    m.generation = 1;
    delete m.deletionTimestamp;
    obj.apiVersion ??= apiVersionOf(def);
    obj.kind ??= def.kind;
    if (opts.dryRun) return { ...obj, metadata: { ...m, resourceVersion: String(this.#rv) } };
    m.resourceVersion = String(++this.#rv);
    table.set(key, obj);
    this.#emit({ type: 'ADDED', resource: def, object: structuredClone(obj), rv: this.#rv });
    return structuredClone(obj);
  }

  /**
   * Replace an object. `expectRv` (when given) must match the stored resourceVersion (409 Conflict).
   * Identity fields (uid, creationTimestamp, name, namespace) are kept; generation is bumped when
   * anything outside metadata and status changes. An update that changes nothing is a no-op (no new
   * resourceVersion, no watch event), as on a real apiserver.
   */
  update(
    def: ResourceDef,
    input: KubeObject,
    opts: { expectRv?: string; dryRun?: boolean } = {},
  ): KubeObject {
    const m = input.metadata;
    const key = `${def.namespaced ? (m.namespace ?? '') : ''}/${m.name}`;
    const table = this.#table(def);
    const old = table.get(key);
    if (!old) throw errors.notFound(def.group, def.plural, m.name);
    if (opts.expectRv !== undefined && opts.expectRv !== old.metadata.resourceVersion) {
      throw errors.conflict(def.group, def.plural, m.name);
    }
    const obj: KubeObject = structuredClone(input);
    obj.apiVersion ??= old.apiVersion;
    obj.kind ??= old.kind;
    Object.assign(obj.metadata, {
      name: old.metadata.name,
      uid: old.metadata.uid,
      creationTimestamp: old.metadata.creationTimestamp,
      resourceVersion: old.metadata.resourceVersion,
      generation: old.metadata.generation,
    });
    if (old.metadata.namespace !== undefined) obj.metadata.namespace = old.metadata.namespace;
    if (old.metadata.deletionTimestamp) obj.metadata.deletionTimestamp = old.metadata.deletionTimestamp;
    if (deepEqual(obj, old)) return structuredClone(old);
    if (!deepEqual(specPart(obj), specPart(old)))
      obj.metadata.generation = (old.metadata.generation ?? 0) + 1;
    if (opts.dryRun) return obj;
    obj.metadata.resourceVersion = String(++this.#rv);
    table.set(key, obj);
    this.#emit({
      type: 'MODIFIED',
      resource: def,
      object: structuredClone(obj),
      oldObject: structuredClone(old),
      rv: this.#rv,
    });
    return structuredClone(obj);
  }

  /** Create or replace without any check (the test API's `put`). */
  put(def: ResourceDef, input: KubeObject): KubeObject {
    const ns = def.namespaced ? (input.metadata.namespace ?? 'default') : undefined;
    const existing = input.metadata.name ? this.get(def, ns, input.metadata.name) : undefined;
    if (!existing) return this.create(def, ns, input);
    return this.update(def, { ...input, metadata: { ...input.metadata, namespace: ns } as ObjectMeta });
  }

  remove(
    def: ResourceDef,
    ns: string | undefined,
    name: string,
    opts: { dryRun?: boolean; propagation?: Propagation; expectUid?: string; expectRv?: string } = {},
  ): KubeObject {
    const key = `${def.namespaced ? (ns ?? '') : ''}/${name}`;
    const table = this.#table(def);
    const old = table.get(key);
    if (!old) throw errors.notFound(def.group, def.plural, name);
    if (opts.expectUid !== undefined && opts.expectUid !== old.metadata.uid) {
      throw errors.conflict(def.group, def.plural, name);
    }
    if (opts.expectRv !== undefined && opts.expectRv !== old.metadata.resourceVersion) {
      throw errors.conflict(def.group, def.plural, name);
    }
    if (opts.dryRun) return structuredClone(old);
    const propagation = opts.propagation ?? 'Background';
    if (propagation === 'Foreground') this.#collect(old.metadata.uid, 'Foreground');
    table.delete(key);
    const gone = structuredClone(old);
    gone.metadata.resourceVersion = String(++this.#rv);
    this.#emit({
      type: 'DELETED',
      resource: def,
      object: structuredClone(gone),
      oldObject: old,
      rv: this.#rv,
    });
    if (propagation === 'Background') setImmediate(() => this.#collect(old.metadata.uid, 'Background'));
    if (propagation === 'Orphan') this.#orphan(old.metadata.uid);
    return gone;
  }

  /** Garbage collection: delete every object that names `uid` in its ownerReferences. */
  #collect(uid: string, propagation: Propagation): void {
    for (const { def, items } of this.#objects.values()) {
      for (const o of [...items.values()]) {
        if (!o.metadata.ownerReferences?.some((r) => r.uid === uid)) continue;
        if (items.has(`${def.namespaced ? (o.metadata.namespace ?? '') : ''}/${o.metadata.name}`)) {
          this.remove(def, o.metadata.namespace, o.metadata.name, { propagation });
        }
      }
    }
  }

  #orphan(uid: string): void {
    for (const { def, items } of this.#objects.values()) {
      for (const o of [...items.values()]) {
        const refs = o.metadata.ownerReferences;
        if (!refs?.some((r) => r.uid === uid)) continue;
        const copy = structuredClone(o);
        copy.metadata.ownerReferences = refs.filter((r) => r.uid !== uid);
        this.update(def, copy);
      }
    }
  }

  /** Events after `rv`, or undefined when history before it has been compacted away (→ 410). */
  eventsAfter(rv: number): StoreEvent[] | undefined {
    if (rv < this.#compactedRv) return undefined;
    return this.#history.filter((e) => e.rv > rv);
  }

  /** Forget all history: a watch from any resourceVersion older than now gets 410 Expired. */
  compact(): void {
    this.#history = [];
    this.#compactedRv = this.#rv;
  }

  readonly #queue: StoreEvent[] = [];
  #delivering = false;

  /** Record and deliver an event. A listener that writes (as a controller does) gets its own event
   * delivered after the current one reached every listener, so everyone sees resourceVersion order. */
  #emit(e: StoreEvent): void {
    this.#history.push(e);
    while (this.#history.length > this.historyLimit) this.#compactedRv = this.#history.shift()!.rv;
    this.#queue.push(e);
    if (this.#delivering) return;
    this.#delivering = true;
    try {
      for (let next = this.#queue.shift(); next; next = this.#queue.shift()) {
        for (const fn of [...this.#listeners]) {
          try {
            fn(next);
          } catch {
            // a listener's failure is not the writer's problem
          }
        }
      }
    } finally {
      this.#delivering = false;
    }
  }
}
