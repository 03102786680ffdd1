import { chmod, lstat, mkdir, rmdir } from 'node:fs/promises';
import path from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { runSandboxed, type SandboxHostOptions, sandboxSupport } from '@toolforge/buildpacks/sandbox';
import type { Logger } from 'pino';
import { AppError } from '../../errors.ts';
import type { Workload, WorkloadKind, WorkloadRuntime, WorkloadSpec } from '../../workloads/port.ts';
import { ToolHostIds } from './host-ids.ts';
import { DEFAULT_LOG_BYTES, LogFile, RunOutput } from './logs.ts';
import { freePort, portIsFree } from './ports.ts';
import { type WorkloadRecord, WorkloadsRepo } from './repo.ts';
import { type ImageSource, RootfsCache } from './rootfs.ts';
import { sandboxSpecFor } from './sandbox-spec.ts';
import { cronNextRun, type NextRun } from './schedule.ts';
import { argvFor, validateSpec, WEB_PROCESS } from './spec.ts';
import { describe, type RunEnd, Supervisor } from './supervisor.ts';

export interface LocalRuntimeOptions {
  /** The API's database (the `workloads` table). */
  db: DatabaseSync;
  /** State goes under `<dataDir>/runtime/`: rootfs cache, logs, tool homes. */
  dataDir: string;
  images: ImageSource;
  log: Logger;
  /** Where a webservice answers; default `http://127.0.0.1:<port>/`. */
  webUrl?: (tool: string, port: number) => string;
  now?: () => Date;
  /** Wall-time limit of one run of a one-off or scheduled job; default 6 h. */
  jobTimeoutMs?: number;
  /** Size of a workload's log file; one rotated file is kept besides. Default 5 MiB. */
  logBytes?: number;
  /** When a schedule fires next; default croner (5 fields, UTC). Tests inject a faster clock. */
  nextRun?: NextRun;
  /** Passed to the sandbox (e.g. to force its rlimit fallback). */
  sandboxHost?: SandboxHostOptions;
}

export const NO_WEB_PROCESS = 'the image has no web process (add one to your Procfile)';
const INTERRUPTED = 'the service restarted while it ran';
const DEFAULT_JOB_TIMEOUT_MS = 6 * 60 * 60_000;
const HEALTH_CACHE_MS = 60_000;

const keyOf = (tool: string, kind: WorkloadKind, name: string) => `${tool}/${kind}/${name}`;

/**
 * The embedded workload runtime: a tool's webservice and jobs run from their images' unpacked root file
 * systems under the bubblewrap sandbox on this machine. Records live in sqlite; `recover()` brings them
 * back after a restart. See README.md.
 */
export class LocalRuntime implements WorkloadRuntime {
  readonly name = 'local' as const;
  private readonly repo: WorkloadsRepo;
  private readonly root: string;
  private readonly rootfs: RootfsCache;
  private readonly log: Logger;
  private readonly opts: LocalRuntimeOptions;
  private readonly now: () => Date;
  private readonly hostIds = new ToolHostIds();
  private readonly workloads = new Map<string, Supervisor>();
  /** Operations on one workload run one after the other (apply, restart, delete). */
  private readonly queues = new Map<string, Promise<unknown>>();
  private ready: Promise<void> | undefined;
  private closed = false;
  private healthCache: { at: number; problem: string | undefined } | undefined;

  constructor(opts: LocalRuntimeOptions) {
    this.opts = opts;
    this.repo = new WorkloadsRepo(opts.db);
    this.root = path.join(opts.dataDir, 'runtime');
    this.log = opts.log.child({ component: 'local-runtime' });
    this.rootfs = new RootfsCache(path.join(this.root, 'rootfs'), opts.images, this.log);
    this.now = opts.now ?? (() => new Date());
  }

  /**
   * After a start of the API: webservices and continuous jobs run again, schedules are armed, one-off jobs
   * that were running are marked failed (their run is lost). Call once, before serving.
   */
  recover(): Promise<void> {
    this.ready ??= this.load();
    return this.ready;
  }

  private async load(): Promise<void> {
    // The sandbox's host ids must get through to the rootfs cache and the homes: searchable, not listable.
    for (const dir of [this.root, path.join(this.root, 'rootfs'), path.join(this.root, 'home')]) {
      await mkdir(dir, { recursive: true, mode: 0o711 });
      await chmod(dir, 0o711);
    }
    await mkdir(path.join(this.root, 'logs'), { recursive: true, mode: 0o700 });
    for (const record of this.repo.all()) {
      const w = this.supervisor(record);
      this.workloads.set(w.key, w);
      if (w.mode !== 'once') w.start();
      else if (w.active) {
        w.set({ state: 'failed', message: INTERRUPTED });
        void w.file.append([`--- ${INTERRUPTED} (run ${record.runs}) ---`]);
      }
    }
    const running = [...this.workloads.values()].filter((w) => w.mode !== 'once').length;
    if (this.workloads.size)
      this.log.info({ workloads: this.workloads.size, running }, 'workloads recovered');
    await this.rootfs.prune(() => this.digestsInUse());
  }

  async apply(spec: WorkloadSpec): Promise<Workload> {
    validateSpec(spec);
    await this.recover();
    const key = keyOf(spec.tool, spec.kind, spec.name);
    return this.serial(key, async () => {
      this.assertOpen();
      const old = this.workloads.get(key);
      // The webservice keeps its port across replacements (while it is free, see hostPort()).
      let hostPort = old?.record.hostPort;
      if (spec.kind === 'webservice') hostPort ??= await freePort(this.portsInUse(old));
      const record: WorkloadRecord = {
        spec: structuredClone(spec),
        createdAt: this.now().toISOString(),
        hostPort: spec.kind === 'webservice' ? hostPort : undefined,
        state: 'pending',
        message: 'waiting to start',
        runs: old?.record.runs ?? 0,
        startedAt: undefined,
        lastRun: undefined,
      };
      // In the map (and so in use) before the old one stops: its image is not pruned in between.
      const w = this.supervisor(record, old?.file);
      this.workloads.set(key, w);
      await old?.stop('stop');
      this.repo.put(record);
      if (old) void this.prune();
      w.start();
      this.log.info({ workload: key, image: spec.image.requested, replaced: !!old }, 'workload applied');
      return w.workload();
    });
  }

  async list(tool: string): Promise<Workload[]> {
    await this.recover();
    return [...this.workloads.values()]
      .filter((w) => w.spec.tool === tool)
      .sort((a, b) => a.spec.kind.localeCompare(b.spec.kind) || a.spec.name.localeCompare(b.spec.name))
      .map((w) => w.workload());
  }

  async get(tool: string, kind: WorkloadKind, name: string): Promise<Workload | undefined> {
    await this.recover();
    return this.workloads.get(keyOf(tool, kind, name))?.workload();
  }

  async delete(tool: string, kind: WorkloadKind, name: string): Promise<boolean> {
    await this.recover();
    const key = keyOf(tool, kind, name);
    return this.serial(key, async () => {
      const w = this.workloads.get(key);
      if (!w) return false;
      await w.stop('stop');
      this.workloads.delete(key);
      this.repo.delete(tool, kind, name);
      await w.file.remove();
      if (![...this.workloads.values()].some((o) => o.spec.tool === tool)) {
        await this.hostIds.release(tool);
        await rmdir(path.dirname(w.file.file)).catch(() => {}); // the tool's log folder, now empty
      }
      void this.prune();
      this.log.info({ workload: key }, 'workload deleted');
      return true;
    });
  }

  async restart(tool: string, kind: WorkloadKind, name: string): Promise<Workload> {
    await this.recover();
    const key = keyOf(tool, kind, name);
    return this.serial(key, async () => {
      this.assertOpen();
      const w = this.workloads.get(key);
      if (!w) throw notFound(kind, name);
      await w.stop('stop');
      w.start();
      return w.workload();
    });
  }

  async *logs(
    tool: string,
    kind: WorkloadKind,
    name: string,
    opts: { follow: boolean; signal: AbortSignal },
  ): AsyncIterable<string> {
    await this.recover();
    const w = this.workloads.get(keyOf(tool, kind, name));
    if (!w) throw notFound(kind, name);
    yield* w.file.read(opts);
  }

  async pinnedDigests(tool: string): Promise<Set<string>> {
    await this.recover();
    return new Set(
      [...this.workloads.values()]
        .filter((w) => w.spec.tool === tool && w.active)
        .map((w) => w.spec.image.digest),
    );
  }

  async health(): Promise<string | undefined> {
    if (this.closed) return 'shutting down';
    if (this.healthCache && Date.now() - this.healthCache.at < HEALTH_CACHE_MS)
      return this.healthCache.problem;
    const support = await sandboxSupport();
    // Without cgroups the limits are rlimits: weaker, but workloads run, so that is no failure.
    const fatal = support.problems.filter((p) => !p.startsWith('no cgroups'));
    const problem = fatal.length ? `workloads cannot run: ${fatal.join('; ')}` : undefined;
    this.healthCache = { at: Date.now(), problem };
    return problem;
  }

  /** Stop every process; they come back with the next `recover()`. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.queues.values()]);
    await Promise.all([...this.workloads.values()].map((w) => w.stop('shutdown')));
    await Promise.all([...this.workloads.values()].map((w) => w.file.close()));
    await this.hostIds.releaseAll();
  }

  private assertOpen(): void {
    if (this.closed) throw new AppError('NOT_READY', 'The workload runtime is shutting down.');
  }

  private serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => {});
    this.queues.set(key, tail);
    void tail.then(() => {
      if (this.queues.get(key) === tail) this.queues.delete(key);
    });
    return next;
  }

  private supervisor(record: WorkloadRecord, file?: LogFile): Supervisor {
    const { tool, kind, name } = record.spec;
    const log =
      file ??
      new LogFile(path.join(this.root, 'logs', tool, `${kind}-${name}.log`), {
        maxBytes: this.opts.logBytes ?? DEFAULT_LOG_BYTES,
        now: this.now,
        log: this.log,
      });
    const w = new Supervisor(record, log, {
      execute: (s, run, signal) => this.execute(s, run, signal),
      save: (s, patch) => {
        // A replaced or deleted workload's last words must not overwrite its successor's row.
        if (this.workloads.get(s.key) === s) this.repo.update(tool, kind, name, patch);
      },
      now: this.now,
      nextRun: this.opts.nextRun ?? cronNextRun,
      log: this.log,
    });
    if (record.hostPort) w.url = this.url(tool, record.hostPort);
    return w;
  }

  /** One run: unpack the image (once per digest), find its port and host id, run it in the sandbox. */
  private async execute(w: Supervisor, run: number, signal: AbortSignal): Promise<RunEnd> {
    const spec = w.spec;
    let prepared: Awaited<ReturnType<RootfsCache['ensure']>>;
    try {
      prepared = await this.rootfs.ensure(spec.image);
    } catch (err) {
      this.log.warn({ err, workload: w.key, digest: spec.image.digest }, 'cannot unpack a workload image');
      return {
        kind: 'unrunnable',
        message: `cannot unpack the image ${spec.image.requested}: ${(err as Error).message}`,
      };
    }
    if (spec.kind === 'webservice' && spec.image.type === 'buildservice') {
      // A symlink to the launcher in the image: lstat, it points inside the image, not the host.
      if (!(await lstat(path.join(prepared.rootfs, WEB_PROCESS)).catch(() => undefined)))
        return { kind: 'unrunnable', message: NO_WEB_PROCESS };
    }
    if (!argvFor(spec, prepared.config).length)
      return { kind: 'unrunnable', message: 'the image defines no command (Entrypoint or Cmd) to run' };
    const hostId = await this.hostIds.id(spec.tool);
    const home = spec.mount === 'all' ? path.join(this.root, 'home', spec.tool) : undefined;
    if (home) await this.hostIds.prepareHome(spec.tool, home);
    const hostPort = spec.kind === 'webservice' ? await this.hostPort(w) : undefined;
    const sandbox = await sandboxSpecFor(spec, {
      rootfs: prepared.rootfs,
      config: prepared.config,
      hostId,
      ...(home ? { home } : {}),
      ...(hostPort ? { hostPort } : {}),
      wallTimeMs:
        w.mode === 'service' ? Number.POSITIVE_INFINITY : (this.opts.jobTimeoutMs ?? DEFAULT_JOB_TIMEOUT_MS),
    });
    if (signal.aborted) return { kind: 'error', message: 'stopped' };
    const output = new RunOutput(w.file);
    await w.file.append([`--- started (run ${run}) ---`]);
    const startedAt = this.now().toISOString();
    w.running(startedAt);
    const result = await runSandboxed(
      { ...sandbox, onOutput: output.onOutput, signal },
      this.opts.sandboxHost,
    );
    await output.end();
    const end: RunEnd = { kind: 'ran', result, startedAt };
    await w.file.append([`--- ${signal.aborted ? 'stopped' : describe(end)} (run ${run}) ---`]);
    return end;
  }

  /** The webservice's port: the one it had while that is free, else a new one (saved). */
  private async hostPort(w: Supervisor): Promise<number> {
    const taken = this.portsInUse(w);
    let port = w.record.hostPort;
    if (!port || taken.has(port) || !(await portIsFree(port))) {
      const old = port;
      port = await freePort(taken);
      w.set({ hostPort: port });
      if (old) this.log.warn({ workload: w.key, old, port }, 'the webservice port was taken: it moves');
    }
    w.url = this.url(w.spec.tool, port);
    return port;
  }

  private portsInUse(except: Supervisor | undefined): Set<number> {
    const ports = new Set<number>();
    for (const w of this.workloads.values())
      if (w !== except && w.record.hostPort) ports.add(w.record.hostPort);
    return ports;
  }

  private url(tool: string, port: number): string {
    return this.opts.webUrl?.(tool, port) ?? `http://127.0.0.1:${port}/`;
  }

  /**
   * Digests whose unpacked rootfs is kept: every workload's, finished one-off jobs' too (so running one again,
   * or another job of the same image, needs no new unpack). pinnedDigests is narrower on purpose.
   */
  private digestsInUse(): Set<string> {
    return new Set([...this.workloads.values()].map((w) => w.spec.image.digest));
  }

  private prune(): Promise<void> {
    return this.rootfs
      .prune(() => this.digestsInUse())
      .catch((err) => this.log.warn({ err }, 'pruning unpacked images failed'));
  }
}

function notFound(kind: WorkloadKind, name: string): AppError {
  return new AppError(
    'WORKLOAD_NOT_FOUND',
    `No ${kind === 'job' ? `job named '${name}'` : 'webservice'} found.`,
  );
}
