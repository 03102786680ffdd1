import type { Logger } from 'pino';
import type { Build, BuildLog } from '../../contract/index.ts';
import { AppError } from '../../errors.ts';
import { type Kube, kubeCall, kubeMessage, statusCode } from '../../kube/client.ts';
import type { PushCredentials } from '../../registry/port.ts';
import { idBelongsTo, newBuildId } from '../build-id.ts';
import type { BuildEngine, StartBuild } from '../port.ts';
import type { SchedulerLease } from './lease.ts';
import { podFailure, runLogs } from './logs.ts';
import { ANNOTATIONS, LABELS, MANAGED_BY, TEKTON } from './names.ts';
import {
  type PipelineRun,
  PipelineRunSchema,
  statusOf,
  type TektonSettings,
  toBuild,
  toPipelineRun,
} from './pipeline-run.ts';
import { createPushSecret, deletePushSecret, ownSecret, pushSecretName } from './push-secret.ts';

export interface TektonEngineOptions extends TektonSettings {
  perTool: number;
  /** Runs of all tools the scheduler lets run at once (the cluster's share for builds). */
  global: number;
  keep: { successful: number; failed: number };
  podWaitMs: number;
  log: Logger;
  /** With several API replicas, only the lease holder releases queued runs. */
  lease?: SchedulerLease;
  /** Per-build push credentials (Harbor robots), handed to each run as its own Secret. */
  credentials?: PushCredentials;
  /** The registry host those credentials are for (the Secret's dockerconfigjson key). */
  registryHost: string;
}

const T = { group: TEKTON.group, version: TEKTON.version, plural: TEKTON.pipelineruns };

const notFound = (id: string) =>
  new AppError('BUILD_NOT_FOUND', `Build '${id}' not found.`, {
    hint: 'Run `toolforge build list` to see your builds.',
  });

const isDone = (pr: PipelineRun) => {
  const s = statusOf(pr).status;
  return s !== 'BUILD_PENDING' && s !== 'BUILD_RUNNING';
};
const isQueued = (pr: PipelineRun) => pr.spec.status === 'PipelineRunPending';

/**
 * The cluster engine: every build is a Tekton v1 PipelineRun, which is also its record. The queue is
 * Tekton's own: runs over the limits are created `PipelineRunPending` and released in FIFO order.
 */
export class TektonEngine implements BuildEngine {
  readonly name = 'tekton' as const;
  private readonly kube: Kube;
  private readonly o: TektonEngineOptions;
  private timer: NodeJS.Timeout | undefined;
  private scheduling: Promise<void> | undefined;

  constructor(kube: Kube, opts: TektonEngineOptions) {
    this.kube = kube;
    this.o = opts;
  }

  /** Release queued runs periodically (another replica, or a finished run, may have freed a slot). */
  startScheduler(intervalMs = 2000): void {
    this.timer = setInterval(
      () => void this.schedule().catch((err) => this.o.log.warn({ err }, 'scheduling failed')),
      intervalMs,
    );
    this.timer.unref();
  }

  private async listRuns(labelSelector: string): Promise<PipelineRun[]> {
    const list = (await kubeCall(
      'list PipelineRuns',
      () =>
        this.kube.custom.listNamespacedCustomObject({ ...T, namespace: this.kube.namespace, labelSelector }),
      { idempotent: true },
    )) as { items?: unknown[] };
    return (list.items ?? []).flatMap((i) => {
      const p = PipelineRunSchema.safeParse(i);
      return p.success ? [p.data] : [];
    });
  }

  private async getRun(id: string): Promise<PipelineRun | undefined> {
    try {
      const obj = await kubeCall(
        'get PipelineRun',
        () => this.kube.custom.getNamespacedCustomObject({ ...T, namespace: this.kube.namespace, name: id }),
        { idempotent: true },
      );
      return PipelineRunSchema.parse(obj);
    } catch (err) {
      if (statusCode(err) === 404) return undefined;
      throw err;
    }
  }

  private async own(tool: string, id: string): Promise<PipelineRun | undefined> {
    if (!idBelongsTo(tool, id)) return undefined;
    const pr = await this.getRun(id);
    return pr && (pr.metadata.labels[LABELS.tool] ?? pr.metadata.labels[LABELS.user]) === tool
      ? pr
      : undefined;
  }

  private async queue(): Promise<PipelineRun[]> {
    const runs = await this.listRuns(`${LABELS.managedBy}=${MANAGED_BY}`);
    return runs
      .filter(isQueued)
      .sort(
        (a, b) =>
          String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)) ||
          a.metadata.name.localeCompare(b.metadata.name),
      );
  }

  /** Release the oldest queued runs while the per-tool and global limits allow. */
  async schedule(): Promise<void> {
    this.scheduling ??= (async () => {
      try {
        if (this.o.lease && !(await this.o.lease.acquire())) return;
        const runs = await this.listRuns(`${LABELS.managedBy}=${MANAGED_BY}`);
        await this.releaseEnded(runs).catch((err) => this.o.log.warn({ err }, 'revoking push access failed'));
        const active = runs.filter((r) => !isQueued(r) && !isDone(r));
        const perTool = new Map<string, number>();
        for (const r of active)
          perTool.set(
            r.metadata.labels[LABELS.tool] ?? '',
            (perTool.get(r.metadata.labels[LABELS.tool] ?? '') ?? 0) + 1,
          );
        let running = active.length;
        const queued = runs
          .filter(isQueued)
          .sort((a, b) =>
            String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)),
          );
        for (const r of queued) {
          if (running >= this.o.global) break;
          const tool = r.metadata.labels[LABELS.tool] ?? '';
          if ((perTool.get(tool) ?? 0) >= this.o.perTool) continue;
          await kubeCall('release PipelineRun', () =>
            this.kube.custom.patchNamespacedCustomObject({
              ...T,
              namespace: this.kube.namespace,
              name: r.metadata.name,
              body: [{ op: 'remove', path: '/spec/status' }],
            }),
          ).catch((err) => {
            if (statusCode(err) !== 404 && statusCode(err) !== 422) throw err;
          });
          perTool.set(tool, (perTool.get(tool) ?? 0) + 1);
          running++;
        }
      } finally {
        this.scheduling = undefined;
      }
    })();
    return this.scheduling;
  }

  async start(input: StartBuild): Promise<Build> {
    await this.prune(input.tool, input.imageName).catch((err) =>
      this.o.log.warn({ err }, 'pruning old runs failed'),
    );
    let created: PipelineRun | undefined;
    for (let attempt = 0; !created; attempt++) {
      // With per-build credentials the run is named here, so that its Secret can be named (and made) first.
      const name = this.o.credentials ? newBuildId(input.tool) : undefined;
      try {
        created = await this.createRun(input, name);
      } catch (err) {
        // A name already taken (generated here or by generateName): try another one, once.
        if (statusCode(err) === 409 && attempt === 0) continue;
        if (statusCode(err) === 409)
          throw new AppError('ENGINE_UNAVAILABLE', `Could not create the build: ${kubeMessage(err)}`, {
            cause: err,
          });
        if (statusCode(err) !== undefined) {
          throw new AppError('INTERNAL', 'The cluster refused the build definition.', {
            cause: new Error(kubeMessage(err)),
          });
        }
        throw err;
      }
    }
    await this.schedule();
    const fresh = (await this.getRun(created.metadata.name)) ?? created;
    const position = (await this.queue()).findIndex((q) => q.metadata.name === fresh.metadata.name);
    return toBuild(fresh, position >= 0 ? { queuePosition: position + 1 } : {});
  }

  /** Create the run; with per-build credentials, its push Secret first and nothing left when anything fails. */
  private async createRun(input: StartBuild, name: string | undefined): Promise<PipelineRun> {
    const creds = this.o.credentials;
    if (!creds || !name) {
      const body = toPipelineRun(input, this.o, { pending: true });
      return PipelineRunSchema.parse(
        await kubeCall('create PipelineRun', () =>
          this.kube.custom.createNamespacedCustomObject({ ...T, namespace: this.kube.namespace, body }),
        ),
      );
    }
    const access = await creds.issue(input.tool, name);
    const secret = pushSecretName(name);
    try {
      await createPushSecret(this.kube, secret, this.o.registryHost, access, input.tool);
      const body = toPipelineRun(input, this.o, {
        pending: true,
        name,
        registrySecret: secret,
        annotations: { [ANNOTATIONS.pushAccess]: access.id },
      });
      const pr = PipelineRunSchema.parse(
        await kubeCall('create PipelineRun', () =>
          this.kube.custom.createNamespacedCustomObject({ ...T, namespace: this.kube.namespace, body }),
        ),
      );
      // Kubernetes deletes the Secret with its run (e.g. when retention prunes it).
      await ownSecret(this.kube, secret, pr).catch((err) =>
        this.o.log.warn({ err }, 'could not own the push Secret'),
      );
      return pr;
    } catch (err) {
      await deletePushSecret(this.kube, secret).catch(() => undefined);
      await creds
        .revoke(input.tool, access.id)
        .catch((e) => this.o.log.warn({ err: e }, 'could not revoke push access'));
      throw err;
    }
  }

  /** Revoke the push credentials of runs that ended (their robot and Secret are useless from then on). */
  private async releaseEnded(runs: PipelineRun[]): Promise<void> {
    const creds = this.o.credentials;
    if (!creds) return;
    for (const r of runs) {
      const id = r.metadata.annotations[ANNOTATIONS.pushAccess];
      if (!id || !isDone(r)) continue;
      const tool = r.metadata.labels[LABELS.tool] ?? '';
      await creds.revoke(tool, id);
      await deletePushSecret(this.kube, pushSecretName(r.metadata.name)).catch(() => undefined);
      await kubeCall('annotate PipelineRun', () =>
        this.kube.custom.patchNamespacedCustomObject({
          ...T,
          namespace: this.kube.namespace,
          name: r.metadata.name,
          body: [
            { op: 'remove', path: `/metadata/annotations/${ANNOTATIONS.pushAccess.replace('/', '~1')}` },
          ],
        }),
      ).catch((err) => {
        if (statusCode(err) !== 404 && statusCode(err) !== 422) throw err;
      });
    }
  }

  /** Whether a build still needs its push credentials (for sweeping leftovers at start-up). */
  async isActive(_tool: string, id: string): Promise<boolean> {
    const pr = await this.getRun(id);
    return !!pr && !isDone(pr);
  }

  async get(tool: string, id: string): Promise<Build | undefined> {
    const pr = await this.own(tool, id);
    if (!pr) return undefined;
    const position = isQueued(pr) ? (await this.queue()).findIndex((q) => q.metadata.name === id) + 1 : 0;
    return toBuild(pr, { ...(position > 0 ? { queuePosition: position } : {}), ...(await this.failure(pr)) });
  }

  /** For failed runs: a pod-level reason (eviction, OOM, image pull) found on the run's pods. */
  private async failure(pr: PipelineRun): Promise<{ failure?: { reason: string; hint?: string } }> {
    if (statusOf(pr).status !== 'BUILD_FAILURE') return {};
    const pods = await this.kube.core
      .listNamespacedPod({
        namespace: this.kube.namespace,
        labelSelector: `tekton.dev/pipelineRun=${pr.metadata.name}`,
      })
      .catch(() => undefined);
    for (const pod of pods?.items ?? []) {
      const f = podFailure(pod);
      if (f) return { failure: { reason: f.reason, hint: f.message } };
    }
    const reason = pr.status?.conditions?.find((c) => c.type === 'Succeeded')?.reason ?? 'Failed';
    return { failure: { reason, hint: 'The log says which step failed and why.' } };
  }

  async list(tool: string): Promise<Build[]> {
    const runs = await this.listRuns(`${LABELS.tool}=${tool}`);
    const queue = await this.queue();
    return runs
      .sort(
        (a, b) =>
          String(b.metadata.creationTimestamp).localeCompare(String(a.metadata.creationTimestamp)) ||
          b.metadata.name.localeCompare(a.metadata.name),
      )
      .map((r) => {
        const position = queue.findIndex((q) => q.metadata.name === r.metadata.name) + 1;
        return toBuild(r, position > 0 ? { queuePosition: position } : {});
      });
  }

  async logs(
    tool: string,
    id: string,
    opts: { follow: boolean; signal: AbortSignal },
  ): Promise<AsyncIterable<BuildLog>> {
    if (!(await this.own(tool, id))) throw notFound(id);
    return runLogs(this.kube, id, {
      ...opts,
      podWaitMs: this.o.podWaitMs,
      isFinished: async () => {
        const pr = await this.getRun(id);
        return pr ? isDone(pr) : 'deleted';
      },
    });
  }

  async cancel(tool: string, id: string): Promise<void> {
    const pr = await this.own(tool, id);
    if (!pr) throw notFound(id);
    const { status } = statusOf(pr);
    if (status === 'BUILD_CANCELLED' || pr.spec.status === 'Cancelled')
      throw new AppError('BUILD_CONFLICT', `Build '${id}' cannot be cancelled again.`);
    if (isDone(pr))
      throw new AppError(
        'BUILD_CONFLICT',
        `Build '${id}' cannot be cancelled because it has already completed.`,
      );
    await kubeCall('cancel PipelineRun', () =>
      this.kube.custom.patchNamespacedCustomObject({
        ...T,
        namespace: this.kube.namespace,
        name: id,
        body: [{ op: 'add', path: '/spec/status', value: 'Cancelled' }],
      }),
    );
  }

  async delete(tool: string, id: string): Promise<void> {
    if (!(await this.own(tool, id))) throw notFound(id);
    await kubeCall('delete PipelineRun', () =>
      this.kube.custom.deleteNamespacedCustomObject({
        ...T,
        namespace: this.kube.namespace,
        name: id,
        propagationPolicy: 'Background',
      }),
    ).catch((err) => {
      if (statusCode(err) !== 404) throw err;
    });
  }

  /** Keep running and queued runs, the newest N successful and M failed of this tool's image. */
  private async prune(tool: string, image: string): Promise<void> {
    const runs = (await this.listRuns(`${LABELS.tool}=${tool},${LABELS.image}=${image}`)).sort((a, b) =>
      String(b.metadata.creationTimestamp).localeCompare(String(a.metadata.creationTimestamp)),
    );
    let ok = 0;
    let failed = 0;
    for (const r of runs) {
      if (!isDone(r)) continue;
      const keep =
        statusOf(r).status === 'BUILD_SUCCESS'
          ? ok++ < this.o.keep.successful
          : failed++ < this.o.keep.failed;
      if (keep) continue;
      await this.kube.custom
        .deleteNamespacedCustomObject({
          ...T,
          namespace: this.kube.namespace,
          name: r.metadata.name,
          propagationPolicy: 'Background',
        })
        .catch(() => {});
    }
  }

  async health(): Promise<string | undefined> {
    try {
      await this.kube.custom.listNamespacedCustomObject({ ...T, namespace: this.kube.namespace, limit: 1 });
      return undefined;
    } catch (err) {
      return `cannot list PipelineRuns in ${this.kube.namespace}: ${kubeMessage(err)}`;
    }
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.scheduling;
    await this.o.lease?.release();
  }
}
