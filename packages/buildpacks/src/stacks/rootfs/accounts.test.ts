import { describe, expect, it } from 'vitest';
import { accountFiles } from './accounts.ts';

describe('accountFiles', () => {
  it('writes root, the recipe users and nobody, ordered by id', () => {
    const files = accountFiles(
      [
        { name: 'tool', uid: 52000, gid: 52000, home: '/data/project/tool', shell: '/bin/sh' },
        { name: 'cnb', uid: 1000, gid: 1000, home: '/home/cnb' },
      ],
      '/bin/bash',
    );
    expect(files.passwd).toBe(
      [
        'root:x:0:0:root:/root:/bin/bash',
        'cnb:x:1000:1000::/home/cnb:/bin/bash',
        'tool:x:52000:52000::/data/project/tool:/bin/sh',
        'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin',
        '',
      ].join('\n'),
    );
    expect(files.group).toBe(
      ['root:x:0:', 'cnb:x:1000:', 'tool:x:52000:', 'nogroup:x:65534:', ''].join('\n'),
    );
  });

  it('lets users share a named group', () => {
    const files = accountFiles(
      [
        { name: 'a', uid: 1001, gid: 1000, group: 'staff', home: '/a' },
        { name: 'b', uid: 1002, gid: 1000, group: 'staff', home: '/b' },
      ],
      '/bin/sh',
    );
    expect(files.group).toBe('root:x:0:\nstaff:x:1000:\nnogroup:x:65534:\n');
  });

  it.each([
    [{ name: 'root', uid: 5, gid: 5, home: '/x' }, /clashes with root/],
    [{ name: 'x', uid: 0, gid: 5, home: '/x' }, /clashes with root/],
    [{ name: 'x', uid: 5, gid: 0, home: '/x' }, /gid 0 is already group 'root'/],
    [{ name: 'Bad Name', uid: 5, gid: 5, home: '/x' }, /invalid user name/],
    [{ name: 'x', uid: -1, gid: 5, home: '/x' }, /invalid uid/],
  ])('refuses %j', (user, error) => {
    expect(() => accountFiles([user], '/bin/sh')).toThrow(error);
  });
});
