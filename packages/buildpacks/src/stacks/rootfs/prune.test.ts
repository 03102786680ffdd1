import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { walk } from './paths.ts';
import { DEFAULT_KEEP, DEFAULT_PRUNE, extractionExcludes, globToRegExp, prune } from './prune.ts';

describe('globToRegExp', () => {
  const cases: [string, string, boolean][] = [
    ['usr/share/doc/**', 'usr/share/doc', true],
    ['usr/share/doc/**', 'usr/share/doc/bash/README', true],
    ['usr/share/doc/**', 'usr/share/docs', false],
    ['usr/share/doc/*/copyright', 'usr/share/doc/bash/copyright', true],
    ['usr/share/doc/*/copyright', 'usr/share/doc/bash/x/copyright', false],
    ['usr/**/*.a', 'usr/lib/x86_64-linux-gnu/libc.a', true],
    ['usr/**/*.a', 'usr/x.a', true],
    ['**/*.pyc', 'a/b/c.pyc', true],
    ['**/*.pyc', 'c.pyc', true],
    ['var/cache/ldconfig/aux-cache', 'var/cache/ldconfig/aux-cache', true],
    ['var/cache/ldconfig/aux-cache', 'var/cache/ldconfig/aux-cacheX', false],
    ['usr/lib/*.so.1', 'usr/lib/libz.so.1', true],
    ['a.b', 'aXb', false],
  ];
  it.each(cases)('%s matches %s: %s', (glob, path, expected) => {
    expect(globToRegExp(glob).test(path)).toBe(expected);
  });
});

describe('extractionExcludes', () => {
  it('passes literal directories to tar unless a keep pattern reaches into them', () => {
    expect(extractionExcludes(DEFAULT_PRUNE, DEFAULT_KEEP)).toEqual([
      './usr/share/man',
      './usr/share/info',
      './usr/share/locale',
      './usr/share/lintian',
      './usr/share/linda',
      './usr/share/bug',
      './var/cache/ldconfig/aux-cache',
    ]);
    expect(extractionExcludes(['usr/lib/foo/**', 'usr/**/*.a'], [])).toEqual(['./usr/lib/foo', './lib/foo']);
  });
});

describe('prune', () => {
  let root: string;
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('removes matches, keeps kept files and their directories, removes emptied directories', async () => {
    root = await mkdtemp(join(tmpdir(), 'tf-prune-'));
    const files = [
      'usr/share/doc/bash/copyright',
      'usr/share/doc/bash/README.gz',
      'usr/share/doc/libc6/changelog.gz',
      'usr/share/man/man1/bash.1.gz',
      'usr/share/locale/de/LC_MESSAGES/bash.mo',
      'usr/share/zoneinfo/UTC',
      'usr/bin/bash',
    ];
    for (const f of files) {
      await mkdir(join(root, f, '..'), { recursive: true });
      await writeFile(join(root, f), f);
    }
    await symlink('copyright', join(root, 'usr/share/doc/bash/LICENSE'));
    const result = await prune(root, DEFAULT_PRUNE, DEFAULT_KEEP);
    expect(result.removed).toBe(5);
    expect((await walk(root)).map((e) => e.path)).toEqual([
      'usr',
      'usr/bin',
      'usr/bin/bash',
      'usr/share',
      'usr/share/doc',
      'usr/share/doc/bash',
      'usr/share/doc/bash/copyright',
      'usr/share/zoneinfo',
      'usr/share/zoneinfo/UTC',
    ]);
  });
});
