import path from 'node:path';
import type { SandboxSpec } from './types.ts';

/** Size of /dev/shm, at most (the memory limit caps it further). */
export const SHM_BYTES = 64 * 1024 * 1024;

/** Host ids below this are system accounts (or root): a sandbox never runs as one. */
export const MIN_HOST_ID = 1000;

/** Neutral: the host's name would tell the build where it runs. */
export const SANDBOX_HOSTNAME = 'sandbox';

/** File descriptor numbers (in the launcher) of the pipes bwrap talks through. */
export interface BwrapFds {
  /** bwrap writes `{ "child-pid": … }`, and `{ "exit-code": … }` only if the command was exec'd. */
  status: number;
  /** bwrap waits for a byte here after setting up the mounts, before exec (we set up the network first). */
  block: number;
  /** One per spec.files entry, in order: bwrap copies the content into a read-only file. */
  files: number[];
  /** Optional seccomp filter program. */
  seccomp?: number;
}

/** Rejects specs that are programmer errors rather than build failures. */
export function validateSpec(spec: SandboxSpec): void {
  const fail = (why: string) => {
    throw new TypeError(`invalid sandbox spec: ${why}`);
  };
  if (!path.isAbsolute(spec.rootfs)) fail('rootfs must be absolute');
  if (spec.argv.length === 0) fail('argv is empty');
  if (!path.posix.isAbsolute(spec.cwd)) fail('cwd must be absolute');
  if (!isId(spec.uid) || !isId(spec.gid) || spec.uid === 0 || spec.gid === 0) {
    fail('uid and gid must be positive integers (root inside is not allowed)');
  }
  if (spec.hostId !== undefined && !(isId(spec.hostId) && spec.hostId >= MIN_HOST_ID)) {
    fail(`hostId must be an integer >= ${MIN_HOST_ID} (never root or a system account)`);
  }
  for (const m of spec.mounts ?? []) {
    if (!path.isAbsolute(m.source)) fail(`mount source ${m.source} must be absolute`);
    checkTarget(m.target, fail);
  }
  for (const t of spec.tmpfs ?? []) {
    checkTarget(t.target, fail);
    if (!(t.sizeBytes > 0)) fail(`tmpfs ${t.target} needs a positive size`);
  }
  for (const f of spec.files ?? []) checkTarget(f.target, fail);
  for (const key of Object.keys(spec.env)) {
    if (key === '' || key.includes('=') || key.includes('\0')) fail(`bad environment variable name ${key}`);
  }
  if (spec.publish?.length && spec.network !== 'outbound') fail('publish needs network "outbound"');
  for (const p of spec.publish ?? []) {
    if (!isPort(p.guestPort) || !isPort(p.hostPort) || p.hostPort < 1024) {
      fail(`bad published port ${p.hostPort}:${p.guestPort} (host ports must be 1024-65535)`);
    }
  }
  const l = spec.limits;
  for (const [name, value] of Object.entries({
    wallTimeMs: l.wallTimeMs,
    memoryBytes: l.memoryBytes,
    pids: l.pids,
    outputBytes: l.outputBytes,
  })) {
    if (!(Number.isFinite(value) && value > 0)) fail(`limits.${name} must be a positive number`);
  }
  if (l.disk && !(l.disk.bytes > 0)) fail('limits.disk.bytes must be positive');
  const nul = [...spec.argv, ...Object.values(spec.env), spec.cwd].some((s) => s.includes('\0'));
  if (nul) fail('arguments, environment values and cwd cannot contain NUL');
}

function checkTarget(target: string, fail: (why: string) => never): void {
  if (!path.posix.isAbsolute(target) || path.posix.normalize(target) === '/') {
    fail(`mount target ${target} must be an absolute path other than /`);
  }
}

function isId(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n < 2 ** 32 - 1;
}

function isPort(n: number): boolean {
  return Number.isInteger(n) && n > 0 && n < 65536;
}

/**
 * bwrap's options, without the command (bwrap reads them from an fd with --args, so the environment never
 * shows in the host's process list; the command must follow on the command line). Namespaces: all of them, user namespaces disabled inside, new session (no TIOCSTI into
 * a terminal of ours), a fresh /dev with only the safe nodes, fresh /proc, nothing of the host but the
 * rootfs and the explicit mounts.
 */
export function bwrapOptions(spec: SandboxSpec, fds: BwrapFds): string[] {
  const args = [
    '--unshare-all',
    '--unshare-user',
    '--disable-userns',
    '--die-with-parent',
    '--new-session',
    '--hostname',
    SANDBOX_HOSTNAME,
    '--ro-bind',
    spec.rootfs,
    '/',
    '--dev',
    '/dev',
    // POSIX shared memory, bounded (Docker's default size); /dev itself is an unbounded tmpfs, so it is
    // made read-only (the device nodes still work).
    '--size',
    String(Math.min(SHM_BYTES, spec.limits.memoryBytes)),
    '--perms',
    '1777',
    '--tmpfs',
    '/dev/shm',
    '--remount-ro',
    '/dev',
    '--proc',
    '/proc',
  ];
  for (const op of mountOps(spec, fds)) args.push(...op.args);
  args.push('--chdir', spec.cwd, '--clearenv');
  for (const [key, value] of Object.entries(spec.env)) args.push('--setenv', key, value);
  args.push('--uid', String(spec.uid), '--gid', String(spec.gid));
  args.push('--json-status-fd', String(fds.status), '--block-fd', String(fds.block));
  if (fds.seccomp !== undefined) args.push('--seccomp', String(fds.seccomp));
  return args;
}

/** Mounts after the rootfs, parents before children (stable by depth, so equal depths keep their order). */
function mountOps(spec: SandboxSpec, fds: BwrapFds): { target: string; args: string[] }[] {
  const ops: { target: string; args: string[] }[] = [];
  for (const t of spec.tmpfs ?? []) {
    ops.push({ target: t.target, args: ['--size', String(t.sizeBytes), '--tmpfs', t.target] });
  }
  for (const m of spec.mounts ?? []) {
    ops.push({ target: m.target, args: [m.writable ? '--bind' : '--ro-bind', m.source, m.target] });
  }
  (spec.files ?? []).forEach((f, i) => {
    const fd = fds.files[i];
    if (fd === undefined) throw new Error(`no fd for file ${f.target}`);
    ops.push({ target: f.target, args: ['--perms', '0444', '--ro-bind-data', String(fd), f.target] });
  });
  const depth = (p: string) => path.posix.normalize(p).split('/').filter(Boolean).length;
  return ops
    .map((op, i) => ({ op, i }))
    .sort((a, b) => depth(a.op.target) - depth(b.op.target) || a.i - b.i)
    .map(({ op }) => op);
}
