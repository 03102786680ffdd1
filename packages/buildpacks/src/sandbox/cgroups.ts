// Per-run cgroup v1 memory and pids groups: the limits that really hold (rlimits are only a fallback) and
// the list of a run's live processes, to sweep after the kill.
//
// Layout: <hierarchy mount>/<the service's own cgroup>/<parent>/<pid>-<n> in the memory and pids
// hierarchies. Nesting under the service's own cgroup keeps whatever limits and accounting its manager
// (systemd, a container runtime) applies to the service valid for its builds too; with systemd on v1 set
// Delegate=yes on the unit so it leaves the subtree alone.
import { access, chown, constants, mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface CgroupCounters {
  /** Processes the kernel OOM-killed because of the memory limit (null: kernel has no counter). */
  oomKills: number | null;
  /** Times the memory limit was hit (reclaim included): only meaningful without oomKills. */
  memoryFailures: number;
  /** Forks refused because pids.max was reached. */
  pidsMaxHits: number;
  peakMemoryBytes: number;
}

export interface RunCgroups {
  dirs: { memory: string; pids: string };
  /** cgroup.procs files the launcher writes its own pid to, before it execs bwrap. */
  procsFiles: string[];
  counters(): Promise<CgroupCounters>;
  processes(): Promise<number[]>;
  /** SIGKILLs every process in the groups until none is left (or throws after `timeoutMs`). */
  killAll(timeoutMs?: number): Promise<void>;
  /** Waits for the groups to be empty (killing stragglers), then removes them. */
  remove(): Promise<void>;
}

interface Hierarchy {
  /** Directory of the service's own cgroup in this hierarchy. */
  own: string;
}

let probed: Promise<{ memory: Hierarchy; pids: Hierarchy } | string> | undefined;

/** The memory and pids v1 hierarchies, or why they cannot be used. Cached: it does not change. */
export function findHierarchies(): Promise<{ memory: Hierarchy; pids: Hierarchy } | string> {
  probed ??= probe();
  return probed;
}

async function probe(): Promise<{ memory: Hierarchy; pids: Hierarchy } | string> {
  if (process.getuid?.() !== 0) return 'the service does not run as root';
  let mountinfo: string;
  let own: string;
  try {
    [mountinfo, own] = await Promise.all([
      readFile('/proc/self/mountinfo', 'utf8'),
      readFile('/proc/self/cgroup', 'utf8'),
    ]);
  } catch (err) {
    return `cannot read /proc: ${(err as Error).message}`;
  }
  const result: Partial<Record<'memory' | 'pids', Hierarchy>> = {};
  for (const controller of ['memory', 'pids'] as const) {
    const mount = v1Mount(mountinfo, controller);
    if (!mount) return `no cgroup v1 ${controller} hierarchy is mounted`;
    const line = own.split('\n').find((l) => l.split(':')[1]?.split(',').includes(controller));
    const ownPath = line?.split(':').slice(2).join(':') ?? '/';
    const relative = path.relative(mount.root, ownPath);
    if (relative.startsWith('..')) return `own ${controller} cgroup ${ownPath} is outside the mounted part`;
    const dir = path.join(mount.point, relative);
    try {
      await access(dir, constants.W_OK);
    } catch {
      return `${dir} is not writable`;
    }
    result[controller] = { own: dir };
  }
  return { memory: result.memory!, pids: result.pids! };
}

/** Mount point and mounted root of the v1 hierarchy that holds `controller`, from /proc/self/mountinfo. */
export function v1Mount(mountinfo: string, controller: string): { point: string; root: string } | null {
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const [fstype, , superOptions] = right.split(' ');
    if (fstype !== 'cgroup' || !superOptions?.split(',').includes(controller)) continue;
    const fields = left.split(' ');
    const root = fields[3];
    const point = fields[4];
    if (root && point) return { root: unescapeMount(root), point: unescapeMount(point) };
  }
  return null;
}

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}

let counter = 0;

export async function createRunCgroups(
  limits: { memoryBytes: number; pids: number },
  owner: { uid: number; gid: number },
  parentName = 'toolforge',
): Promise<RunCgroups> {
  const found = await findHierarchies();
  if (typeof found === 'string') throw new Error(found);
  const name = `${process.pid}-${++counter}`;
  const memory = path.join(found.memory.own, parentName, name);
  const pids = path.join(found.pids.own, parentName, name);
  await removeStale(path.dirname(memory));
  await removeStale(path.dirname(pids));
  await mkdir(memory, { recursive: true });
  await mkdir(pids, { recursive: true });
  const groups = runCgroups(memory, pids);
  try {
    await writeFile(path.join(memory, 'memory.limit_in_bytes'), String(limits.memoryBytes));
    // Without swap accounting a run could page out past its limit; memsw is absent when swapaccount=0.
    await writeFile(path.join(memory, 'memory.memsw.limit_in_bytes'), String(limits.memoryBytes)).catch(
      (err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      },
    );
    await writeFile(path.join(pids, 'pids.max'), String(limits.pids));
    // The launcher joins as the unprivileged host id: v1 only asks for write access to the file (and that
    // the mover is the moved process), so this grants nothing beyond moving itself into this group.
    for (const file of groups.procsFiles) await chown(file, owner.uid, owner.gid);
  } catch (err) {
    await groups.remove().catch(() => {});
    throw err;
  }
  return groups;
}

function runCgroups(memory: string, pids: string): RunCgroups {
  const dirs = { memory, pids };
  const processes = async (): Promise<number[]> => {
    const all = new Set<number>();
    for (const dir of [pids, memory]) {
      const text = await readFile(path.join(dir, 'cgroup.procs'), 'utf8').catch(() => '');
      for (const l of text.split('\n')) if (l) all.add(Number(l));
    }
    return [...all];
  };
  const killAll = async (timeoutMs = 10_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    // A fork bomb may fork between reading the list and the kills: repeat until the list stays empty.
    for (;;) {
      const list = await processes();
      if (list.length === 0) return;
      for (const pid of list) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      if (Date.now() > deadline) throw new Error(`processes survive in ${pids}: ${list.join(' ')}`);
      await sleep(10);
    }
  };
  return {
    dirs,
    procsFiles: [path.join(memory, 'cgroup.procs'), path.join(pids, 'cgroup.procs')],
    processes,
    killAll,
    async counters() {
      const [oomControl, failcnt, peak, events] = await Promise.all([
        readFile(path.join(memory, 'memory.oom_control'), 'utf8').catch(() => ''),
        readFile(path.join(memory, 'memory.failcnt'), 'utf8').catch(() => '0'),
        readFile(path.join(memory, 'memory.max_usage_in_bytes'), 'utf8').catch(() => '0'),
        readFile(path.join(pids, 'pids.events'), 'utf8').catch(() => ''),
      ]);
      const oom = /^oom_kill (\d+)$/m.exec(oomControl);
      const max = /^max (\d+)$/m.exec(events);
      return {
        oomKills: oom ? Number(oom[1]) : null,
        memoryFailures: Number(failcnt.trim()) || 0,
        pidsMaxHits: max ? Number(max[1]) : 0,
        peakMemoryBytes: Number(peak.trim()) || 0,
      };
    },
    async remove() {
      await killAll();
      for (const dir of [memory, pids]) {
        // Exiting tasks leave the group a moment after they vanish from cgroup.procs: retry EBUSY briefly.
        for (let attempt = 0; ; attempt++) {
          try {
            await rmdir(dir);
            break;
          } catch (err) {
            const code = (err as NodeJS.ErrnoException).code;
            if (code === 'ENOENT') break;
            if (code !== 'EBUSY' || attempt >= 200) throw err;
            await sleep(10);
          }
        }
      }
    },
  };
}

/** Removes empty groups left by service processes that died (names start with their pid). */
async function removeStale(parent: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(parent);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(name.split('-')[0]);
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || isAlive(pid)) continue;
    await rmdir(path.join(parent, name)).catch(() => {});
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
