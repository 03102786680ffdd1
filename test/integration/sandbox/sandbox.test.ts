// Real sandboxes (bwrap, slirp4netns, cgroups) on this host, with the host's / as read-only rootfs.
// Every test checks afterwards that nothing of its run is left: no process of the host id, no child of
// ours (bwrap, perl, slirp4netns), no cgroup.
import { chmod, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  acquireHostId,
  HOST_ID_BASE,
  type HostIdLease,
  OUTBOUND_RESOLV_CONF,
  prepareWritable,
  reclaimWritable,
  runSandboxed,
  sandboxSupport,
} from '../../../packages/buildpacks/src/sandbox/index.ts';
import type { SandboxHostOptions, SandboxSpec } from '../../../packages/buildpacks/src/sandbox/types.ts';
import {
  baseSpec,
  childProcesses,
  freePort,
  isRoot,
  leftoverCgroups,
  loopbackServer,
  processesOf,
  run as runRaw,
  sh,
} from './helpers.ts';

let lease: HostIdLease;
let work: string;

beforeAll(async () => {
  lease = await acquireHostId();
  work = await mkdtemp(path.join(tmpdir(), 'sandbox-test-'));
  // Mount sources must be reachable by the unprivileged host id: searchable, not listable.
  await chmod(work, 0o711);
});

afterAll(async () => {
  await lease?.release();
  if (work) await rm(work, { recursive: true, force: true });
});

afterEach(async () => {
  if (isRoot) expect(await processesOf(lease.id)).toEqual([]);
  expect(await childProcesses()).toEqual([]);
  expect(await leftoverCgroups()).toEqual([]);
});

function run(over: Partial<SandboxSpec>, host?: SandboxHostOptions, onChunk?: (text: string) => void) {
  return runRaw({ hostId: lease.id, ...over }, host, onChunk);
}

const outbound: Partial<SandboxSpec> = {
  network: 'outbound',
  files: [{ target: '/etc/resolv.conf', content: OUTBOUND_RESOLV_CONF }],
};

describe('sandboxSupport', () => {
  it('reports what this host offers', async () => {
    const support = await sandboxSupport();
    expect(support).toMatchObject({ bwrap: true, slirp4netns: true, rootless: true });
    expect(support.cgroups).toBe(isRoot);
  });
});

describe('running commands', () => {
  it('reports exit codes and streams stdout and stderr', async () => {
    const { result, stdout, stderr } = await run(sh('echo out; echo err >&2; exit 3'));
    expect(result).toMatchObject({ outcome: 'exited', exitCode: 3, signal: null });
    expect(result.message).toBe('exited with status 3');
    expect(stdout).toBe('out\n');
    expect(stderr).toBe('err\n');
    expect(result.usage.outputBytes).toBe(8);
    if (isRoot) expect(result.usage.peakMemoryBytes).toBeGreaterThan(0);
  });

  it('reports death by signal', async () => {
    const { result } = await run(sh('kill -SEGV $$'));
    expect(result).toMatchObject({ outcome: 'signaled', exitCode: 139, signal: 'SIGSEGV' });
  });

  it('feeds stdin', async () => {
    expect((await run({ argv: ['cat'], stdin: Buffer.from('hello\n') })).stdout).toBe('hello\n');
    expect((await run({ argv: ['cat'], stdin: 'ignore' })).stdout).toBe('');
  });

  it('is a sandbox-error when the command cannot be started', async () => {
    const { result } = await run({ argv: ['/nonexistent'] });
    expect(result.outcome).toBe('sandbox-error');
    expect(result.message).toContain('/nonexistent');
  });

  it('runs in the given cwd with exactly the given environment (plus PWD, set by bwrap)', async () => {
    const env = { PATH: '/usr/bin:/bin', GREETING: 'hello world', EMPTY: '' };
    const { stdout } = await run({ ...sh('pwd; env -0'), cwd: '/usr/share', env });
    const [pwd, rest] = [stdout.slice(0, stdout.indexOf('\n')), stdout.slice(stdout.indexOf('\n') + 1)];
    expect(pwd).toBe('/usr/share');
    const seen = Object.fromEntries(
      rest
        .split('\0')
        .filter(Boolean)
        .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
    );
    expect(seen).toEqual({ ...env, PWD: '/usr/share' });
  });
});

describe('isolation', () => {
  it('runs as the requested ids inside, as an unprivileged host id outside', async () => {
    // No hostId: the run allocates one. Find the sleeping process from the host and read its real ids.
    let hostStatus = '';
    let found: () => void = () => {};
    const seen = new Promise<void>((r) => {
      found = r;
    });
    const controller = new AbortController();
    const running = runRaw(
      {
        ...sh('id -u; id -g; echo ready; exec sleep 31.4159'),
        uid: 1234,
        gid: 2345,
        signal: controller.signal,
      },
      undefined,
      (text) => {
        if (text.includes('ready')) found();
      },
    );
    await seen;
    const { readdir } = await import('node:fs/promises');
    // "ready" comes just before the exec: look until the sleep shows up.
    for (let attempt = 0; attempt < 200 && !hostStatus; attempt++) {
      for (const pid of await readdir('/proc')) {
        const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
        if (cmdline === 'sleep\x0031.4159\x00') hostStatus = await readFile(`/proc/${pid}/status`, 'utf8');
      }
      if (!hostStatus) await new Promise((r) => setTimeout(r, 10));
    }
    controller.abort();
    const { result, stdout } = await running;
    expect(result.outcome).toBe('cancelled');
    expect(stdout).toBe('1234\n2345\nready\n');
    const uids = /^Uid:\s+(.*)$/m.exec(hostStatus)?.[1]?.split(/\s+/).map(Number);
    const gids = /^Gid:\s+(.*)$/m.exec(hostStatus)?.[1]?.split(/\s+/).map(Number);
    expect(uids).toHaveLength(4);
    if (isRoot) {
      // real, effective, saved, fs: all one unprivileged id from the sandbox range, never root
      expect(new Set(uids).size).toBe(1);
      expect(uids![0]).toBeGreaterThanOrEqual(HOST_ID_BASE);
      expect(gids![0]).toBe(uids![0]);
    } else {
      expect(uids![0]).toBe(process.getuid?.());
    }
    expect(/^CapEff:\s+0+$/m.test(hostStatus)).toBe(true);
    expect(/^NoNewPrivs:\s+1$/m.test(hostStatus)).toBe(true);
  });

  it('maps only the sandbox user, has no capabilities, no new user namespaces, a neutral hostname', async () => {
    const { stdout, result } = await run(
      sh(
        [
          'cat /proc/self/uid_map',
          'grep -E "^(CapEff|NoNewPrivs)" /proc/self/status',
          'unshare -U true 2>/dev/null && echo userns-allowed || echo userns-denied',
          'hostname',
          'ls /proc | grep -c "^[0-9]"',
          'ls /proc/self/fd',
          'touch /dev/x 2>/dev/null && echo dev-writable || echo dev-closed',
          'cat /root/.bashrc 2>/dev/null || echo root-closed',
          'cat /etc/shadow 2>/dev/null || echo shadow-closed',
        ].join('; '),
      ),
    );
    expect(result.outcome).toBe('exited');
    const lines = stdout.trim().split('\n');
    expect(lines[0]!.trim().split(/\s+/)).toEqual(['1000', '0', '1']);
    expect(lines[1]).toMatch(/^CapEff:\s+0+$/);
    expect(lines[2]).toMatch(/^NoNewPrivs:\s+1$/);
    expect(lines[3]).toBe('userns-denied');
    expect(lines[4]).toBe('sandbox');
    // bwrap's pid 1, sh, ls, grep: nothing of the host
    expect(Number(lines[5])).toBeLessThanOrEqual(4);
    // stdio and ls's own directory fd: no fd of the service leaks in
    expect(lines.slice(6, -3)).toEqual(['0', '1', '2', '3']);
    expect(lines.slice(-3)).toEqual(['dev-closed', 'root-closed', 'shadow-closed']);
  });

  it('shows nothing of the host but the rootfs and the mounts', async () => {
    const rootfs = path.join(work, 'rootfs');
    for (const d of ['usr', 'tmp', 'proc', 'dev', 'etc', 'data'])
      await mkdir(path.join(rootfs, d), { recursive: true });
    for (const l of ['bin', 'lib', 'lib64', 'sbin']) await symlink(`usr/${l}`, path.join(rootfs, l));
    const { stdout, result } = await run({
      ...sh('ls /; ls /data; ls /work 2>&1 || true'),
      rootfs,
      mounts: [{ source: '/usr', target: '/usr' }],
    });
    expect(result.outcome).toBe('exited');
    expect(stdout.split('\n').slice(0, 10)).toEqual([
      'bin',
      'data',
      'dev',
      'etc',
      'lib',
      'lib64',
      'proc',
      'sbin',
      'tmp',
      'usr',
    ]);
    expect(stdout).toContain("ls: cannot access '/work': No such file or directory");
  });

  it('refuses seccomp-blocked system calls', async () => {
    const script =
      'import ctypes; libc = ctypes.CDLL(None, use_errno=True)\n' +
      'for nr, args in ((250, (0,)), (425, (1, 0)), (39, ())):\n' +
      '    r = libc.syscall(nr, *args); print(nr, r, ctypes.get_errno() if r < 0 else 0)';
    const { stdout } = await run({ argv: ['python3', '-c', script] });
    // keyctl → EPERM, io_uring_setup → ENOSYS, getpid allowed
    expect(stdout.trim().split('\n')).toEqual(['250 -1 1', '425 -1 38', '39 2 0']);
  });
});

describe('file systems', () => {
  it('keeps the rootfs read-only, writable mounts writable, read-only mounts read-only', async () => {
    const rw = path.join(work, 'rw');
    const ro = path.join(work, 'ro');
    await mkdir(rw, { recursive: true });
    await mkdir(ro, { recursive: true });
    await writeFile(path.join(ro, 'given'), 'input\n');
    await prepareWritable([rw], lease.id);
    const { stdout, stderr, result } = await run({
      ...sh(
        [
          'touch /etc/x 2>&1',
          'touch /usr/x 2>&1',
          'echo written > /tmp/rw/out && echo rw-ok',
          'cat /tmp/ro/given',
          'touch /tmp/ro/x 2>&1',
          'cat /etc/resolv.conf',
          'echo x > /etc/resolv.conf',
          'stat -c %a /etc/resolv.conf',
        ].join('; '),
      ),
      mounts: [
        { source: rw, target: '/tmp/rw', writable: true },
        { source: ro, target: '/tmp/ro' },
      ],
      files: [{ target: '/etc/resolv.conf', content: 'nameserver 192.0.2.53\n' }],
    });
    expect(result.outcome).toBe('exited');
    expect(stdout).toContain("touch: cannot touch '/etc/x': Read-only file system");
    expect(stdout).toContain("touch: cannot touch '/usr/x': Read-only file system");
    expect(stdout).toContain('rw-ok');
    expect(stdout).toContain('input\n');
    expect(stdout).toContain("touch: cannot touch '/tmp/ro/x': Read-only file system");
    expect(stdout).toContain('nameserver 192.0.2.53\n');
    expect(stderr).toContain('cannot create /etc/resolv.conf: Read-only file system');
    expect(stdout.trim().split('\n').at(-1)).toBe('444');
    // The service reads what the build wrote; it belongs to the run's host id until reclaimed.
    const out = path.join(rw, 'out');
    expect(await readFile(out, 'utf8')).toBe('written\n');
    if (isRoot) {
      expect((await stat(out)).uid).toBe(lease.id);
      await reclaimWritable([rw]);
      expect((await stat(out)).uid).toBe(0);
      expect((await stat(rw)).uid).toBe(0);
    }
  });

  it('limits the size of a tmpfs', async () => {
    const { stdout } = await run({
      ...sh('head -c 2097152 /dev/zero 2>&1 >/tmp/fill || echo full; du -k /tmp/fill'),
      tmpfs: [{ target: '/tmp', sizeBytes: 1 << 20 }],
    });
    expect(stdout).toContain('No space left on device');
    expect(stdout).toContain('full');
    expect(Number(stdout.trim().split('\n').at(-1)?.split('\t')[0])).toBeLessThanOrEqual(1024);
  });

  it.runIf(isRoot)(
    'is a sandbox-error, with a hint, when the host id cannot reach a mount source',
    async () => {
      const closed = await mkdtemp(path.join(tmpdir(), 'sandbox-closed-')); // 0700, root's
      try {
        await mkdir(path.join(closed, 'src'));
        const { result } = await run({ mounts: [{ source: path.join(closed, 'src'), target: '/tmp/src' }] });
        expect(result.outcome).toBe('sandbox-error');
        expect(result.message).toContain('Permission denied');
        expect(result.message).toContain(`host id ${lease.id} must be able to reach`);
      } finally {
        await rm(closed, { recursive: true, force: true });
      }
    },
  );

  it('is a sandbox-error when a mount point is missing from the read-only rootfs', async () => {
    const { result } = await run({ mounts: [{ source: work, target: '/no-such-dir' }] });
    expect(result.outcome).toBe('sandbox-error');
    expect(result.message).toContain('/no-such-dir');
  });
});

describe('network', () => {
  const connect = (target: string) =>
    `python3 -c "import socket; socket.create_connection(('${target.split(':')[0]}', ${target.split(':')[1]}), 3).recv(100)" 2>&1 | tail -1`;

  it('"none" has nothing but loopback and no route anywhere', async () => {
    // (/proc/net is the sandbox's own; /sys would be the host's here, as the rootfs is the host's /)
    const { stdout } = await run(
      sh(`cat /proc/net/route | wc -l; tail -n +3 /proc/net/dev | cut -d: -f1; ${connect('1.1.1.1:53')}`),
    );
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toBe('1'); // only the header
    expect(lines[1]?.trim()).toBe('lo');
    expect(lines[2]).toContain('Network is unreachable');
  });

  it('"outbound" reaches the internet but not the host loopback', async () => {
    const { server, port } = await loopbackServer();
    let connections = 0;
    server.on('connection', () => connections++);
    try {
      const { stdout, result } = await run({
        ...outbound,
        ...sh(
          [
            "curl -sS -o /dev/null -m 20 -w '%{http_code}\\n' https://registry.npmjs.org/",
            connect(`127.0.0.1:${port}`),
            connect(`10.0.2.2:${port}`),
          ].join('; '),
        ),
      });
      expect(result.outcome).toBe('exited');
      const lines = stdout.trim().split('\n');
      expect(lines[0]).toBe('200');
      // the sandbox's own loopback has nothing there; the gateway refuses to relay to the host's
      expect(lines[1]).toContain('Connection refused');
      expect(lines[2]).toMatch(/Connection refused|Network is unreachable/);
      expect(stdout).not.toContain('host-secret');
      expect(connections).toBe(0);
    } finally {
      server.close();
    }
  });

  it('publishes a guest port on the host loopback only', async () => {
    const hostPort = await freePort();
    const site = path.join(work, 'site');
    await mkdir(site, { recursive: true });
    await writeFile(path.join(site, 'index.html'), 'hello from the sandbox\n');
    const controller = new AbortController();
    const running = run({
      ...outbound,
      argv: ['python3', '-m', 'http.server', '8000'],
      cwd: '/srv',
      mounts: [{ source: site, target: '/srv' }],
      publish: [{ hostPort, guestPort: 8000 }],
      signal: controller.signal,
    });
    let body = '';
    for (let i = 0; i < 100 && !body; i++) {
      try {
        body = await (await fetch(`http://127.0.0.1:${hostPort}/`)).text();
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    // Not on the host's other addresses.
    const external = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
    let externalError: unknown = null;
    if (external) {
      externalError = await fetch(`http://${external}:${hostPort}/`).then(
        () => null,
        (err: unknown) => err,
      );
    }
    controller.abort();
    const { result } = await running;
    expect(body).toBe('hello from the sandbox\n');
    if (external) expect(externalError).not.toBeNull();
    expect(result.outcome).toBe('cancelled');
    // The forward is gone with the run.
    await expect(fetch(`http://127.0.0.1:${hostPort}/`)).rejects.toThrow();
  });

  it('fails cleanly when the host port is taken', async () => {
    const { server, port } = await loopbackServer();
    try {
      const { result } = await run({ ...outbound, publish: [{ hostPort: port, guestPort: 80 }] });
      expect(result.outcome).toBe('sandbox-error');
      expect(result.message).toContain(`127.0.0.1:${port}`);
    } finally {
      server.close();
    }
  });
});

describe('limits', () => {
  it.runIf(isRoot)('stops a fork bomb as "pids", quickly', async () => {
    const { result } = await run({
      ...sh('f() { f | f & }; f; sleep 30'),
      limits: { wallTimeMs: 20_000, memoryBytes: 256 << 20, pids: 32, outputBytes: 1 << 20 },
    });
    expect(result.outcome).toBe('pids');
    expect(result.message).toBe('killed: process limit of 32 exceeded');
    expect(result.usage.wallMs).toBeLessThan(5000);
  });

  it.runIf(isRoot)('stops a memory hog as "memory"', async () => {
    const { result } = await run({
      ...sh('python3 -c "x = bytearray(2**31)"; sleep 30'),
      limits: { wallTimeMs: 20_000, memoryBytes: 128 << 20, pids: 64, outputBytes: 1 << 20 },
    });
    expect(result.outcome).toBe('memory');
    expect(result.message).toBe('killed: memory limit of 128 MiB exceeded');
    expect(result.usage.peakMemoryBytes).toBeGreaterThan(100 << 20);
    expect(result.usage.wallMs).toBeLessThan(5000);
  });

  it.runIf(isRoot)('reports "memory" also when the command exits right after the OOM kill', async () => {
    const { result } = await run({
      ...sh('python3 -c "x = bytearray(2**31)"; exit 0'),
      limits: { wallTimeMs: 20_000, memoryBytes: 128 << 20, pids: 64, outputBytes: 1 << 20 },
    });
    expect(result.outcome).toBe('memory');
  });

  it('counts tmpfs against the memory limit', { skip: !isRoot }, async () => {
    const { result } = await run({
      ...sh('head -c 200000000 /dev/zero > /tmp/big; sleep 30'),
      tmpfs: [{ target: '/tmp', sizeBytes: 1 << 30 }],
      limits: { wallTimeMs: 20_000, memoryBytes: 64 << 20, pids: 64, outputBytes: 1 << 20 },
    });
    expect(result.outcome).toBe('memory');
  });

  it('stops a disk filler as "disk"', async () => {
    const dir = path.join(work, 'disk');
    await mkdir(dir, { recursive: true });
    await prepareWritable([dir], lease.id);
    const { result } = await run({
      ...sh('while :; do head -c 1048576 /dev/zero >> /tmp/w/fill; done'),
      mounts: [{ source: dir, target: '/tmp/w', writable: true }],
      limits: {
        wallTimeMs: 20_000,
        memoryBytes: 256 << 20,
        pids: 64,
        outputBytes: 1 << 20,
        disk: { paths: [dir], bytes: 8 << 20 },
      },
    });
    expect(result.outcome).toBe('disk');
    expect(result.message).toMatch(/^killed: disk limit of 8 MiB exceeded/);
    expect(result.usage.wallMs).toBeLessThan(5000);
  });

  it('reports "disk" also when the writer is done before the next poll', async () => {
    const dir = path.join(work, 'disk-quick');
    await mkdir(dir, { recursive: true });
    await prepareWritable([dir], lease.id);
    const { result } = await run({
      ...sh('head -c 20000000 /dev/zero > /tmp/w/fill'),
      mounts: [{ source: dir, target: '/tmp/w', writable: true }],
      limits: {
        wallTimeMs: 20_000,
        memoryBytes: 256 << 20,
        pids: 64,
        outputBytes: 1 << 20,
        disk: { paths: [dir], bytes: 8 << 20 },
      },
    });
    expect(result.outcome).toBe('disk');
  });

  it('stops endless output at exactly the output limit', async () => {
    const { result, stdout } = await run({
      argv: ['yes'],
      limits: { wallTimeMs: 20_000, memoryBytes: 256 << 20, pids: 64, outputBytes: 100_000 },
    });
    expect(result.outcome).toBe('output-limit');
    expect(result.message).toBe('killed: output limit of 97.7 KiB exceeded');
    expect(stdout.length).toBe(100_000);
    expect(result.usage.outputBytes).toBe(100_000);
  });

  it('stops a run at its wall time', async () => {
    const { result } = await run({
      argv: ['sleep', '100'],
      limits: { wallTimeMs: 1000, memoryBytes: 256 << 20, pids: 64, outputBytes: 1 << 20 },
    });
    expect(result.outcome).toBe('timeout');
    expect(result.message).toBe('killed: wall time limit of 1 s exceeded');
    expect(result.usage.wallMs).toBeGreaterThanOrEqual(1000);
    expect(result.usage.wallMs).toBeLessThan(3000);
  });

  it('kills background processes too', async () => {
    // The main process exits while a child keeps running: the whole sandbox goes with it.
    const { result } = await run(sh('(sleep 100 &) ; exit 0'));
    expect(result.outcome).toBe('exited');
  });

  it('kills every process of a run without cgroups too', async () => {
    const { result } = await run(
      {
        ...sh('for i in 1 2 3 4 5; do (setsid sleep 100 &); done; sleep 100'),
        limits: { wallTimeMs: 1000, memoryBytes: 256 << 20, pids: 64, outputBytes: 1 << 20 },
      },
      { cgroups: 'off' },
    );
    expect(result.outcome).toBe('timeout');
    // afterEach: no process of the host id is left
  });

  it('falls back to rlimits without cgroups, and says so', async () => {
    const { result, stdout } = await run(
      {
        ...sh(
          'python3 -c "x = bytearray(2**31)" 2>&1 | tail -1; for i in $(seq 40); do sleep 5 & done 2>&1 | head -1',
        ),
        limits: { wallTimeMs: 20_000, memoryBytes: 128 << 20, pids: 16, outputBytes: 1 << 20 },
      },
      { cgroups: 'off' },
    );
    expect(result.outcome).toBe('exited');
    expect(result.message).toContain('rlimits');
    expect(result.usage.peakMemoryBytes).toBeUndefined();
    expect(stdout).toContain('MemoryError');
    expect(stdout).toMatch(/fork/i);
  });
});

describe('output', () => {
  it('waits for a slow consumer without losing or reordering anything', async () => {
    const chunks: string[] = [];
    let calls = 0;
    const result = await runSandboxed(
      baseSpec({
        hostId: lease.id,
        argv: ['seq', '1', '100000'],
        onOutput: async (chunk) => {
          calls++;
          chunks.push(chunk.toString('utf8'));
          if (calls % 10 === 0) await new Promise((r) => setTimeout(r, 5));
        },
      }),
    );
    expect(result.outcome).toBe('exited');
    const expected = `${Array.from({ length: 100_000 }, (_, i) => i + 1).join('\n')}\n`;
    expect(chunks.join('')).toBe(expected);
    expect(result.usage.outputBytes).toBe(expected.length);
  });
});

describe('concurrency', () => {
  it('runs several sandboxes at once, each with its own host id', async () => {
    const results = await Promise.all(
      [1, 2, 3].map((n) =>
        runRaw({
          ...outbound,
          ...sh(`echo run ${n}; curl -sS -o /dev/null -w '%{http_code}' https://registry.npmjs.org/`),
        }),
      ),
    );
    expect(results.map((r) => r.stdout)).toEqual(['run 1\n200', 'run 2\n200', 'run 3\n200']);
  });
});

describe('cancellation', () => {
  it('kills the run when the signal aborts', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const { result } = await run({ ...sh('sleep 100 & sleep 100'), signal: controller.signal });
    expect(result).toMatchObject({ outcome: 'cancelled', message: 'cancelled' });
    expect(result.usage.wallMs).toBeLessThan(2000);
  });

  it('does not start when already aborted', async () => {
    const { result } = await run({ argv: ['true'], signal: AbortSignal.abort() });
    expect(result.outcome).toBe('cancelled');
  });

  it('cancels at any moment of the set-up without leaving anything behind', async () => {
    for (const delay of [0, 1, 3, 5, 10, 20, 40, 80]) {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), delay);
      const { result } = await run({
        ...outbound,
        argv: ['sleep', '100'],
        signal: controller.signal,
        limits: { wallTimeMs: 10_000, memoryBytes: 256 << 20, pids: 64, outputBytes: 1 << 20 },
      });
      expect(result.outcome, `abort after ${delay} ms`).toBe('cancelled');
      expect(await childProcesses()).toEqual([]);
      if (isRoot) expect(await processesOf(lease.id)).toEqual([]);
    }
  });
});

describe('overhead', () => {
  it('measures the start-up cost of a sandbox', async () => {
    const measure = async (over: Partial<SandboxSpec>) => {
      const times: number[] = [];
      for (let i = 0; i < 7; i++) {
        const started = performance.now();
        const { result } = await run({ argv: ['true'], ...over });
        expect(result.outcome).toBe('exited');
        times.push(performance.now() - started);
      }
      return Math.round(times.sort((a, b) => a - b)[3]!);
    };
    const none = await measure({});
    const net = await measure(outbound);
    console.log(`sandbox start-up (median of 7, \`true\`): network none ${none} ms, outbound ${net} ms`);
    expect(none).toBeLessThan(1000);
    expect(net).toBeLessThan(2000);
  });
});
