import { mkdir, mkdtemp, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bundle } from './ca-certificates.ts';
import { binSh, etcShells } from './postinst.ts';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'tf-postinst-'));
  await mkdir(join(root, 'usr/bin'), { recursive: true });
  await symlink('usr/bin', join(root, 'bin'));
});
afterEach(() => rm(root, { recursive: true, force: true }));

describe('binSh', () => {
  it('prefers dash, else bash, and leaves an existing /bin/sh alone', async () => {
    await writeFile(join(root, 'usr/bin/bash'), '');
    expect(await binSh(root)).toBe('bash');
    expect(await readlink(join(root, 'usr/bin/sh'))).toBe('bash');
    await rm(join(root, 'usr/bin/sh'));
    await writeFile(join(root, 'usr/bin/dash'), '');
    expect(await binSh(root)).toBe('dash');
    expect(await binSh(root)).toBeUndefined();
  });
});

describe('etcShells', () => {
  it('lists template and shells.d shells, each also under its merged-/usr path', async () => {
    await mkdir(join(root, 'usr/share/debianutils/shells.d'), { recursive: true });
    await writeFile(
      join(root, 'usr/share/debianutils/shells'),
      '# /etc/shells: valid login shells\n/bin/sh\n',
    );
    await writeFile(join(root, 'usr/share/debianutils/shells.d/dash'), '/bin/dash\n');
    await writeFile(join(root, 'usr/share/debianutils/shells.d/bash'), '/bin/bash\n/bin/rbash\n');
    await etcShells(root);
    expect(await readFile(join(root, 'etc/shells'), 'utf8')).toBe(
      [
        '# /etc/shells: valid login shells',
        '/bin/sh',
        '/usr/bin/sh',
        '/bin/bash',
        '/usr/bin/bash',
        '/bin/rbash',
        '/usr/bin/rbash',
        '/bin/dash',
        '/usr/bin/dash',
        '',
      ].join('\n'),
    );
  });
});

describe('bundle', () => {
  it('concatenates PEM files, adding a final newline where one is missing', () => {
    expect(bundle(['A\n', 'B', '', 'C\n'])).toBe('A\nB\nC\n');
  });
});
