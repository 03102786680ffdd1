import { describe, expect, it } from 'vitest';
import { bwrapOptions, validateSpec } from './bwrap-args.ts';
import type { SandboxSpec } from './types.ts';

const spec = (over: Partial<SandboxSpec> = {}): SandboxSpec => ({
  rootfs: '/srv/rootfs',
  argv: ['sh', '-c', 'true'],
  cwd: '/workspace',
  env: { PATH: '/usr/bin', SECRET: 'x y' },
  uid: 1000,
  gid: 1000,
  network: 'none',
  limits: { wallTimeMs: 1000, memoryBytes: 1 << 20, pids: 10, outputBytes: 1000 },
  ...over,
});
const fds = { status: 4, block: 5, files: [6, 7] };

describe('validateSpec', () => {
  it('accepts a normal spec', () => {
    expect(() => validateSpec(spec())).not.toThrow();
  });

  it.each<[string, Partial<SandboxSpec>]>([
    ['root inside', { uid: 0 }],
    ['root group inside', { gid: 0 }],
    ['root as host id', { hostId: 0 }],
    ['a system account as host id', { hostId: 33 }],
    ['relative cwd', { cwd: 'workspace' }],
    ['empty argv', { argv: [] }],
    ['mount on /', { mounts: [{ source: '/x', target: '/' }] }],
    ['relative mount source', { mounts: [{ source: 'x', target: '/x' }] }],
    ['zero-size tmpfs', { tmpfs: [{ target: '/tmp', sizeBytes: 0 }] }],
    ['publish without network', { publish: [{ hostPort: 8080, guestPort: 80 }] }],
    ['privileged host port', { network: 'outbound', publish: [{ hostPort: 80, guestPort: 80 }] }],
    ['bad env name', { env: { 'A=B': '1' } }],
    ['NUL in argv', { argv: ['a\0b'] }],
    ['no wall time', { limits: { wallTimeMs: 0, memoryBytes: 1, pids: 1, outputBytes: 1 } }],
  ])('rejects %s', (_, over) => {
    expect(() => validateSpec(spec(over))).toThrow(TypeError);
  });
});

describe('bwrapOptions', () => {
  it('isolates everything and clears the environment', () => {
    const args = bwrapOptions(spec(), fds);
    for (const flag of [
      '--unshare-all',
      '--unshare-user',
      '--disable-userns',
      '--die-with-parent',
      '--new-session',
    ]) {
      expect(args).toContain(flag);
    }
    expect(args.join(' ')).toContain(
      '--ro-bind /srv/rootfs / --dev /dev --size 1048576 --perms 1777 --tmpfs /dev/shm --remount-ro /dev --proc /proc',
    );
    expect(args.join(' ')).toContain('--hostname sandbox');
    const clear = args.indexOf('--clearenv');
    expect(clear).toBeGreaterThan(0);
    expect(args.slice(clear + 1, clear + 7)).toEqual([
      '--setenv',
      'PATH',
      '/usr/bin',
      '--setenv',
      'SECRET',
      'x y',
    ]);
    expect(args.join(' ')).toContain('--uid 1000 --gid 1000 --json-status-fd 4 --block-fd 5');
    expect(args).not.toContain('--');
  });

  it('mounts parents before children, otherwise in the given order', () => {
    const args = bwrapOptions(
      spec({
        mounts: [
          { source: '/h/cache', target: '/home/app/.cache', writable: true },
          { source: '/h/ws', target: '/workspace', writable: true },
          { source: '/h/layers', target: '/layers' },
        ],
        tmpfs: [{ target: '/home/app', sizeBytes: 4096 }],
        files: [
          { target: '/etc/resolv.conf', content: 'nameserver 10.0.2.3\n' },
          { target: '/etc/hosts', content: '127.0.0.1 localhost\n' },
        ],
      }),
      fds,
    );
    const targets = args.flatMap((a, i) =>
      ['--bind', '--ro-bind', '--tmpfs', '--ro-bind-data'].includes(a)
        ? [args[i + (a === '--tmpfs' ? 1 : 2)]]
        : [],
    );
    expect(targets).toEqual([
      '/',
      '/dev/shm',
      '/workspace',
      '/layers',
      '/home/app',
      '/etc/resolv.conf',
      '/etc/hosts',
      '/home/app/.cache',
    ]);
    expect(args.join(' ')).toContain('--size 4096 --tmpfs /home/app');
    expect(args.join(' ')).toContain('--bind /h/ws /workspace');
    expect(args.join(' ')).toContain('--ro-bind /h/layers /layers');
    expect(args.join(' ')).toContain('--perms 0444 --ro-bind-data 6 /etc/resolv.conf');
    expect(args.join(' ')).toContain('--perms 0444 --ro-bind-data 7 /etc/hosts');
  });

  it('passes a seccomp program fd when there is one', () => {
    expect(bwrapOptions(spec(), { ...fds, seccomp: 9 }).join(' ')).toContain('--seccomp 9');
  });
});
