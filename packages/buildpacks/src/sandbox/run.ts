import { chown, mkdtemp, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { validateSpec } from './bwrap-args.ts';
import { type CgroupCounters, createRunCgroups, findHierarchies, type RunCgroups } from './cgroups.ts';
import { watchDiskUsage } from './disk-usage.ts';
import { decodeExitStatus, formatBytes, formatDuration } from './format.ts';
import { acquireHostId, type HostIdentity, hostIdentity } from './host-identity.ts';
import { type BwrapStatus, type Launched, launchBwrap } from './launcher.ts';
import { type Network, startNetwork } from './network.ts';
import { OutputPump } from './output.ts';
import { lastLine, TailBuffer } from './process-util.ts';
import { seccompFilter } from './seccomp.ts';
import type { SandboxHostOptions, SandboxOutcome, SandboxResult, SandboxSpec } from './types.ts';

/** bwrap's own two processes (the monitor outside, the reaper as pid 1 inside) count against pids.max. */
const BWRAP_PROCESSES = 2;
/** How often the cgroup counters are read, to stop a run as soon as a limit fired. */
const COUNTER_POLL_MS = 100;

/**
 * Runs `spec.argv` in a fresh sandbox and resolves when the run is over and nothing of it is left: no
 * process (the cgroups are empty and removed), no slirp4netns, no temporary files. Never rejects for what
 * the sandboxed code does; a spec that is a programmer error throws a TypeError.
 */
export async function runSandboxed(spec: SandboxSpec, host: SandboxHostOptions = {}): Promise<SandboxResult> {
  validateSpec(spec);
  const startedAt = performance.now();
  if (spec.signal?.aborted) {
    return {
      outcome: 'cancelled',
      exitCode: null,
      signal: null,
      message: 'cancelled before start',
      usage: { wallMs: 0, outputBytes: 0 },
    };
  }
  const lease = spec.hostId === undefined ? await acquireHostId() : null;
  try {
    return await new Run(spec, host, hostIdentity(spec.hostId ?? lease!.id), startedAt).run();
  } finally {
    await lease?.release();
  }
}

class Run {
  private readonly spec: SandboxSpec;
  private readonly host: SandboxHostOptions;
  private readonly identity: HostIdentity;
  private readonly startedAt: number;
  private outcome: { kind: SandboxOutcome; message: string } | null = null;
  private cgroups: RunCgroups | null = null;
  private status: BwrapStatus | null = null;
  private launched: Launched | null = null;
  private killing: Promise<void> | null = null;
  private readonly notes: string[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private disk: ReturnType<typeof watchDiskUsage> | null = null;
  private network: Network | null = null;
  private runDir: string | null = null;
  /** Start time of the sandbox's pid 1, to recognise it in /proc (pids are reused). */
  private initStart: string | null = null;

  constructor(spec: SandboxSpec, host: SandboxHostOptions, identity: HostIdentity, startedAt: number) {
    this.spec = spec;
    this.host = host;
    this.identity = identity;
    this.startedAt = startedAt;
  }

  /** Records why the run ends (the first reason wins) and kills it. */
  private stop(kind: SandboxOutcome, message: string): void {
    if (this.outcome) return;
    this.outcome = { kind, message };
    this.killing = this.killAll();
  }

  private async killAll(): Promise<void> {
    const launched = this.launched;
    if (launched) {
      // bwrap reports its child right after clone; wait for that rather than kill blind.
      const status = this.status ?? (await Promise.race([launched.started, sleep(2000).then(() => null)]));
      // pid 1 of the sandbox's pid namespace: when it dies the kernel kills every process in the namespace,
      // and nothing can leave a pid namespace. bwrap's monitor reaps it and exits.
      if (status && (await nsInitAlive(status))) {
        try {
          process.kill(status.childPid, 'SIGKILL');
        } catch {
          // gone already
        }
      } else if (!status) {
        launched.child.kill('SIGKILL'); // its child, if any, dies with it (--die-with-parent)
      }
      // Only then sweep the cgroup: killing the monitor first would orphan pid 1 to the host's init, and
      // some inits (in containers) never reap.
      await Promise.race([launched.processExited, sleep(5000)]);
    }
    // The cgroup is the complete list, bwrap's monitor included: empty it.
    await this.cgroups?.killAll().catch(() => {});
  }

  async run(): Promise<SandboxResult> {
    let result: SandboxResult;
    try {
      result = await this.execute();
    } catch (err) {
      // A failure of ours (spawn, file system): still a result, after the same cleanup.
      const message = `sandbox failed: ${(err as Error).message}`;
      this.stop('sandbox-error', message);
      await this.launched?.processExited;
      result = this.result(null, { kind: 'sandbox-error', message });
    }
    this.spec.signal?.removeEventListener('abort', this.onAbort);
    for (const t of this.timers) clearTimeout(t);
    await this.disk?.stop();
    await this.killing;
    // Nothing of the run may outlive this call. A killed process vanishes from cgroup.procs while it still
    // tears down (frees its memory, unmounts its tmpfs), so the groups being empty is not enough: wait
    // for the sandbox's pid 1 to be done, then empty and remove the groups, then stop slirp4netns.
    let leftover = (await this.waitNamespaceGone()) ? null : "the sandbox's pid 1 does not exit";
    leftover ??=
      (await this.cgroups?.remove().then(
        () => null,
        (err: Error) => err.message,
      )) ?? null;
    await this.network?.stop();
    if (this.runDir) await rm(this.runDir, { recursive: true, force: true }).catch(() => {});
    if (leftover) return { ...result, outcome: 'sandbox-error', message: `cannot clean up: ${leftover}` };
    return result;
  }

  private readonly onAbort = () => this.stop('cancelled', 'cancelled');

  private async execute(): Promise<SandboxResult> {
    const { spec } = this;
    const limits = spec.limits;
    const stderrTail = new TailBuffer(4096);
    // Listen first: an abort during the set-up below must not go unnoticed.
    spec.signal?.addEventListener('abort', this.onAbort, { once: true });
    if (spec.signal?.aborted) this.onAbort();
    const wallLeft = Math.max(0, limits.wallTimeMs - (performance.now() - this.startedAt));
    this.timers.push(
      setTimeout(
        () =>
          this.stop('timeout', `killed: wall time limit of ${formatDuration(limits.wallTimeMs)} exceeded`),
        wallLeft,
      ),
    );
    const hierarchies = this.host.cgroups === 'off' ? 'disabled by configuration' : await findHierarchies();
    if (typeof hierarchies === 'string') {
      this.notes.push(`no cgroups (${hierarchies}): memory and process limits are per-process rlimits`);
    } else {
      try {
        this.cgroups = await createRunCgroups(
          { memoryBytes: limits.memoryBytes, pids: limits.pids + BWRAP_PROCESSES },
          this.identity,
          this.host.cgroupParent,
        );
      } catch (err) {
        return this.result(null, {
          kind: 'sandbox-error',
          message: `cannot create cgroups: ${(err as Error).message}`,
        });
      }
    }
    if (spec.publish?.length) {
      // slirp4netns (as the host id) creates its API socket here; nobody else can get in.
      this.runDir = await mkdtemp(path.join(tmpdir(), 'toolforge-sandbox-'));
      if (this.identity.dedicated) await chown(this.runDir, this.identity.uid, this.identity.gid);
    }

    if (this.outcome) return this.result(null, this.outcome);

    const launched = launchBwrap(spec, {
      identity: this.identity,
      procsFiles: this.cgroups?.procsFiles ?? [],
      rlimits: this.cgroups
        ? undefined
        : { nproc: limits.pids + BWRAP_PROCESSES, dataBytes: limits.memoryBytes },
      seccomp: seccompFilter() ?? undefined,
    });
    this.launched = launched;
    const pump = new OutputPump({
      limit: limits.outputBytes,
      onOutput: (chunk, stream) => {
        if (stream === 'stderr') stderrTail.push(chunk);
        return spec.onOutput?.(chunk, stream);
      },
      onLimit: () =>
        this.stop('output-limit', `killed: output limit of ${formatBytes(limits.outputBytes)} exceeded`),
      onHandlerError: (err) => this.stop('sandbox-error', `output handler failed: ${(err as Error).message}`),
    });
    pump.attach(launched.child.stdout as Readable, 'stdout');
    pump.attach(launched.child.stderr as Readable, 'stderr');

    this.status = await launched.started;
    if (this.status) this.initStart = (await procStat(this.status.childPid))?.start ?? null;
    if (this.status && !this.outcome && spec.network === 'outbound') {
      try {
        this.network = await startNetwork({
          childPid: this.status.childPid,
          netnsInode: this.status.netns,
          identity: this.identity,
          apiSocket: this.runDir ? path.join(this.runDir, 'slirp.sock') : undefined,
          publish: spec.publish ?? [],
        });
      } catch (err) {
        // If bwrap itself failed to set up (and took the namespace with it), its message is the real one.
        const bwrapDied = await Promise.race([
          launched.processExited.then(() => true),
          sleep(250).then(() => false),
        ]);
        if (!bwrapDied) this.stop('sandbox-error', `network setup failed: ${(err as Error).message}`);
      }
    }
    if (this.status && !this.outcome) launched.unblock();

    const groups = this.cgroups;
    if (groups) {
      const poll = () =>
        void groups.counters().then(
          (c) => this.checkCounters(c),
          () => {},
        );
      this.timers.push(setInterval(poll, COUNTER_POLL_MS));
    }
    if (limits.disk) {
      const { bytes } = limits.disk;
      this.disk = watchDiskUsage(limits.disk.paths, bytes, (used) =>
        this.stop(
          'disk',
          `killed: disk limit of ${formatBytes(bytes)} exceeded (${formatBytes(used)} written)`,
        ),
      );
    }

    await launched.exited;
    await pump.done();
    // Over: a cancel or timeout from now on is too late to matter.
    spec.signal?.removeEventListener('abort', this.onAbort);
    for (const t of this.timers) clearTimeout(t);
    // Limits that fired after the last poll (e.g. the OOM killer got the main process) still count.
    const counters = (await groups?.counters()) ?? null;
    const exitCode = launched.commandExitCode();
    if (counters) {
      this.checkCounters(counters);
      // Kernels without an oom_kill counter: a SIGKILLed run that hit its limit was the OOM killer's doing.
      if (counters.oomKills === null && counters.memoryFailures > 0 && exitCode === 128 + 9) {
        this.stop('memory', memoryMessage(limits.memoryBytes));
      }
    }
    if (this.disk && !this.outcome) await this.disk.check();
    if (!this.outcome && exitCode === null) {
      let why =
        lastLine(stderrTail.text()) ||
        `bwrap exited with ${launched.child.exitCode ?? launched.child.signalCode}`;
      if (this.identity.dedicated && why.includes('Permission denied')) {
        why += ` (host id ${this.identity.uid} must be able to reach the rootfs and mount sources: make their parent directories searchable)`;
      }
      this.outcome = { kind: 'sandbox-error', message: `sandbox setup failed: ${why}` };
    }
    return this.result(exitCode, this.outcome, counters, pump.bytes);
  }

  private checkCounters(c: CgroupCounters): void {
    if (c.oomKills !== null && c.oomKills > 0)
      this.stop('memory', memoryMessage(this.spec.limits.memoryBytes));
    else if (c.pidsMaxHits > 0)
      this.stop('pids', `killed: process limit of ${this.spec.limits.pids} exceeded`);
  }

  /**
   * Waits until the sandbox's pid 1 is a zombie or gone: the kernel only lets it get there after every
   * other process of its pid namespace has been killed and released. (bwrap's monitor may exit before:
   * it leaves as soon as the command itself has exited.) False if that takes more than 10 s.
   */
  private async waitNamespaceGone(): Promise<boolean> {
    const status = this.status;
    if (!status || !this.initStart) return true;
    for (let i = 0; i < 1000; i++) {
      const now = await procStat(status.childPid);
      if (!now || now.start !== this.initStart || now.state === 'Z' || now.state === 'X') return true;
      if (i === 0) await this.killAll(); // the command exited on its own and left pid 1 behind
      await sleep(10);
    }
    return false;
  }

  private result(
    status: number | null,
    outcome: { kind: SandboxOutcome; message: string } | null,
    counters: CgroupCounters | null = null,
    outputBytes = 0,
  ): SandboxResult {
    const decoded = status === null ? { exitCode: null, signal: null } : decodeExitStatus(status);
    let kind: SandboxOutcome;
    let message: string;
    if (outcome) {
      ({ kind, message } = outcome);
    } else if (decoded.signal) {
      kind = 'signaled';
      message = `terminated by ${decoded.signal}`;
    } else {
      kind = 'exited';
      message = `exited with status ${decoded.exitCode}`;
    }
    if (this.notes.length > 0) message += ` [${this.notes.join('; ')}]`;
    return {
      outcome: kind,
      exitCode: decoded.exitCode,
      signal: decoded.signal,
      message,
      usage: {
        wallMs: Math.round(performance.now() - this.startedAt),
        ...(counters ? { peakMemoryBytes: counters.peakMemoryBytes } : {}),
        outputBytes,
      },
    };
  }
}

/** Whether the sandbox's pid 1 still exists (checked by its pid namespace: its pid may have been reused). */
async function nsInitAlive(status: BwrapStatus): Promise<boolean> {
  const link = await readlink(`/proc/${status.childPid}/ns/pid`).catch(() => '');
  return link === `pid:[${status.pidns}]`;
}

/** State letter and start time (field 22) of a process, or null when it does not exist. */
async function procStat(pid: number): Promise<{ state: string; start: string } | null> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  if (!stat) return null;
  // Fields after the command name, which is in parentheses and may contain anything.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '', start: fields[19] ?? '' };
}

function memoryMessage(bytes: number): string {
  return `killed: memory limit of ${formatBytes(bytes)} exceeded`;
}
