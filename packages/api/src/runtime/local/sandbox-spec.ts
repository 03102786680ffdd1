import { constants } from 'node:fs';
import { lstat, open } from 'node:fs/promises';
import path from 'node:path';
import { OUTBOUND_RESOLV_CONF, type SandboxSpec } from '@toolforge/buildpacks/sandbox';
import type { ContainerConfig } from '@toolforge/oci';
import type { WorkloadSpec } from '../../workloads/port.ts';
import { argvFor, DEFAULT_MEMORY, envFor, parseMemory } from './spec.ts';

/** setTimeout's limit: the sandbox's wall-time timer fires at once above it. About 24.8 days. */
export const MAX_WALL_MS = 2 ** 31 - 1;
/** Output is capped by the log files; the sandbox's own limit must never stop a long-running workload. */
const UNLIMITED_OUTPUT = Number.MAX_SAFE_INTEGER;
/** Who runs an image whose User is root or unknown: there is no root inside the sandbox. */
const FALLBACK_ID = 1000;
const PIDS = 512;

export interface RunPlace {
  rootfs: string;
  config: ContainerConfig;
  hostId: number;
  /** `mount: all`: the tool's home on the host. */
  home?: string;
  /** Webservices: the host port forwarded to $PORT inside. */
  hostPort?: number;
  wallTimeMs: number;
}

/** How one run of a workload is confined: only the image, /tmp, resolv.conf and the optional home. */
export async function sandboxSpecFor(
  spec: WorkloadSpec,
  place: RunPlace,
): Promise<Omit<SandboxSpec, 'onOutput' | 'signal'>> {
  const env = envFor(spec, place.config.Env);
  const memoryBytes = parseMemory(spec.resources?.memory ?? DEFAULT_MEMORY) ?? 512 * 2 ** 20;
  const { uid, gid } = await resolveUser(place.rootfs, place.config.User);
  const mounts: SandboxSpec['mounts'] = [];
  // /tmp is private and bounded; its pages count against the memory limit.
  const tmpfs: NonNullable<SandboxSpec['tmpfs']> = [{ target: '/tmp', sizeBytes: memoryBytes }];
  if (place.home) {
    // A tiny tmpfs over /data/project gives bwrap a writable place for the mount point (the rootfs is
    // read-only and shared) and hides whatever the image has there.
    tmpfs.push({ target: '/data/project', sizeBytes: 64 * 1024 });
    mounts.push({ source: place.home, target: `/data/project/${spec.tool}`, writable: true });
  }
  return {
    rootfs: place.rootfs,
    mounts,
    tmpfs,
    files: [{ target: '/etc/resolv.conf', content: OUTBOUND_RESOLV_CONF }],
    argv: argvFor(spec, place.config),
    cwd: place.config.WorkingDir || '/',
    env,
    uid,
    gid,
    network: 'outbound',
    ...(place.hostPort ? { publish: [{ hostPort: place.hostPort, guestPort: Number(env.PORT) }] } : {}),
    limits: {
      wallTimeMs: Math.min(place.wallTimeMs, MAX_WALL_MS),
      memoryBytes,
      pids: PIDS,
      outputBytes: UNLIMITED_OUTPUT,
    },
    stdin: 'ignore',
    hostId: place.hostId,
  };
}

/** The image's User (`uid[:gid]` or names from its /etc/passwd and /etc/group); root becomes 1000. */
export async function resolveUser(
  rootfs: string,
  user: string | undefined,
): Promise<{ uid: number; gid: number }> {
  const [u = '', g] = (user ?? '').split(':');
  let uid = /^\d+$/.test(u) ? Number(u) : undefined;
  let gid = g !== undefined && /^\d+$/.test(g) ? Number(g) : undefined;
  if (u && uid === undefined) {
    const entry = (await readImageFile(rootfs, 'etc/passwd'))?.split('\n').find((l) => l.split(':')[0] === u);
    const fields = entry?.split(':');
    if (fields?.[2] && /^\d+$/.test(fields[2])) uid = Number(fields[2]);
    if (g === undefined && fields?.[3] && /^\d+$/.test(fields[3])) gid = Number(fields[3]);
  }
  if (g && gid === undefined) {
    const entry = (await readImageFile(rootfs, 'etc/group'))?.split('\n').find((l) => l.split(':')[0] === g);
    const field = entry?.split(':')[2];
    if (field && /^\d+$/.test(field)) gid = Number(field);
  }
  uid = uid || FALLBACK_ID;
  return { uid, gid: gid || uid };
}

/** A small regular file of the image, read without following symlinks (they would lead into the host). */
async function readImageFile(rootfs: string, rel: string): Promise<string | undefined> {
  const parent = await lstat(path.join(rootfs, path.dirname(rel))).catch(() => undefined);
  if (!parent?.isDirectory()) return undefined;
  const fh = await open(path.join(rootfs, rel), constants.O_RDONLY | constants.O_NOFOLLOW).catch(
    () => undefined,
  );
  if (!fh) return undefined;
  try {
    if (!(await fh.stat()).isFile()) return undefined;
    const buf = Buffer.alloc(1024 * 1024);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await fh.close();
  }
}
