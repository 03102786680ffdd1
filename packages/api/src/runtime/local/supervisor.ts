import { setTimeout as sleep } from 'node:timers/promises';
import type { SandboxResult } from '@toolforge/buildpacks/sandbox';
import type { Logger } from 'pino';
import type { Workload, WorkloadSpec, WorkloadStatus } from '../../workloads/port.ts';
import type { LogFile } from './logs.ts';
import type { RecordPatch, WorkloadRecord } from './repo.ts';
import type { NextRun } from './schedule.ts';
import { type Mode, modeOf } from './spec.ts';

/** Crash restarts wait 1 s, doubling up to 60 s; a run that stayed up a minute starts the series over. */
const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 60_000;
const BACKOFF_RESET_MS = 60_000;
/** Long waits for a schedule are cut into pieces (timers overflow at 24.8 days; clocks get adjusted). */
const MAX_SLEEP_MS = 60 * 60_000;

/** How a run ended: it ran; it cannot run (and never will as it is); or starting it failed (try again). */
export type RunEnd =
  | { kind: 'ran'; result: SandboxResult; startedAt: string }
  | { kind: 'unrunnable'; message: string }
  | { kind: 'error'; message: string };

export interface SupervisorDeps {
  /** Prepare and run once (calling `w.running()` as the process starts); resolves when it is over. */
  execute(w: Supervisor, run: number, signal: AbortSignal): Promise<RunEnd>;
  save(w: Supervisor, patch: RecordPatch): void;
  now(): Date;
  nextRun: NextRun;
  log: Logger;
}

/** One line for the status and the log. */
export function describe(end: RunEnd): string {
  if (end.kind !== 'ran') return end.kind === 'error' ? `could not start: ${end.message}` : end.message;
  const r = end.result;
  if (r.outcome === 'exited') return `exited with code ${r.exitCode}`;
  if (r.outcome === 'signaled') return `was killed by ${r.signal}`;
  return r.message;
}

/**
 * Runs one workload: a webservice or continuous job again and again (with backoff after crashes), a
 * one-off job once, a scheduled job at its times (skipping a run while the previous one still runs).
 * Status lives here; what must survive a restart of the API is saved through `deps.save`.
 */
export class Supervisor {
  readonly record: WorkloadRecord;
  readonly file: LogFile;
  readonly mode: Mode;
  private readonly deps: SupervisorDeps;
  private restarts = 0;
  private nextRun: string | undefined;
  url: string | undefined;
  private abort: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private current: Promise<void> | undefined;
  /** Scheduled jobs: how the last run ended, for the status message. */
  private lastOutcome: string | undefined;

  constructor(record: WorkloadRecord, file: LogFile, deps: SupervisorDeps) {
    this.record = record;
    this.file = file;
    this.deps = deps;
    this.mode = modeOf(record.spec);
    const code = record.lastRun?.exitCode;
    if (typeof code === 'number') this.lastOutcome = `the last run exited with code ${code}`;
  }

  get spec(): WorkloadSpec {
    return this.record.spec;
  }

  get key(): string {
    return `${this.spec.tool}/${this.spec.kind}/${this.spec.name}`;
  }

  /** Whether it runs or may run again: what it uses must stay (its image, its port). */
  get active(): boolean {
    if (this.mode !== 'once') return this.record.state !== 'stopped';
    return ['pending', 'starting', 'running', 'restarting'].includes(this.record.state);
  }

  workload(): Workload {
    const r = this.record;
    const status: WorkloadStatus = { state: r.state, message: r.message, restarts: this.restarts };
    if (this.url) status.url = this.url;
    if (r.startedAt) status.startedAt = r.startedAt;
    if (r.lastRun) status.lastRun = { ...r.lastRun };
    if (this.nextRun && this.mode === 'scheduled' && this.loop) status.nextRun = this.nextRun;
    return { spec: r.spec, status, createdAt: r.createdAt };
  }

  set(patch: RecordPatch): void {
    Object.assign(this.record, patch);
    this.deps.save(this, patch);
  }

  /** Called by `execute` right before the sandbox starts. */
  running(startedAt: string): void {
    this.set({ state: 'running', message: `running (run ${this.record.runs})`, startedAt });
  }

  start(): void {
    if (this.loop) return;
    const abort = new AbortController();
    this.abort = abort;
    const body =
      this.mode === 'service'
        ? this.service(abort.signal)
        : this.mode === 'scheduled'
          ? this.scheduled(abort.signal)
          : this.once(abort.signal);
    this.loop = body.catch((err) =>
      this.deps.log.error({ err, workload: this.key }, 'workload supervisor failed'),
    );
  }

  /**
   * Stop the process and the loop. `stop` marks it stopped (delete, replace, restart); `shutdown` leaves the
   * saved state alone, so the next start of the API brings it back (or marks an interrupted job failed).
   */
  async stop(how: 'stop' | 'shutdown'): Promise<void> {
    this.abort?.abort();
    await this.loop;
    this.loop = undefined;
    this.abort = undefined;
    this.nextRun = undefined;
    if (how === 'stop') this.set({ state: 'stopped', message: 'stopped' });
  }

  private async runOne(signal: AbortSignal): Promise<RunEnd> {
    const run = this.record.runs + 1;
    this.set({ state: 'starting', message: `starting (run ${run})`, runs: run });
    try {
      return await this.deps.execute(this, run, signal);
    } catch (err) {
      this.deps.log.warn({ err, workload: this.key }, 'a workload run could not start');
      return { kind: 'error', message: (err as Error).message };
    }
  }

  private async service(signal: AbortSignal): Promise<void> {
    let delay = BACKOFF_MIN_MS;
    while (!signal.aborted) {
      const t0 = performance.now();
      const end = await this.runOne(signal);
      if (signal.aborted) return;
      if (end.kind === 'unrunnable') {
        this.set({ state: 'failed', message: end.message });
        return;
      }
      if (performance.now() - t0 >= BACKOFF_RESET_MS) delay = BACKOFF_MIN_MS;
      // Only the sandbox's wall-time cap (24.8 days) ends a healthy service: no crash, start again at once.
      const wait = end.kind === 'ran' && end.result.outcome === 'timeout' ? 0 : delay;
      this.restarts++;
      this.set({ state: 'restarting', message: `${describe(end)}; starting again in ${wait / 1000} s` });
      if (!(await pause(wait, signal))) return;
      if (wait) delay = Math.min(delay * 2, BACKOFF_MAX_MS);
    }
  }

  private async once(signal: AbortSignal): Promise<void> {
    const end = await this.runOne(signal);
    if (signal.aborted) return;
    const ok = end.kind === 'ran' && end.result.outcome === 'exited' && end.result.exitCode === 0;
    this.set({
      state: ok ? 'succeeded' : 'failed',
      message: describe(end),
      ...(end.kind === 'ran'
        ? {
            lastRun: {
              startedAt: end.startedAt,
              endedAt: this.deps.now().toISOString(),
              exitCode: end.result.exitCode,
            },
          }
        : {}),
    });
  }

  private async scheduled(signal: AbortSignal): Promise<void> {
    const schedule = this.spec.schedule ?? '';
    try {
      for (;;) {
        const next = this.deps.nextRun(schedule, this.deps.now());
        if (!next) {
          this.set({ state: 'failed', message: `the schedule "${schedule}" never matches again` });
          return;
        }
        this.nextRun = next.toISOString();
        if (!this.current) this.set({ state: 'scheduled', message: this.scheduledMessage() });
        for (let left = next.getTime() - this.deps.now().getTime(); left > 0; ) {
          if (!(await pause(Math.min(left, MAX_SLEEP_MS), signal))) return;
          left = next.getTime() - this.deps.now().getTime();
        }
        if (this.current) {
          const line = `skipped the run due at ${next.toISOString()}: run ${this.record.runs} is still running`;
          void this.file.append([`--- ${line} ---`]);
          this.deps.log.info({ workload: this.key }, line);
          continue;
        }
        this.current = this.scheduledRun(signal).finally(() => {
          this.current = undefined;
        });
      }
    } finally {
      await this.current;
    }
  }

  private async scheduledRun(signal: AbortSignal): Promise<void> {
    const end = await this.runOne(signal);
    if (signal.aborted) return;
    const what = describe(end);
    this.lastOutcome =
      end.kind === 'unrunnable' ? `the last run could not start: ${what}` : `the last run ${what}`;
    this.set({
      state: 'scheduled',
      message: this.scheduledMessage(),
      ...(end.kind === 'ran'
        ? {
            lastRun: {
              startedAt: end.startedAt,
              endedAt: this.deps.now().toISOString(),
              exitCode: end.result.exitCode,
            },
          }
        : {}),
    });
  }

  private scheduledMessage(): string {
    const next = `next run at ${this.nextRun}`;
    return this.lastOutcome ? `${this.lastOutcome}; ${next}` : next;
  }
}

/** Wait; false when aborted. */
async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  if (ms <= 0) return true;
  return sleep(ms, undefined, { signal }).then(
    () => true,
    () => false,
  );
}
