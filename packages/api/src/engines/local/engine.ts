import { rm } from 'node:fs/promises';
import type { Build, BuildLog, BuildStatus } from '../../contract/index.ts';
import { FINISHED_STATUSES } from '../../contract/index.ts';
import { AppError } from '../../errors.ts';
import type { BuildRecord, BuildsRepo } from '../../store/builds-repo.ts';
import { idBelongsTo, newBuildId } from '../build-id.ts';
import type { BuildEngine, StartBuild } from '../port.ts';
import type { LogHub } from './log-hub.ts';
import { type RunnerDeps, runBuild, sha256Envvars } from './run-build.ts';
import { recordToBuild } from './to-build.ts';

export interface LocalEngineOptions {
  /** Concurrent builds per tool; more wait in the queue (FIFO). */
  perTool: number;
  /** Concurrent builds on this machine. */
  global: number;
  /** Build records kept per tool and image (running and queued ones are always kept). */
  keep: { successful: number; failed: number };
  onFinished?: (record: BuildRecord) => void;
}

const notFound = (id: string) =>
  new AppError('BUILD_NOT_FOUND', `Build '${id}' not found.`, {
    hint: 'Run `toolforge build list` to see your builds.',
  });

/**
 * The embedded engine: a FIFO queue with per-tool and global limits in front of the embedded CNB platform,
 * with records and durable logs in node:sqlite. Builds interrupted by a restart are marked failed.
 */
export class LocalEngine implements BuildEngine {
  readonly name = 'local' as const;
  private readonly repo: BuildsRepo;
  private readonly hub: LogHub;
  private readonly opts: LocalEngineOptions;
  private readonly deps: RunnerDeps;
  private readonly running = new Map<string, { tool: string; abort: AbortController; done: Promise<void> }>();
  private closed = false;

  constructor(repo: BuildsRepo, logs: LogHub, deps: RunnerDeps, opts: LocalEngineOptions) {
    this.repo = repo;
    this.hub = logs;
    this.deps = { ...deps, onFinished: (r, s) => this.finished(r, s) };
    this.opts = opts;
  }

  /** After a restart: builds that were running cannot be resumed; queued ones start again. */
  async recover(): Promise<void> {
    for (const r of this.repo.listByStatus('BUILD_RUNNING')) {
      this.hub.append(r.id, 'step-error', 'The build service restarted while this build was running.');
      this.repo.update(r.id, {
        status: 'BUILD_FAILURE',
        phase: 'done',
        message: 'The build was interrupted by a restart of the build service.',
        failureReason: 'INTERRUPTED',
        hint: 'Start the build again.',
        endTime: new Date().toISOString(),
        envvars: Object.fromEntries(Object.keys(r.envvars).map((k) => [k, ''])),
      });
      this.hub.ended(r.id);
      await rm(`${this.deps.workRoot}/${r.id}`, { recursive: true, force: true });
    }
    this.schedule();
  }

  private own(tool: string, id: string): BuildRecord | undefined {
    if (!idBelongsTo(tool, id)) return undefined;
    const r = this.repo.get(id);
    return r && r.tool === tool ? r : undefined;
  }

  private positions(): Map<string, number> {
    return new Map(this.repo.listByStatus('BUILD_PENDING').map((r, i) => [r.id, i + 1]));
  }

  queueLength(): number {
    return this.repo.listByStatus('BUILD_PENDING').length;
  }

  runningCount(): number {
    return this.running.size;
  }

  async start(input: StartBuild): Promise<Build> {
    if (this.closed) throw new AppError('NOT_READY', 'The build service is shutting down.');
    // A registry that cannot take the image fails the start (e.g. 503 Harbor unavailable), not the build.
    await this.deps.push?.ready?.(input.tool);
    const envvars = input.params.envvars ?? {};
    const record: BuildRecord = {
      id: newBuildId(input.tool),
      tool: input.tool,
      seq: this.repo.nextSeq(),
      imageName: input.imageName,
      status: 'BUILD_PENDING',
      message: 'Waiting for a free build slot.',
      phase: 'queued',
      sourceUrl: input.params.source_url,
      ref: input.params.ref ?? '',
      resolvedRef: input.resolvedRef,
      envvars,
      envvarsSha256: sha256Envvars(envvars),
      useLatestVersions: input.params.use_latest_versions,
      useDeprecatedVersions: input.params.use_deprecated_versions,
      builderImage: input.builderImage,
      runImage: input.runImage,
      destinationImage: input.destination,
      digest: '',
      createdAt: new Date().toISOString(),
      startTime: '',
      endTime: '',
      failureReason: '',
      hint: '',
      timings: [],
      cancelRequested: false,
    };
    this.repo.insert(record);
    this.hub.append(
      record.id,
      'step-queue',
      `Build queued: ${input.params.source_url} at ${input.resolvedRef}`,
    );
    this.hub.flush();
    this.schedule();
    const fresh = this.repo.get(record.id) as BuildRecord;
    return recordToBuild(fresh, this.positions().get(fresh.id));
  }

  /** Start queued builds while the limits allow, oldest first. */
  private schedule(): void {
    if (this.closed) return;
    const perTool = new Map<string, number>();
    for (const r of this.running.values()) perTool.set(r.tool, (perTool.get(r.tool) ?? 0) + 1);
    for (const r of this.repo.listByStatus('BUILD_PENDING')) {
      if (this.running.size >= this.opts.global) break;
      if ((perTool.get(r.tool) ?? 0) >= this.opts.perTool) continue;
      perTool.set(r.tool, (perTool.get(r.tool) ?? 0) + 1);
      const abort = new AbortController();
      this.repo.update(r.id, { status: 'BUILD_RUNNING', phase: 'preparing' });
      const done = runBuild(r, this.deps, abort).finally(() => {
        this.running.delete(r.id);
        this.schedule();
      });
      this.running.set(r.id, { tool: r.tool, abort, done });
    }
  }

  private finished(record: BuildRecord, _seconds: number): void {
    this.opts.onFinished?.(record);
    this.prune(record.tool, record.imageName);
  }

  /** Keep the newest N successful and M failed builds per image; queued and running ones always stay. */
  private prune(tool: string, image: string): void {
    const builds = this.repo.listByTool(tool).filter((b) => b.imageName === image);
    let ok = 0;
    let failed = 0;
    for (const b of builds) {
      if (!FINISHED_STATUSES.has(b.status) && b.status !== 'BUILD_UNKNOWN') continue;
      const keep =
        b.status === 'BUILD_SUCCESS' ? ok++ < this.opts.keep.successful : failed++ < this.opts.keep.failed;
      if (!keep) this.repo.delete(b.id);
    }
  }

  async get(tool: string, id: string): Promise<Build | undefined> {
    const r = this.own(tool, id);
    return r ? recordToBuild(r, this.positions().get(r.id)) : undefined;
  }

  async list(tool: string): Promise<Build[]> {
    const positions = this.positions();
    return this.repo.listByTool(tool).map((r) => recordToBuild(r, positions.get(r.id)));
  }

  async logs(
    tool: string,
    id: string,
    opts: { follow: boolean; signal: AbortSignal },
  ): Promise<AsyncIterable<BuildLog>> {
    if (!this.own(tool, id)) throw notFound(id);
    this.hub.flush();
    const status = () => this.repo.get(id)?.status as BuildStatus | undefined;
    return this.hub.read(id, {
      follow: opts.follow,
      signal: opts.signal,
      isDone: () => {
        const s = status();
        return s === undefined || (s !== 'BUILD_PENDING' && s !== 'BUILD_RUNNING');
      },
      exists: () => status() !== undefined,
    });
  }

  async cancel(tool: string, id: string): Promise<void> {
    const r = this.own(tool, id);
    if (!r) throw notFound(id);
    if (r.status === 'BUILD_CANCELLED' || r.cancelRequested) {
      throw new AppError('BUILD_CONFLICT', `Build '${id}' cannot be cancelled again.`);
    }
    if (r.status !== 'BUILD_PENDING' && r.status !== 'BUILD_RUNNING') {
      throw new AppError(
        'BUILD_CONFLICT',
        `Build '${id}' cannot be cancelled because it has already completed.`,
      );
    }
    this.repo.update(id, { cancelRequested: true });
    const run = this.running.get(id);
    if (run) {
      this.hub.append(id, 'step-cancel', 'Cancelling: stopping every process of the build.');
      run.abort.abort('cancelled');
      await run.done;
      return;
    }
    this.hub.append(id, 'step-cancel', 'Cancelled before it started.');
    this.repo.update(id, {
      status: 'BUILD_CANCELLED',
      phase: 'done',
      message: 'The build was cancelled.',
      failureReason: 'CANCELLED',
      endTime: new Date().toISOString(),
      envvars: Object.fromEntries(Object.keys(r.envvars).map((k) => [k, ''])),
    });
    this.hub.ended(id);
  }

  async delete(tool: string, id: string): Promise<void> {
    const r = this.own(tool, id);
    if (!r) throw notFound(id);
    const run = this.running.get(id);
    if (run) {
      run.abort.abort('cancelled');
      await run.done;
    }
    this.repo.delete(id);
    this.hub.ended(id);
  }

  async health(): Promise<string | undefined> {
    return this.closed ? 'shutting down' : undefined;
  }

  /** Whether a build is running now (its push credentials are still in use). */
  isActive(id: string): boolean {
    return this.running.has(id);
  }

  /** Whether any build of the tool is queued or running (clean collects garbage at once only when not). */
  busy(tool: string): boolean {
    return [...this.running.values()].some((r) => r.tool === tool);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const r of this.running.values()) r.abort.abort('shutdown');
    await Promise.all([...this.running.values()].map((r) => r.done));
    this.hub.flush();
  }
}
