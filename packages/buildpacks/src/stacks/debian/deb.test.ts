import { chmod, lstat, mkdir, mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../exec.ts';
import { createMergedUsr } from '../rootfs/layout.ts';
import { extractData, readControl } from './deb.ts';

// A small package built with dpkg-deb, shipping files the pre-merge way (/bin, /lib).
let dir: string;
let deb: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tf-deb-'));
  const src = join(dir, 'src');
  for (const d of [
    'DEBIAN',
    'bin',
    'lib/x86_64-linux-gnu',
    'usr/share/man/man1',
    'usr/share/doc/tool',
    'etc',
  ]) {
    await mkdir(join(src, d), { recursive: true });
  }
  await writeFile(
    join(src, 'DEBIAN/control'),
    'Package: tool\nVersion: 1.0\nArchitecture: amd64\nMaintainer: T <t@example.org>\nDescription: test\n',
  );
  await writeFile(join(src, 'DEBIAN/conffiles'), '/etc/tool.conf\n');
  await writeFile(
    join(src, 'DEBIAN/postinst'),
    '#!/bin/sh\nupdate-alternatives --install /usr/bin/t t /bin/tool 5\n',
  );
  await chmod(join(src, 'DEBIAN/postinst'), 0o755);
  await writeFile(join(src, 'bin/tool'), '#!/bin/sh\necho tool\n');
  await chmod(join(src, 'bin/tool'), 0o4755);
  await writeFile(join(src, 'lib/x86_64-linux-gnu/libtool.so.1'), 'ELF');
  await writeFile(join(src, 'usr/share/man/man1/tool.1.gz'), 'man');
  await writeFile(join(src, 'usr/share/doc/tool/copyright'), 'GPL');
  await writeFile(join(src, 'etc/tool.conf'), 'x=1\n');
  // dpkg-deb does not write md5sums (debhelper does); this one is what dh_md5sums would produce.
  await writeFile(join(src, 'DEBIAN/md5sums'), '0e3c7f4b6a8cd9e0c6ac0f0f0f0f0f0f  bin/tool\n');
  deb = join(dir, 'tool.deb');
  await run('dpkg-deb', ['--root-owner-group', '--build', src, deb]);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('extractData', () => {
  it('extracts through the merged-/usr symlinks, keeping modes, skipping excluded paths', async () => {
    const root = join(dir, 'root');
    await mkdir(root);
    await createMergedUsr(root);
    const members = await extractData(deb, root, ['./usr/share/man']);
    expect(members).toContain('bin/tool');
    expect(members).toContain('usr/share/doc/tool/copyright');
    expect(members.some((m) => m.startsWith('usr/share/man'))).toBe(false);
    expect(await readlink(join(root, 'bin'))).toBe('usr/bin');
    const tool = await lstat(join(root, 'usr/bin/tool'));
    expect([tool.mode & 0o7777, tool.uid, tool.gid]).toEqual([0o4755, 0, 0]);
    expect(await readFile(join(root, 'usr/lib/x86_64-linux-gnu/libtool.so.1'), 'utf8')).toBe('ELF');
    expect(await lstat(join(root, 'usr/share/man')).catch(() => 'absent')).toBe('absent');
  });
});

describe('readControl', () => {
  it('returns the control archive files', async () => {
    const { files } = await readControl(deb);
    expect([...files.keys()]).toEqual(['conffiles', 'control', 'md5sums', 'postinst']);
    expect(files.get('conffiles')).toBe('/etc/tool.conf\n');
    expect(files.get('md5sums')).toMatch(/^[0-9a-f]{32} {2}bin\/tool$/m);
  });
});
