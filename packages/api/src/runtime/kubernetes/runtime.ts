import { type KubernetesObject, KubernetesObjectApi, type V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { AppError } from '../../errors.ts';
import { type Kube, kubeCall, kubeMessage, statusCode } from '../../kube/client.ts';
import { openPodLog, streamLines } from '../../kube/pod-log.ts';
import type { Workload, WorkloadKind, WorkloadRuntime, WorkloadSpec } from '../../workloads/port.ts';
import {
  LABELS,
  MANAGED_BY,
  namespaceOf,
  objectName,
  type RuntimeSettings,
  SPEC_ANNOTATION,
  toObjects,
} from './objects.ts';
import { statusOf, type Top } from './status.ts';

const TOPS = [
  { apiVersion: 'apps/v1', kind: 'Deployment' },
  { apiVersion: 'batch/v1', kind: 'CronJob' },
  { apiVersion: 'batch/v1', kind: 'Job' },
] as const;

/**
 * Workloads on Kubernetes, in the tool's namespace (`tool-<tool>`): a webservice is a Deployment, a
 * Service and an Ingress named after the tool; a job is a Job, a CronJob (scheduled) or a Deployment
 * (continuous). The top object carries the spec in an annotation: the cluster is the record.
 */
export class KubernetesRuntime implements WorkloadRuntime {
  readonly name = 'kubernetes' as const;
  private readonly kube: Kube;
  private readonly api: KubernetesObjectApi;
  private readonly settings: RuntimeSettings;
  private readonly log: Logger;

  constructor(kube: Kube, settings: RuntimeSettings, log: Logger) {
    this.kube = kube;
    this.api = KubernetesObjectApi.makeApiClient(kube.kc);
    this.settings = settings;
    this.log = log;
  }

  private selector(tool: string, kind?: WorkloadKind, name?: string): string {
    return [
      `${LABELS.managedBy}=${MANAGED_BY}`,
      `${LABELS.tool}=${tool}`,
      ...(kind ? [`${LABELS.kind}=${kind}`] : []),
      ...(name ? [`${LABELS.name}=${name}`] : []),
    ].join(',');
  }

  /** The top objects (the ones with a spec annotation) of a tool's workloads. */
  private async tops(tool: string, kind?: WorkloadKind, name?: string): Promise<Top[]> {
    const out: Top[] = [];
    for (const t of TOPS) {
      const list = await kubeCall(
        `list ${t.kind}s`,
        () =>
          this.api.list<KubernetesObject>(
            t.apiVersion,
            t.kind,
            namespaceOf(tool),
            undefined,
            undefined,
            undefined,
            undefined,
            this.selector(tool, kind, name),
          ),
        { idempotent: true },
      ).catch((err) => {
        if (statusCode(err) === 403)
          throw new AppError(
            'ENGINE_UNAVAILABLE',
            `The builds API may not read workloads: ${kubeMessage(err)}`,
            {
              hint: 'The cluster needs deploy/workloads-rbac.yaml.',
            },
          );
        throw err;
      });
      for (const o of list.items)
        if (o.metadata?.annotations?.[SPEC_ANNOTATION])
          out.push({ ...(o as Top), kind: t.kind, apiVersion: t.apiVersion });
    }
    return out;
  }

  private async pods(tool: string, kind: WorkloadKind, name: string): Promise<V1Pod[]> {
    const list = await kubeCall(
      'list pods',
      () =>
        this.kube.core.listNamespacedPod({
          namespace: namespaceOf(tool),
          labelSelector: this.selector(tool, kind, name),
        }),
      { idempotent: true },
    );
    return list.items.sort((a, b) =>
      String(a.metadata?.creationTimestamp ?? '').localeCompare(String(b.metadata?.creationTimestamp ?? '')),
    );
  }

  private async view(top: Top): Promise<Workload> {
    const spec = JSON.parse(top.metadata.annotations[SPEC_ANNOTATION] ?? '{}') as WorkloadSpec;
    const pods = await this.pods(spec.tool, spec.kind, spec.name).catch(() => []);
    return {
      spec,
      status: statusOf(top, pods, spec, this.settings),
      createdAt: String(top.metadata.creationTimestamp ?? ''),
    };
  }

  async apply(spec: WorkloadSpec): Promise<Workload> {
    // Replacing: what the old spec made goes first (a Job's template cannot change, and the kind may differ).
    await this.remove(spec.tool, spec.kind, spec.name);
    for (const { body } of toObjects(spec, this.settings)) {
      await kubeCall(`create ${body.kind}`, () => this.api.create(body as KubernetesObject)).catch((err) => {
        throw statusCode(err) === 403 || statusCode(err) === 400
          ? new AppError('POLICY_DENIED', `The cluster refused the ${body.kind}: ${kubeMessage(err)}`)
          : err;
      });
    }
    const got = await this.get(spec.tool, spec.kind, spec.name);
    if (!got) throw new AppError('ENGINE_UNAVAILABLE', 'The workload vanished right after it was created.');
    return got;
  }

  async list(tool: string): Promise<Workload[]> {
    const views = await Promise.all((await this.tops(tool)).map((t) => this.view(t)));
    return views.sort((a, b) =>
      `${a.spec.kind}/${a.spec.name}`.localeCompare(`${b.spec.kind}/${b.spec.name}`),
    );
  }

  async get(tool: string, kind: WorkloadKind, name: string): Promise<Workload | undefined> {
    const [top] = await this.tops(tool, kind, name);
    return top ? this.view(top) : undefined;
  }

  /** Delete every object of the workload (the Service and Ingress of a webservice too). */
  private async remove(tool: string, kind: WorkloadKind, name: string): Promise<boolean> {
    let found = false;
    const ns = namespaceOf(tool);
    const objects = [
      ...TOPS,
      { apiVersion: 'v1', kind: 'Service' },
      { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress' },
    ];
    for (const t of objects) {
      const n = objectName({ tool, kind, name });
      const o = await this.api
        .read({ apiVersion: t.apiVersion, kind: t.kind, metadata: { name: n, namespace: ns } })
        .catch((err) => {
          if (statusCode(err) === 404) return undefined;
          throw err;
        });
      if (!o || o.metadata?.labels?.[LABELS.name] !== name || o.metadata?.labels?.[LABELS.kind] !== kind)
        continue;
      found ||= Boolean(o.metadata?.annotations?.[SPEC_ANNOTATION]);
      await kubeCall(`delete ${t.kind}`, () =>
        this.api.delete(o, undefined, undefined, undefined, undefined, 'Background'),
      ).catch((err) => {
        if (statusCode(err) !== 404) throw err;
      });
    }
    return found;
  }

  async delete(tool: string, kind: WorkloadKind, name: string): Promise<boolean> {
    return this.remove(tool, kind, name);
  }

  async restart(tool: string, kind: WorkloadKind, name: string): Promise<Workload> {
    const w = await this.get(tool, kind, name);
    if (!w) throw new AppError('WORKLOAD_NOT_FOUND', `${kind} ${name} not found.`);
    return this.apply(w.spec);
  }

  async *logs(
    tool: string,
    kind: WorkloadKind,
    name: string,
    opts: { follow: boolean; signal: AbortSignal },
  ): AsyncIterable<string> {
    const podName = (await this.pods(tool, kind, name)).at(-1)?.metadata?.name;
    if (!podName) return;
    const container = kind === 'webservice' ? 'webservice' : 'job';
    const open = (previous: boolean) =>
      openPodLog(this.kube, podName, container, {
        follow: opts.follow && !previous,
        signal: opts.signal,
        namespace: namespaceOf(tool),
        previous,
      });
    let stream = await open(false);
    // A container waiting to be restarted has no current log: show why the last one ended.
    if (!stream.ok && stream.status === 400) stream = await open(true);
    if (!stream.ok) {
      this.log.debug({ status: stream.status }, 'workload log not available');
      return;
    }
    yield* streamLines(stream.body, { partial: true });
  }

  async pinnedDigests(tool: string): Promise<Set<string>> {
    const out = new Set<string>();
    for (const w of await this.list(tool))
      if (w.spec.image.digest && w.status.state !== 'succeeded' && w.status.state !== 'failed')
        out.add(w.spec.image.digest);
    return out;
  }

  async health(): Promise<string | undefined> {
    return undefined;
  }

  async close(): Promise<void> {}
}
