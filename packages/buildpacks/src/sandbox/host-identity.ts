// Which host uid/gid a sandbox runs as.
//
// When the service runs as root, bwrap and slirp4netns are started as an unprivileged host id instead, so
// the sandbox user (e.g. uid 1000 inside) maps to that id on the host: whatever escapes the namespaces is a
// nobody, RLIMIT_NPROC counts per build, and files written to writable mounts are owned by it. Ids are
// HOST_ID_BASE + slot, far above normal users and the usual /etc/subuid ranges (100000-1065535). A slot is
// held by an O_EXCL lock file so concurrent runs, also from other service processes, get distinct ids.
//
// Getting files back: writable mount sources are chowned to the id before the run (prepareWritable);
// the service, being root, reads whatever the build wrote without further ado. reclaimWritable chowns a
// tree back to root afterwards when the files must outlive the run (never while the run is alive).
import { chown, lchown, link, mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { walkTree } from './walk.ts';

export const HOST_ID_BASE = 2_000_000;
export const HOST_ID_SLOTS = 50_000;
const LOCK_DIR = '/run/toolforge-sandbox/host-ids';

export function serviceIsRoot(): boolean {
  return process.getuid?.() === 0;
}

export interface HostIdentity {
  uid: number;
  gid: number;
  /** True when the sandbox runs as a dedicated unprivileged id (service is root). */
  dedicated: boolean;
}

/** The host ids a run with this hostId uses: the hostId itself as root, else the service's own ids. */
export function hostIdentity(hostId: number): HostIdentity {
  if (serviceIsRoot()) return { uid: hostId, gid: hostId, dedicated: true };
  return { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0, dedicated: false };
}

export interface HostIdLease {
  id: number;
  release(): Promise<void>;
}

/** Lock files held by this process (checked first: cheaper than the file system, and race-free here). */
const heldHere = new Set<string>();

/**
 * Reserves a free host id until `release()`. As non-root there is nothing to reserve (sandboxes run as the
 * service user) and the lease is the service's own uid.
 */
export async function acquireHostId(options: { lockDir?: string } = {}): Promise<HostIdLease> {
  if (!serviceIsRoot()) return { id: process.getuid?.() ?? 0, release: async () => {} };
  const lockDir = options.lockDir ?? LOCK_DIR;
  await mkdir(lockDir, { recursive: true, mode: 0o700 });
  for (let slot = 0; slot < HOST_ID_SLOTS; slot++) {
    const id = HOST_ID_BASE + slot;
    const file = path.join(lockDir, String(id));
    if (heldHere.has(file)) continue;
    heldHere.add(file);
    if (await tryLock(file)) {
      let released = false;
      return {
        id,
        release: async () => {
          if (released) return;
          released = true;
          await unlink(file).catch(() => {});
          heldHere.delete(file);
        },
      };
    }
    heldHere.delete(file);
  }
  throw new Error(`no free sandbox host id in ${HOST_ID_BASE}..${HOST_ID_BASE + HOST_ID_SLOTS - 1}`);
}

async function tryLock(file: string): Promise<boolean> {
  const owner = `${process.pid} ${await processStartTime(process.pid)}`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(file, 'wx', 0o600);
      await fh.writeFile(owner);
      await fh.close();
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const content = await readFile(file, 'utf8').catch(() => null);
    if (content === null) continue; // released meanwhile
    const [pid, start] = content.split(' ');
    // The owner is alive when its pid exists with the same start time (pids are reused).
    if (pid && start && (await processStartTime(Number(pid))) === start) return false;
    // Left by a crashed process: move it aside (only one contender's rename succeeds), then retry. If what
    // was moved is not the stale lock we judged (another process took the slot in between), put it back.
    const aside = `${file}.stale-${process.pid}`;
    if (
      !(await rename(file, aside).then(
        () => true,
        () => false,
      ))
    )
      continue;
    const moved = await readFile(aside, 'utf8').catch(() => null);
    if (moved !== content) {
      await link(aside, file).catch(() => {});
      await unlink(aside).catch(() => {});
      return false;
    }
    await unlink(aside).catch(() => {});
  }
  return false;
}

async function processStartTime(pid: number): Promise<string | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime), counted after the parenthesised command name, which may contain spaces.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/**
 * Hands writable mount sources to the sandbox's host id (recursively, symlinks not followed) so the
 * sandbox user can write there. No-op unless the service is root.
 */
export async function prepareWritable(paths: string[], hostId: number): Promise<void> {
  if (!serviceIsRoot()) return;
  await chownTrees(paths, hostId, hostId);
}

/**
 * Gives trees written by a finished run back to `uid`/`gid` (default root). Only call it after runSandboxed
 * resolved: then no process of the run is left to race the walk. chown also clears setuid/setgid bits.
 */
export async function reclaimWritable(paths: string[], uid = 0, gid = 0): Promise<void> {
  if (!serviceIsRoot()) return;
  await chownTrees(paths, uid, gid);
}

async function chownTrees(paths: string[], uid: number, gid: number): Promise<void> {
  for (const root of paths) {
    // The root itself is followed if it is a symlink: the caller named it, it is trusted.
    await chown(root, uid, gid);
    for await (const entry of walkTree(root)) {
      if (entry.path === root) continue;
      if (Number(entry.stat.uid) === uid && Number(entry.stat.gid) === gid) continue;
      await lchown(entry.path, uid, gid).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    }
  }
}
