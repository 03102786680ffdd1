import type { V1Pod } from '@kubernetes/client-node';
import type { BuildLog } from '../../contract/index.ts';
import { AppError } from '../../errors.ts';
import { type Kube, kubeCall } from '../../kube/client.ts';
import { waitFor } from '../../kube/list-watch.ts';
import { openPodLog, streamLines } from '../../kube/pod-log.ts';
import { POD_LABEL_PIPELINERUN } from './names.ts';

/** Pod states that mean a container will never start (reported as log lines and failure reasons). */
const STUCK = new Set([
  'ImagePullBackOff',
  'ErrImagePull',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CreateContainerError',
]);

const line = (container: string, ts: string, text: string): BuildLog => ({
  line: `[${container}] ${ts} ${text}`,
});
const now = () => new Date().toISOString();
/** How often a follow checks the pod for failures that stop its steps. */
const POD_CHECK_MS = 2000;

/** Why a pod failed at the pod level (eviction, OOM, image pulls), or undefined. */
export function podFailure(pod: V1Pod): { reason: string; message: string; container: string } | undefined {
  if (pod.status?.reason === 'Evicted')
    return {
      reason: 'Evicted',
      container: 'pod',
      message: `The build's pod was evicted: ${pod.status.message ?? ''}`.trim(),
    };
  for (const c of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
    const waiting = c.state?.waiting?.reason;
    if (waiting && STUCK.has(waiting))
      return {
        reason: waiting,
        container: c.name,
        message: `Container ${c.name} cannot start: ${waiting}: ${c.state?.waiting?.message ?? ''}`.trim(),
      };
    if (c.state?.terminated?.reason === 'OOMKilled')
      return {
        reason: 'OOMKilled',
        container: c.name,
        message: `Container ${c.name} ran out of memory (OOMKilled).`,
      };
  }
  return undefined;
}

/** A kubelet timestamp (RFC 3339, up to nine fractional digits, trailing zeros trimmed) as nanoseconds. */
export function nanos(ts: string): bigint {
  const m = ts.match(/^(.*?)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/);
  const ms = Date.parse(m ? `${m[1]}${m[3]}` : ts);
  if (Number.isNaN(ms)) return 0n;
  return BigInt(ms) * 1_000_000n + BigInt((m?.[2] ?? '').padEnd(9, '0').slice(0, 9) || '0');
}

function containerState(pod: V1Pod, name: string) {
  return pod.status?.containerStatuses?.find((c) => c.name === name)?.state;
}

interface Options {
  follow: boolean;
  signal: AbortSignal;
  /** How long a follow waits for the run's pod to appear (upstream: 10 minutes). */
  podWaitMs: number;
  isFinished: () => Promise<boolean | 'deleted'>;
}

/**
 * A PipelineRun's log: its pods' step containers in order, each line `[<container>] <timestamp> <text>`.
 * With follow: waits for the pod, waits for each container to start (the log endpoint answers 400 until
 * then), reconnects after a dropped stream from the last timestamp without repeating a line, and reports
 * containers that can never start, OOM kills and evictions as log lines.
 */
export async function* runLogs(kube: Kube, run: string, opts: Options): AsyncGenerator<BuildLog> {
  const selector = `${POD_LABEL_PIPELINERUN}=${run}`;
  const listPods = async () => {
    const list = await kubeCall(
      'list pods',
      () => kube.core.listNamespacedPod({ namespace: kube.namespace, labelSelector: selector }),
      { idempotent: true },
    );
    return { items: list.items, resourceVersion: list.metadata?.resourceVersion };
  };
  let pods = (await listPods()).items;
  if (!pods.length && opts.follow) {
    yield line('step-queue', now(), 'Waiting for the build to start…');
    const appeared = await waitFor(kube, {
      path: `/api/v1/namespaces/${kube.namespace}/pods`,
      list: listPods,
      labelSelector: selector,
      signal: opts.signal,
      timeoutMs: opts.podWaitMs,
      check: (items) => (items.length ? items : undefined),
    });
    pods = (appeared as V1Pod[] | undefined) ?? [];
    if (!pods.length && !opts.signal.aborted) {
      const finished = await opts.isFinished();
      if (finished === 'deleted')
        throw new AppError('BUILD_NOT_FOUND', `Build '${run}' was deleted while its log was followed.`);
      if (!finished)
        throw new AppError(
          'ENGINE_UNAVAILABLE',
          'The build did not start within the waiting time; check `toolforge build show`.',
        );
    }
  }
  pods.sort((a, b) =>
    String(a.metadata?.creationTimestamp ?? '').localeCompare(String(b.metadata?.creationTimestamp ?? '')),
  );
  for (const initial of pods) {
    const podName = initial.metadata?.name ?? '';
    const containers = (initial.spec?.containers ?? [])
      .map((c) => c.name)
      .filter((n) => n.startsWith('step-'));
    let failed = false;
    for (const container of containers) {
      if (opts.signal.aborted) return;
      if ((yield* containerLogs(kube, podName, container, opts)) === 'failed') {
        failed = true;
        break;
      }
    }
    if (failed) continue;
    const pod = await kubeCall(
      'get pod',
      () => kube.core.readNamespacedPod({ name: podName, namespace: kube.namespace }),
      { idempotent: true },
    ).catch(() => undefined);
    const failure = pod && podFailure(pod);
    if (failure) yield line(failure.container, now(), failure.message);
  }
}

/** One container's lines; 'failed' when it reported that the pod cannot go on (its other steps are moot). */
async function* containerLogs(
  kube: Kube,
  pod: string,
  container: string,
  opts: Options,
): AsyncGenerator<BuildLog, 'done' | 'failed'> {
  let since: string | undefined;
  let seenAtSince = new Set<string>();
  const readPod = () =>
    kube.core.readNamespacedPod({ name: pod, namespace: kube.namespace }).catch(() => undefined);
  for (;;) {
    if (opts.signal.aborted) return 'done';
    // A running step can wait forever on a later one that never starts (its image cannot be pulled):
    // watch the pod while streaming, and stop with the pod's failure.
    const stop = new AbortController();
    const signal = AbortSignal.any([opts.signal, stop.signal]);
    let failure: ReturnType<typeof podFailure>;
    const guard = opts.follow
      ? setInterval(async () => {
          const p = await readPod();
          failure = p && podFailure(p);
          if (failure) stop.abort();
        }, POD_CHECK_MS)
      : undefined;
    let stream: Awaited<ReturnType<typeof openPodLog>>;
    const nextSeen = new Set<string>();
    try {
      try {
        stream = await openPodLog(kube, pod, container, { follow: opts.follow, sinceTime: since, signal });
      } catch (err) {
        if (signal.aborted) stream = { ok: false, status: -1, message: 'stopped' };
        else stream = { ok: false, status: 0, message: (err as Error).message };
      }
      if (stream.ok) {
        for await (const raw of streamLines(stream.body)) {
          const sp = raw.indexOf(' ');
          const ts = sp > 0 ? raw.slice(0, sp) : now();
          const text = sp > 0 ? raw.slice(sp + 1) : raw;
          // A reconnect from `since` replays that whole second (the apiserver truncates sinceTime):
          // skip older lines, and lines at exactly `since` already sent.
          if (since && nanos(ts) < nanos(since)) continue;
          if (ts === since && seenAtSince.has(raw)) continue;
          if (ts !== since) nextSeen.clear();
          since = ts;
          nextSeen.add(raw);
          yield line(container, ts, text);
        }
      }
    } finally {
      clearInterval(guard);
    }
    if (opts.signal.aborted) return 'done';
    seenAtSince = nextSeen.size ? nextSeen : seenAtSince;
    if (!stream.ok && stream.status === 404) return 'done'; // the pod is gone (deleted, cancelled)
    if (!opts.follow) return 'done';
    const p = await readPod();
    failure ??= p && podFailure(p);
    if (failure) {
      yield line(failure.container, now(), failure.message);
      return 'failed';
    }
    if (stream.ok) {
      // The stream ended: because the container finished, or because the connection dropped.
      if (!p || containerState(p, container)?.terminated) return 'done';
      const finished = await opts.isFinished();
      if (finished === true || finished === 'deleted') return 'done';
      continue;
    }
    // 400: the container has not started yet (or is unknown); 0/5xx: the apiserver is not answering.
    if (!p && stream.status > 0 && stream.status < 500) return 'done';
    if (p && containerState(p, container)?.terminated && stream.status === 400) return 'done';
    if ((await opts.isFinished()) === 'deleted') return 'done';
    await new Promise((r) => setTimeout(r, 1000));
  }
}
