import { describe, expect, it } from 'vitest';
import { v1Mount } from './cgroups.ts';

const mountinfo = [
  '25 20 0:22 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
  '30 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct',
  '31 25 0:28 /docker/abc /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
  '32 25 0:29 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids',
  '33 25 0:30 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
  '34 25 0:31 / /mnt/with\\040space rw,relatime - cgroup cgroup rw,freezer',
].join('\n');

describe('v1Mount', () => {
  it('finds the hierarchy of a controller, with the part of the tree it shows', () => {
    expect(v1Mount(mountinfo, 'memory')).toEqual({ point: '/sys/fs/cgroup/memory', root: '/docker/abc' });
    expect(v1Mount(mountinfo, 'pids')).toEqual({ point: '/sys/fs/cgroup/pids', root: '/' });
    expect(v1Mount(mountinfo, 'cpuacct')).toEqual({ point: '/sys/fs/cgroup/cpu,cpuacct', root: '/' });
    expect(v1Mount(mountinfo, 'freezer')).toEqual({ point: '/mnt/with space', root: '/' });
  });

  it('ignores cgroup v2 and other file systems', () => {
    expect(v1Mount(mountinfo, 'devices')).toBeNull();
    expect(v1Mount('33 25 0:30 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,memory', 'memory')).toBeNull();
  });
});
