// Container logs, as GET /api/v1/namespaces/{ns}/pods/{pod}/log serves them. A container's state comes
// from the pod's status in the store (the single source of truth); the lines come from appendLog().
// Logs belong to a pod instance (its uid): they vanish when the pod is deleted, as on a node.
import type { ServerResponse } from 'node:http';
import { errors } from './errors.ts';
import type { KubeObject, Store } from './store.ts';

interface LogLine {
  ns: bigint; // nanoseconds since the epoch
  text: string;
}

interface Follower {
  container: string;
  res: ServerResponse;
  write(l: LogLine): void;
  end(): void;
}

const WALL0 = BigInt(Date.now()) * 1_000_000n;
const HR0 = process.hrtime.bigint();

function nowNs(): bigint {
  return WALL0 + (process.hrtime.bigint() - HR0);
}

/** RFC 3339 with nine fractional digits, as the kubelet prints log timestamps (RFC3339NanoFixed). */
export function formatNs(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return `${new Date(ms).toISOString().slice(0, 19)}.${frac}Z`;
}

/** Parse RFC 3339 (any number of fractional digits) to nanoseconds. */
export function parseTimeNs(s: string): bigint | undefined {
  const m = s.match(/^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) return undefined;
  return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

export type ContainerState =
  | { waiting: { reason?: string; message?: string } }
  | { running: { startedAt?: string } }
  | {
      terminated: {
        exitCode: number;
        reason?: string;
        message?: string;
        startedAt?: string;
        finishedAt?: string;
      };
    };

export function containerStatus(pod: KubeObject, container: string): any {
  const s = pod.status ?? {};
  return [...(s.initContainerStatuses ?? []), ...(s.containerStatuses ?? [])].find(
    (c: any) => c.name === container,
  );
}

function isInit(pod: KubeObject, container: string): boolean {
  return (pod.spec?.initContainers ?? []).some((c: any) => c.name === container);
}

export interface LogQuery {
  container?: string;
  follow: boolean;
  timestamps: boolean;
  previous: boolean;
  sinceTime?: string;
  sinceSeconds?: number;
  tailLines?: number;
  limitBytes?: number;
}

export class LogHub {
  readonly #lines = new Map<string, LogLine[]>();
  readonly #followers = new Map<string, Set<Follower>>(); // by pod uid

  constructor(store: Store) {
    store.subscribe((e) => {
      if (e.resource.group !== '' || e.resource.plural !== 'pods') return;
      const uid = e.object.metadata.uid;
      const followers = this.#followers.get(uid);
      if (e.type === 'DELETED') {
        for (const f of followers ?? []) f.end();
        for (const k of [...this.#lines.keys()]) if (k.startsWith(`${uid}/`)) this.#lines.delete(k);
        return;
      }
      for (const f of followers ?? []) {
        if (containerStatus(e.object, f.container)?.state?.terminated) f.end();
      }
    });
  }

  append(pod: KubeObject, container: string, text: string, time?: Date): void {
    const key = `${pod.metadata.uid}/${container}`;
    const list = this.#lines.get(key) ?? [];
    this.#lines.set(key, list);
    for (const part of text.replace(/\n$/, '').split('\n')) {
      let ns = time ? BigInt(time.getTime()) * 1_000_000n : nowNs();
      const last = list[list.length - 1];
      if (last && ns <= last.ns) ns = last.ns + 1n;
      const line = { ns, text: part };
      list.push(line);
      for (const f of this.#followers.get(pod.metadata.uid) ?? [])
        if (f.container === container) f.write(line);
    }
  }

  lines(pod: KubeObject, container: string): { time: string; text: string }[] {
    return (this.#lines.get(`${pod.metadata.uid}/${container}`) ?? []).map((l) => ({
      time: formatNs(l.ns),
      text: l.text,
    }));
  }

  /** Check the request the way the apiserver and kubelet do; throws a KubeError (400) when it can't be served. */
  resolveContainer(pod: KubeObject, q: LogQuery): string {
    const name = pod.metadata.name;
    const containers: string[] = (pod.spec?.containers ?? []).map((c: any) => c.name);
    const inits: string[] = (pod.spec?.initContainers ?? []).map((c: any) => c.name);
    let container = q.container;
    if (!container) {
      if (containers.length === 1) container = containers[0]!;
      else {
        throw errors.badRequest(
          `a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]` +
            (inits.length ? ` or one of the init containers: [${inits.join(' ')}]` : ''),
        );
      }
    }
    if (!containers.includes(container) && !inits.includes(container)) {
      throw errors.badRequest(`container ${container} is not valid for pod ${name}`);
    }
    if (q.previous)
      throw errors.badRequest(`previous terminated container "${container}" in pod "${name}" not found`);
    const st = containerStatus(pod, container)?.state;
    if (!st || (!st.running && !st.terminated)) {
      const reason =
        st?.waiting?.reason ??
        (!isInit(pod, container) && inits.length && pod.status?.phase === 'Pending'
          ? 'PodInitializing'
          : 'ContainerCreating');
      const why =
        reason === 'ErrImagePull'
          ? "image can't be pulled"
          : reason === 'ImagePullBackOff'
            ? 'trying and failing to pull image'
            : reason;
      throw errors.badRequest(`container "${container}" in pod "${name}" is waiting to start: ${why}`);
    }
    return container;
  }

  serve(pod: KubeObject, container: string, q: LogQuery, res: ServerResponse): void {
    // The apiserver passes sinceTime on to the kubelet with second precision (time.RFC3339), and the
    // kubelet keeps lines at or after it: resuming from a line's timestamp repeats that second's lines.
    let since: bigint | undefined;
    if (q.sinceTime) {
      const t = parseTimeNs(q.sinceTime);
      if (t === undefined) throw errors.badRequest(`parsing time "${q.sinceTime}" as RFC3339: cannot parse`);
      since = (t / 1_000_000_000n) * 1_000_000_000n;
    } else if (q.sinceSeconds !== undefined) since = nowNs() - BigInt(q.sinceSeconds) * 1_000_000_000n;
    let lines = [...(this.#lines.get(`${pod.metadata.uid}/${container}`) ?? [])];
    if (q.tailLines !== undefined && q.tailLines >= 0)
      lines = q.tailLines === 0 ? [] : lines.slice(-q.tailLines);

    res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    let budget = q.limitBytes ?? Number.POSITIVE_INFINITY;
    /** Write one line; false once limitBytes is used up. */
    const write = (l: LogLine): boolean => {
      if (since !== undefined && l.ns < since) return true;
      let s = `${q.timestamps ? `${formatNs(l.ns)} ` : ''}${l.text}\n`;
      if (Buffer.byteLength(s) > budget) s = Buffer.from(s).subarray(0, budget).toString();
      budget -= Buffer.byteLength(s);
      if (!res.writableEnded) res.write(s);
      return budget > 0;
    };
    for (const l of lines) {
      if (!write(l)) {
        res.end();
        return;
      }
    }
    if (!q.follow || containerStatus(pod, container)?.state?.terminated) {
      res.end();
      return;
    }
    const uid = pod.metadata.uid;
    const set = this.#followers.get(uid) ?? new Set<Follower>();
    this.#followers.set(uid, set);
    const f: Follower = {
      container,
      res,
      write: (l) => {
        if (!write(l)) res.end();
      },
      end: () => res.end(),
    };
    set.add(f);
    res.on('close', () => set.delete(f));
  }

  /** Open follow streams. */
  get count(): number {
    let n = 0;
    for (const set of this.#followers.values()) n += set.size;
    return n;
  }

  /** Reset every open follow stream (a network failure mid-stream). */
  dropAll(): number {
    let n = 0;
    for (const set of this.#followers.values()) {
      for (const f of [...set]) {
        n++;
        f.res.socket?.destroy();
      }
    }
    return n;
  }
}
