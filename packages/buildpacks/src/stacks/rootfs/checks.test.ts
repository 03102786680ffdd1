import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkDistro, checkLibraryPaths, checkOverlaps } from './checks.ts';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'tf-checks-'));
  await mkdir(join(root, 'usr/bin'), { recursive: true });
  await mkdir(join(root, 'usr/lib'), { recursive: true });
  await symlink('usr/bin', join(root, 'bin'));
});
afterEach(() => rm(root, { recursive: true, force: true }));

describe('checkOverlaps', () => {
  it('warns about files shipped twice, and fails on a symlink the merge pointed at itself', async () => {
    await writeFile(join(root, 'usr/bin/tool'), '');
    const shipped = new Map([
      ['usr/bin/tool', ['a', 'b']],
      ['usr/bin/other', ['a']],
    ]);
    expect(await checkOverlaps(root, shipped)).toEqual([
      '/usr/bin/tool is shipped by a, b; the last one extracted wins',
    ]);
    await rm(join(root, 'usr/bin/tool'));
    await symlink('/bin/tool', join(root, 'usr/bin/tool'));
    await expect(checkOverlaps(root, shipped)).rejects.toThrow(
      '/usr/bin/tool from a and b is a symlink to itself',
    );
  });
});

describe('checkDistro', () => {
  const bookworm = { name: 'debian', version: '12', codename: 'bookworm' };
  it('accepts bookworm, refuses another release, notes a missing os-release', async () => {
    expect(await checkDistro(root, bookworm)).toEqual([expect.stringMatching(/distro not checked/)]);
    await writeFile(
      join(root, 'usr/lib/os-release'),
      'VERSION_ID="12"\nVERSION_CODENAME=bookworm\nID=debian\n',
    );
    expect(await checkDistro(root, bookworm)).toEqual([]);
    await writeFile(
      join(root, 'usr/lib/os-release'),
      'VERSION_ID="13"\nVERSION_CODENAME=trixie\nID=debian\n',
    );
    await expect(checkDistro(root, bookworm)).rejects.toThrow(/"codename":"trixie"/);
  });
});

describe('checkLibraryPaths', () => {
  it('warns about library directories only an ld.so.cache would make visible', async () => {
    await mkdir(join(root, 'etc/ld.so.conf.d'), { recursive: true });
    await writeFile(
      join(root, 'etc/ld.so.conf.d/x86_64-linux-gnu.conf'),
      '# multiarch\n/usr/lib/x86_64-linux-gnu\n',
    );
    expect(await checkLibraryPaths(root)).toEqual([]);
    await writeFile(join(root, 'etc/ld.so.conf.d/fakeroot.conf'), '/usr/lib/x86_64-linux-gnu/libfakeroot\n');
    expect(await checkLibraryPaths(root)).toEqual([
      '/etc/ld.so.conf.d/fakeroot.conf adds /usr/lib/x86_64-linux-gnu/libfakeroot, which needs an ld.so.cache (not generated)',
    ]);
  });
});
