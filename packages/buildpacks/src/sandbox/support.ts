import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { promisify } from 'node:util';
import { findHierarchies } from './cgroups.ts';
import { acquireHostId, hostIdentity } from './host-identity.ts';
import { SAFE_PATH } from './process-util.ts';

const run = promisify(execFile);

export interface SandboxSupport {
  /** bwrap starts a sandbox with every namespace (user namespaces disabled inside). */
  bwrap: boolean;
  /** slirp4netns, perl (its namespace helper) and a usable /dev/net/tun are there: `outbound` works. */
  slirp4netns: boolean;
  /** cgroup v1 memory and pids hierarchies are writable: real limits instead of rlimits. */
  cgroups: boolean;
  /** Sandboxes run as an unprivileged host id (unprivileged user namespaces work; nothing runs as root). */
  rootless: boolean;
  problems: string[];
}

/** What the host offers, for health checks. Starts one trivial sandbox (a few ms). */
export async function sandboxSupport(): Promise<SandboxSupport> {
  const problems: string[] = [];
  const env = { PATH: SAFE_PATH };
  const lease = await acquireHostId();
  const identity = hostIdentity(lease.id);
  let bwrap = false;
  try {
    await run(
      'bwrap',
      [
        '--unshare-all',
        '--unshare-user',
        '--disable-userns',
        '--die-with-parent',
        '--ro-bind',
        '/',
        '/',
      ].concat(['--dev', '/dev', '--proc', '/proc', '--uid', '1000', '--gid', '1000', '--', 'true']),
      {
        env,
        timeout: 10_000,
        uid: identity.dedicated ? identity.uid : undefined,
        gid: identity.dedicated ? identity.gid : undefined,
      },
    );
    bwrap = true;
  } catch (err) {
    problems.push(`bwrap cannot start a sandbox: ${firstLine(err)}`);
  } finally {
    await lease.release();
  }

  let slirp4netns = true;
  for (const [cmd, args] of [
    ['slirp4netns', ['--version']],
    ['perl', ['-e', '1']],
  ] as const) {
    try {
      await run(cmd, [...args], { env, timeout: 10_000 });
    } catch (err) {
      slirp4netns = false;
      problems.push(`${cmd} is not usable: ${firstLine(err)}`);
    }
  }
  // As root slirp4netns gets its own tun node; otherwise the host's must be open to us.
  try {
    await access('/dev/net/tun', identity.dedicated ? constants.F_OK : constants.R_OK | constants.W_OK);
  } catch {
    slirp4netns = false;
    problems.push('/dev/net/tun is missing or not accessible (modprobe tun; mode 0666)');
  }

  const hierarchies = await findHierarchies();
  const cgroups = typeof hierarchies !== 'string';
  if (typeof hierarchies === 'string')
    problems.push(`no cgroups, limits fall back to rlimits: ${hierarchies}`);

  return { bwrap, slirp4netns, cgroups, rootless: bwrap, problems };
}

function firstLine(err: unknown): string {
  const e = err as { stderr?: string; message?: string };
  return (e.stderr?.trim() || e.message || String(err)).split('\n')[0] ?? '';
}
