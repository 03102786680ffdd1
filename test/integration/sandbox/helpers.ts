// Helpers for the sandbox tests. The tests use the host's `/` as the read-only rootfs: it has sh, python3,
// curl and coreutils, and it shows that even the host's own files are only readable as an unprivileged
// nobody (root-only directories stay closed) and never writable.
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { findHierarchies } from '../../../packages/buildpacks/src/sandbox/cgroups.ts';
import { runSandboxed } from '../../../packages/buildpacks/src/sandbox/index.ts';
import type {
  SandboxHostOptions,
  SandboxResult,
  SandboxSpec,
} from '../../../packages/buildpacks/src/sandbox/types.ts';

export const isRoot = process.getuid?.() === 0;

export interface Collected {
  result: SandboxResult;
  stdout: string;
  stderr: string;
}

export function baseSpec(over: Partial<SandboxSpec> = {}): SandboxSpec {
  return {
    rootfs: '/',
    argv: ['true'],
    cwd: '/tmp',
    env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' },
    uid: 1000,
    gid: 1000,
    network: 'none',
    tmpfs: [{ target: '/tmp', sizeBytes: 16 << 20 }],
    limits: { wallTimeMs: 20_000, memoryBytes: 256 << 20, pids: 64, outputBytes: 1 << 20 },
    ...over,
  };
}

/** Runs a sandbox and collects its output (as text). */
export async function run(
  over: Partial<SandboxSpec>,
  host?: SandboxHostOptions,
  onChunk?: (text: string) => void,
): Promise<Collected> {
  const out: Record<'stdout' | 'stderr', Buffer[]> = { stdout: [], stderr: [] };
  const result = await runSandboxed(
    baseSpec({
      ...over,
      onOutput: (chunk, stream) => {
        out[stream].push(chunk);
        onChunk?.(chunk.toString('utf8'));
      },
    }),
    host,
  );
  return {
    result,
    stdout: Buffer.concat(out.stdout).toString('utf8'),
    stderr: Buffer.concat(out.stderr).toString('utf8'),
  };
}

export function sh(script: string, over: Partial<SandboxSpec> = {}) {
  return { argv: ['sh', '-c', script], ...over };
}

/** Processes (not zombies) running as `uid`, as "pid comm". */
export async function processesOf(uid: number): Promise<string[]> {
  const found: string[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const status = await readFile(`/proc/${name}/status`, 'utf8').catch(() => '');
    const realUid = /^Uid:\s+(\d+)/m.exec(status)?.[1];
    const state = /^State:\s+(\S)/m.exec(status)?.[1];
    const comm = /^Name:\s+(.*)$/m.exec(status)?.[1];
    if (Number(realUid) === uid && state !== 'Z') found.push(`${name} ${comm}`);
  }
  return found;
}

/** Live children of this test process (bwrap, perl, slirp4netns… must all be gone after a run). */
export async function childProcesses(): Promise<string[]> {
  const found: string[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    const after = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    if (Number(after[1]) === process.pid && after[0] !== 'Z') found.push(`${name} ${comm}`);
  }
  return found;
}

/** Run cgroups this process created that still exist. */
export async function leftoverCgroups(): Promise<string[]> {
  const found = await findHierarchies();
  if (typeof found === 'string') return [];
  const left: string[] = [];
  for (const own of [found.memory.own, found.pids.own]) {
    const parent = path.join(own, 'toolforge');
    const names = await readdir(parent).catch(() => [] as string[]);
    for (const n of names) if (n.startsWith(`${process.pid}-`)) left.push(path.join(parent, n));
  }
  return left;
}

/** A TCP server on 127.0.0.1 answering "host-secret" to anything: what the sandbox must not reach. */
export async function loopbackServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => socket.end('host-secret\n'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  return { server, port: address.port };
}

export async function freePort(): Promise<number> {
  const { server, port } = await loopbackServer();
  await new Promise((r) => server.close(r));
  return port;
}
