import type { z } from 'zod';
import type { CatalogueStore } from '../catalogue/store.ts';
import type { Job, NewJobSchema, NewWebserviceSchema, Webservice } from '../contract/index.ts';
import { AppError } from '../errors.ts';
import type { ImageRegistry } from '../registry/port.ts';
import type {
  Workload,
  WorkloadKind,
  WorkloadRuntime,
  WorkloadSpec,
  WorkloadStatus,
} from '../workloads/port.ts';
import { type Resolved, resolveImage } from '../workloads/resolve.ts';

/** The registry policy's verdict on an image reference in a namespace (see policy/). */
export type PolicyCheck = (
  image: string,
  namespace: string,
) => Promise<{ allowed: true } | { allowed: false; message: string }>;

export interface WorkloadServiceDeps {
  runtime: WorkloadRuntime;
  registry: ImageRegistry;
  catalogue: CatalogueStore;
  policy: PolicyCheck;
  /** Resources of workloads whose image and request name none (Toolforge's webservice defaults). */
  defaults: { memory: string; cpu: string };
  now?: () => Date;
}

const notFound = (kind: WorkloadKind, name: string) =>
  kind === 'webservice'
    ? new AppError('WORKLOAD_NOT_FOUND', 'Your webservice is not running.', {
        hint: 'Start one with `toolforge webservice buildservice start --buildservice-image …`.',
      })
    : new AppError('WORKLOAD_NOT_FOUND', `Job '${name}' not found.`, {
        hint: 'Run `toolforge jobs list` to see your jobs.',
      });

/** The jobs API's short status words. */
const SHORT: Record<WorkloadStatus['state'], string> = {
  pending: 'Pending',
  starting: 'Starting',
  running: 'Running',
  restarting: 'Restarting',
  scheduled: 'Waiting for the next run',
  succeeded: 'Completed',
  failed: 'Failed',
  stopped: 'Stopped',
};

const status = (s: WorkloadStatus) => ({
  state: s.state,
  message: s.message,
  ...(s.url ? { url: s.url } : {}),
  restarts: s.restarts,
  ...(s.startedAt ? { started_at: s.startedAt } : {}),
  ...(s.lastRun
    ? {
        last_run: {
          started_at: s.lastRun.startedAt,
          ...(s.lastRun.endedAt ? { ended_at: s.lastRun.endedAt } : {}),
          ...(s.lastRun.exitCode !== undefined ? { exit_code: s.lastRun.exitCode } : {}),
        },
      }
    : {}),
  ...(s.nextRun ? { next_run: s.nextRun } : {}),
});

/**
 * Launching images: resolve what the user names through the images API's sources, check it against the
 * registry policy before anything runs, and hand the pinned spec to the runtime (local or Kubernetes).
 */
export class WorkloadService {
  private readonly d: WorkloadServiceDeps;
  constructor(deps: WorkloadServiceDeps) {
    this.d = deps;
  }

  private async resolve(
    tool: string,
    image: string,
    kind: WorkloadKind,
    /** False for a name that was resolved before (a restart): unknown now is just unknown. */
    explainUnknown = true,
  ): Promise<{ resolved: Resolved; warnings: string[] }> {
    const now = this.d.now?.() ?? new Date();
    const resolved = await resolveImage(image, kind, {
      registry: this.d.registry,
      catalogue: this.d.catalogue.current,
      now,
    }).catch(async (err) => {
      // An unknown name the policy would refuse anyway (another registry, Docker Hub, a bad reference)
      // is most likely a bypass attempt or a habit from elsewhere: say which registries are allowed.
      if (!(explainUnknown && err instanceof AppError && err.code === 'IMAGE_NOT_FOUND')) throw err;
      const raw = await this.d.policy(image.trim(), `tool-${tool}`);
      if (raw.allowed) throw err;
      throw new AppError(
        'POLICY_DENIED',
        `${err.message} ${raw.message}.`,
        err.hint ? { hint: err.hint } : {},
      );
    });
    const verdict = await this.d.policy(resolved.ref, `tool-${tool}`);
    if (!verdict.allowed) throw new AppError('POLICY_DENIED', verdict.message);
    const curated = resolved.curated?.image;
    const warnings =
      curated?.state === 'deprecated'
        ? [
            `The image ${resolved.curated?.name} is deprecated${curated.valid_until ? ` and will stop working on ${curated.valid_until}` : ''}.`,
          ]
        : [];
    return { resolved, warnings };
  }

  private resources(r: Resolved, asked: { memory?: string | undefined; cpu?: string | undefined }) {
    const own = r.curated?.image.resources;
    return {
      memory: asked.memory ?? own?.memory ?? this.d.defaults.memory,
      cpu: asked.cpu ?? own?.cpu ?? this.d.defaults.cpu,
    };
  }

  private toJob(w: Workload): Job {
    const s = w.spec;
    return {
      name: s.name,
      cmd: s.command ?? '',
      imagename: s.image.requested,
      image: { ref: s.image.ref, digest: s.image.digest, type: s.image.type },
      ...(s.schedule ? { schedule: s.schedule } : {}),
      continuous: s.continuous ?? false,
      mount: s.mount,
      ...(s.port ? { port: s.port } : {}),
      ...(s.resources.memory ? { memory: s.resources.memory } : {}),
      ...(s.resources.cpu ? { cpu: s.resources.cpu } : {}),
      status_short: SHORT[w.status.state],
      status_long: w.status.message,
      status: status(w.status),
      created_at: w.createdAt,
    };
  }

  private toWebservice(w: Workload): Webservice {
    const s = w.spec;
    return {
      type: 'buildservice',
      image: s.image.requested,
      image_info: { ref: s.image.ref, digest: s.image.digest, type: s.image.type },
      mount: s.mount,
      port: s.port ?? 8000,
      ...(s.resources.memory ? { memory: s.resources.memory } : {}),
      ...(s.resources.cpu ? { cpu: s.resources.cpu } : {}),
      ...(w.status.url ? { url: w.status.url } : {}),
      status: status(w.status),
      created_at: w.createdAt,
    };
  }

  async runJob(tool: string, body: z.output<typeof NewJobSchema>): Promise<{ job: Job; warnings: string[] }> {
    if (body.schedule && body.continuous)
      throw new AppError('VALIDATION_FAILED', 'A job is either scheduled or continuous, not both.');
    const { resolved, warnings } = await this.resolve(tool, body.imagename, 'job');
    const spec: WorkloadSpec = {
      tool,
      kind: 'job',
      name: body.name,
      image: {
        requested: resolved.requested,
        ref: resolved.ref,
        digest: resolved.digest,
        type: resolved.type,
      },
      command: body.cmd,
      ...(body.schedule ? { schedule: body.schedule } : {}),
      continuous: body.continuous,
      mount: body.mount ?? (resolved.type === 'buildservice' ? 'none' : 'all'),
      ...(body.port ? { port: body.port } : {}),
      resources: this.resources(resolved, body),
    };
    return { job: this.toJob(await this.d.runtime.apply(spec)), warnings };
  }

  async jobs(tool: string): Promise<Job[]> {
    return (await this.d.runtime.list(tool)).filter((w) => w.spec.kind === 'job').map((w) => this.toJob(w));
  }

  async job(tool: string, name: string): Promise<Job> {
    const w = await this.d.runtime.get(tool, 'job', name);
    if (!w) throw notFound('job', name);
    return this.toJob(w);
  }

  async deleteJob(tool: string, name: string): Promise<void> {
    if (!(await this.d.runtime.delete(tool, 'job', name))) throw notFound('job', name);
  }

  async restartJob(tool: string, name: string): Promise<{ job: Job; warnings: string[]; info: string[] }> {
    const { workload, ...said } = await this.restart(tool, 'job', name);
    return { job: this.toJob(workload), ...said };
  }

  /**
   * Restart runs what the image name means now (e.g. `:latest` after a new build), as a pod restart pulls
   * it on Toolforge; the policy is checked again. A name that no longer resolves keeps its pinned digest.
   */
  private async restart(tool: string, kind: WorkloadKind, name: string) {
    const w = await this.d.runtime.get(tool, kind, name);
    if (!w) throw notFound(kind, name);
    const now = await this.resolve(tool, w.spec.image.requested, kind, false).catch((err) => {
      if (err instanceof AppError && err.code === 'IMAGE_NOT_FOUND') return undefined;
      throw err;
    });
    if (!now)
      return {
        workload: await this.d.runtime.restart(tool, kind, name),
        warnings: [`${w.spec.image.requested} no longer resolves: restarted with ${w.spec.image.digest}.`],
        info: [],
      };
    if (now.resolved.digest === w.spec.image.digest)
      return { workload: await this.d.runtime.restart(tool, kind, name), warnings: now.warnings, info: [] };
    const image = {
      requested: w.spec.image.requested,
      ref: now.resolved.ref,
      digest: now.resolved.digest,
      type: now.resolved.type,
    };
    return {
      workload: await this.d.runtime.apply({ ...w.spec, image }),
      warnings: now.warnings,
      info: [`Now running ${image.requested} at ${image.digest} (was ${w.spec.image.digest}).`],
    };
  }

  async logs(tool: string, kind: WorkloadKind, name: string, opts: { follow: boolean; signal: AbortSignal }) {
    if (!(await this.d.runtime.get(tool, kind, name))) throw notFound(kind, name);
    return (async function* (lines: AsyncIterable<string>) {
      for await (const line of lines) yield { line };
    })(this.d.runtime.logs(tool, kind, name, opts));
  }

  async startWebservice(
    tool: string,
    body: z.output<typeof NewWebserviceSchema>,
  ): Promise<{ webservice: Webservice; warnings: string[] }> {
    const { resolved, warnings } = await this.resolve(tool, body.image, 'webservice');
    if (resolved.type !== 'buildservice')
      throw new AppError(
        'VALIDATION_FAILED',
        `${body.image} is a curated image: a buildservice webservice runs an image the build service built.`,
        {
          hint: 'Use --buildservice-image tool-<tool>/<image>:latest (see `toolforge images list`).',
        },
      );
    const spec: WorkloadSpec = {
      tool,
      kind: 'webservice',
      name: 'webservice',
      image: {
        requested: resolved.requested,
        ref: resolved.ref,
        digest: resolved.digest,
        type: resolved.type,
      },
      mount: body.mount,
      port: body.port,
      resources: this.resources(resolved, body),
    };
    return { webservice: this.toWebservice(await this.d.runtime.apply(spec)), warnings };
  }

  async webservice(tool: string): Promise<Webservice> {
    const w = await this.d.runtime.get(tool, 'webservice', 'webservice');
    if (!w) throw notFound('webservice', 'webservice');
    return this.toWebservice(w);
  }

  async stopWebservice(tool: string): Promise<void> {
    if (!(await this.d.runtime.delete(tool, 'webservice', 'webservice')))
      throw notFound('webservice', 'webservice');
  }

  async restartWebservice(
    tool: string,
  ): Promise<{ webservice: Webservice; warnings: string[]; info: string[] }> {
    const { workload, ...said } = await this.restart(tool, 'webservice', 'webservice');
    return { webservice: this.toWebservice(workload), ...said };
  }
}
