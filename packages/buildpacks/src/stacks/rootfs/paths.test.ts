import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveInRoot } from './paths.ts';

describe('resolveInRoot', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'tf-paths-'));
    await mkdir(join(root, 'usr/bin'), { recursive: true });
    await mkdir(join(root, 'etc/ssl/certs'), { recursive: true });
    await symlink('usr/bin', join(root, 'bin'));
    await symlink('/etc/ssl/certs', join(root, 'usr/certs')); // absolute: must stay inside root
    await symlink('../../bin/loop', join(root, 'usr/bin/loop'));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it.each([
    ['/bin/sh', '/usr/bin/sh'],
    ['bin', '/usr/bin'],
    ['/usr/certs/ca.crt', '/etc/ssl/certs/ca.crt'],
    ['/usr/../bin/./x', '/usr/bin/x'],
    ['/missing/dir/x', '/missing/dir/x'],
  ])('%s → %s', async (path, expected) => {
    expect(await resolveInRoot(root, path)).toBe(expected);
  });

  it('detects symlink loops', async () => {
    await expect(resolveInRoot(root, '/bin/loop')).rejects.toThrow(/too many levels/);
  });
});
