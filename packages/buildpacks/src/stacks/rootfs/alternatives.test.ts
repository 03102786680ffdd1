import { lstat, mkdir, mkdtemp, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { applyAlternatives, parseAlternatives } from './alternatives.ts';

// Excerpts of real bookworm postinst scripts.
const GAWK = `#!/bin/sh
set -e

update-alternatives --quiet --install /usr/bin/awk awk /usr/bin/gawk 10 \\
  --slave /usr/share/man/man1/awk.1.gz awk.1.gz /usr/share/man/man1/gawk.1.gz \\
  --slave /usr/bin/nawk nawk /usr/bin/gawk \\
  --slave /usr/share/man/man1/nawk.1.gz nawk.1.gz /usr/share/man/man1/gawk.1.gz
`;
const MAWK = `if [ "$1" = "configure" ]; then
        update-alternatives --install /usr/bin/awk awk /usr/bin/mawk 5 \\
            --slave /usr/bin/nawk nawk /usr/bin/mawk
fi`;
const PROCPS = `check_alternatives() {
	update-alternatives --install "$BINPATH"/"$BINNAME" "$BINNAME" \\
	    "$BINPATH"/"$BINNAME".procps 50
}
	       update-alternatives --remove w /usr/bin/w.procps`;
const XZ = `update-alternatives --install /usr/bin/lzma lzma /usr/bin/xz 20 $(
	slave /usr/share/man/man1 lzma.1.gz xz.1.gz
)`;

describe('parseAlternatives', () => {
  it('reads literal --install calls with their slaves', () => {
    const { alternatives, skipped } = parseAlternatives(GAWK, 'gawk');
    expect(skipped).toEqual([]);
    expect(alternatives).toEqual([
      {
        link: '/usr/bin/awk',
        name: 'awk',
        path: '/usr/bin/gawk',
        priority: 10,
        package: 'gawk',
        slaves: [
          { link: '/usr/share/man/man1/awk.1.gz', name: 'awk.1.gz', path: '/usr/share/man/man1/gawk.1.gz' },
          { link: '/usr/bin/nawk', name: 'nawk', path: '/usr/bin/gawk' },
          { link: '/usr/share/man/man1/nawk.1.gz', name: 'nawk.1.gz', path: '/usr/share/man/man1/gawk.1.gz' },
        ],
      },
    ]);
  });

  it('skips and reports calls built from variables or command substitutions, ignores --remove', () => {
    const procps = parseAlternatives(PROCPS, 'procps');
    expect(procps.alternatives).toEqual([]);
    expect(procps.skipped).toHaveLength(1);
    const xz = parseAlternatives(XZ, 'xz-utils');
    expect(xz.alternatives.map((a) => [a.name, a.path, a.slaves.length])).toEqual([
      ['lzma', '/usr/bin/xz', 0],
    ]);
    expect(xz.skipped).toEqual([expect.stringContaining('computed slaves of lzma')]);
  });
});

describe('applyAlternatives', () => {
  let root: string;
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('links the highest priority choice that exists, and only slaves whose file exists', async () => {
    root = await mkdtemp(join(tmpdir(), 'tf-alt-'));
    await mkdir(join(root, 'usr/bin'), { recursive: true });
    await symlink('usr/bin', join(root, 'bin'));
    await writeFile(join(root, 'usr/bin/mawk'), '');
    await writeFile(join(root, 'usr/bin/gawk'), '');
    const all = [
      ...parseAlternatives(MAWK, 'mawk').alternatives,
      ...parseAlternatives(GAWK, 'gawk').alternatives,
    ];
    const chosen = await applyAlternatives(root, all);
    expect(chosen.map((a) => a.path)).toEqual(['/usr/bin/gawk']);
    expect(await readlink(join(root, 'usr/bin/awk'))).toBe('/etc/alternatives/awk');
    expect(await readlink(join(root, 'etc/alternatives/awk'))).toBe('/usr/bin/gawk');
    expect(await readlink(join(root, 'usr/bin/nawk'))).toBe('/etc/alternatives/nawk');
    expect(await lstat(join(root, 'usr/share/man/man1/awk.1.gz')).catch(() => 'absent')).toBe('absent');

    await rm(join(root, 'usr/bin/gawk'));
    const fallback = await applyAlternatives(root, all);
    expect(fallback.map((a) => a.path)).toEqual(['/usr/bin/mawk']);
    expect(await readlink(join(root, 'etc/alternatives/awk'))).toBe('/usr/bin/mawk');
  });

  it('never replaces a real file at the link path', async () => {
    root = await mkdtemp(join(tmpdir(), 'tf-alt-'));
    await mkdir(join(root, 'usr/bin'), { recursive: true });
    await writeFile(join(root, 'usr/bin/mawk'), '');
    await writeFile(join(root, 'usr/bin/awk'), 'real');
    expect(await applyAlternatives(root, parseAlternatives(MAWK, 'mawk').alternatives)).toEqual([]);
    expect((await lstat(join(root, 'usr/bin/awk'))).isFile()).toBe(true);
  });
});
