import { describe, expect, it } from 'vitest';
import { buildIndex, parsePackages } from './package-index.ts';
import { ResolveError, resolve } from './resolve.ts';

// Minimal Packages paragraphs; `extra` holds further fields as written in an index.
function pkg(name: string, version: string, extra = ''): string {
  const sha = Buffer.from(`${name}_${version}`).toString('hex').padEnd(64, '0').slice(0, 64);
  return [
    `Package: ${name}`,
    `Version: ${version}`,
    'Architecture: amd64',
    extra.trim(),
    `Filename: pool/main/${name[0]}/${name}/${name}_${version}_amd64.deb`,
    'Size: 1000',
    `SHA256: ${sha}`,
  ]
    .filter(Boolean)
    .join('\n');
}

function index(main: string[], security: string[] = []) {
  return buildIndex([
    {
      suite: 'bookworm',
      packages: parsePackages(main.join('\n\n'), 'bookworm', 'http://deb.example/debian'),
    },
    {
      suite: 'bookworm-security',
      packages: parsePackages(
        security.join('\n\n'),
        'bookworm-security',
        'http://deb.example/debian-security',
      ),
    },
  ]);
}

const names = (r: ReturnType<typeof resolve>) => r.packages.map((p) => `${p.name}=${p.version}`);

describe('resolve', () => {
  const base = [
    pkg('libc6', '2.36-9', 'Depends: libgcc-s1'),
    pkg('libgcc-s1', '12.2.0-14', 'Depends: gcc-12-base (= 12.2.0-14), libc6 (>= 2.35)'),
    pkg('gcc-12-base', '12.2.0-14'),
  ];

  it('follows Pre-Depends and Depends (not Recommends/Suggests), sorted by name', () => {
    const idx = index([
      ...base,
      pkg('app', '1.0', 'Pre-Depends: libc6 (>= 2.34)\nDepends: libfoo\nRecommends: extra\nSuggests: docs'),
      pkg('libfoo', '1.0', 'Depends: libc6'),
      pkg('extra', '1.0'),
      pkg('docs', '1.0'),
    ]);
    const r = resolve(idx, { packages: ['app'] });
    expect(names(r)).toEqual([
      'app=1.0',
      'gcc-12-base=12.2.0-14',
      'libc6=2.36-9',
      'libfoo=1.0',
      'libgcc-s1=12.2.0-14',
    ]);
    expect(r.pulledBy.get('libc6')).toBe('app');
    expect(r.pulledBy.get('gcc-12-base')).toBe('libgcc-s1');
    expect(r.pulledBy.has('app')).toBe(false);
    expect(r.cuts).toEqual([]);
  });

  it('takes the highest version across suites as candidate, unless pinned', () => {
    const idx = index([...base, pkg('libssl3', '3.0.11-1~deb12u2')], [pkg('libssl3', '3.0.15-1~deb12u1')]);
    const latest = resolve(idx, { packages: ['libssl3'] }).packages[0]!;
    expect([latest.version, latest.suite, latest.archiveUrl]).toEqual([
      '3.0.15-1~deb12u1',
      'bookworm-security',
      'http://deb.example/debian-security',
    ]);
    expect(resolve(idx, { packages: ['libssl3=3.0.11-1~deb12u2'] }).packages[0]!.suite).toBe('bookworm');
    expect(() => resolve(idx, { packages: ['libssl3=9.9'] })).toThrow(
      /no version 9.9 of libssl3 \(known: 3.0.15/,
    );
  });

  it('checks versioned relations against the candidate and names the chain when nothing fits', () => {
    const idx = index([
      pkg('python3.11', '3.11.2-6', 'Depends: libpython3.11-stdlib (= 3.11.2-6)'),
      pkg('libpython3.11-stdlib', '3.11.2-6', 'Depends: libmpdec3, libffi8 (>= 3.4)'),
      pkg('libmpdec3', '2.5.1-2', 'Depends: libc-fake (>= 1.2)'),
      pkg('libc-fake', '1.1'),
      pkg('libffi8', '3.4.4-1'),
    ]);
    let error: unknown;
    try {
      resolve(idx, { packages: ['python3.11'] });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ResolveError);
    expect((error as ResolveError).chain).toEqual(['python3.11', 'libpython3.11-stdlib', 'libmpdec3']);
    expect((error as Error).message).toBe(
      'python3.11 → libpython3.11-stdlib → libmpdec3: no package satisfies libc-fake (>= 1.2) ' +
        '(libc-fake 1.1 does not satisfy libc-fake (>= 1.2))',
    );
  });

  it('reports unknown packages, requested or depended on', () => {
    const idx = index([pkg('a', '1', 'Depends: ghost')]);
    expect(() => resolve(idx, { packages: ['nope'] })).toThrow('nope: no such package');
    expect(() => resolve(idx, { packages: ['a'] })).toThrow(
      'a: no package satisfies ghost (no package ghost)',
    );
  });

  it('takes the first satisfiable alternative, or one that is already selected', () => {
    const idx = index([
      pkg('app', '1', 'Depends: missing | old (>= 2) | mid | last'),
      pkg('old', '1'),
      pkg('mid', '1'),
      pkg('last', '1'),
    ]);
    expect(names(resolve(idx, { packages: ['app'] }))).toEqual(['app=1', 'mid=1']);
    expect(names(resolve(idx, { packages: ['app', 'last'] }))).toEqual(['app=1', 'last=1']);
  });

  it('resolves virtual packages through Provides, preferring the higher Priority', () => {
    const idx = index([
      pkg('base-files', '12.4', 'Pre-Depends: awk'),
      pkg('mawk', '1.3.4', 'Provides: awk\nPriority: required'),
      pkg('gawk', '1:5.2.1-2', 'Provides: awk\nPriority: optional'),
    ]);
    expect(names(resolve(idx, { packages: ['base-files'] }))).toEqual(['base-files=12.4', 'mawk=1.3.4']);
    // Already selected providers win over the preferred one.
    expect(names(resolve(idx, { packages: ['base-files', 'gawk'] }))).toEqual([
      'base-files=12.4',
      'gawk=1:5.2.1-2',
    ]);
  });

  it('honours versioned Provides and ignores unversioned ones for versioned relations', () => {
    const idx = index([
      pkg('app', '1', 'Depends: foo-abi (>= 2)'),
      pkg('libfoo1', '1.0', 'Provides: foo-abi\nPriority: required'),
      pkg('libfoo2', '2.1', 'Provides: foo-abi (= 2.1)'),
    ]);
    expect(names(resolve(idx, { packages: ['app'] }))).toEqual(['app=1', 'libfoo2=2.1']);
    const tooNew = index([
      pkg('app', '1', 'Depends: foo-abi (>= 3)'),
      pkg('libfoo2', '2.1', 'Provides: foo-abi (= 2.1)'),
    ]);
    expect(() => resolve(tooNew, { packages: ['app'] })).toThrow(
      'app: no package satisfies foo-abi (>= 3) (no package foo-abi or provider of a matching version)',
    );
  });

  it('accepts :any and :amd64 qualifiers but not foreign architectures', () => {
    const idx = index([
      pkg('tool', '1', 'Depends: perl:any, libz:amd64'),
      pkg('perl', '5.36'),
      pkg('libz', '1'),
    ]);
    expect(names(resolve(idx, { packages: ['tool'] }))).toEqual(['libz=1', 'perl=5.36', 'tool=1']);
    const foreign = index([pkg('tool', '1', 'Depends: libz:i386'), pkg('libz', '1')]);
    expect(() => resolve(foreign, { packages: ['tool'] })).toThrow(/libz:i386: not an amd64 relation/);
  });

  it('ignores packages of other architectures in the index', () => {
    const idx = index([pkg('a', '1'), pkg('a', '2').replace('Architecture: amd64', 'Architecture: arm64')]);
    expect(names(resolve(idx, { packages: ['a'] }))).toEqual(['a=1']);
  });

  it('cuts excluded packages, directly or as providers of a virtual package, and records the cuts', () => {
    const idx = index([
      pkg('tzdata', '2024a', 'Depends: debconf (>= 0.5) | debconf-2.0'),
      pkg('ca-certificates', '2023', 'Depends: openssl, debconf-2.0'),
      pkg('openssl', '3.0'),
      pkg('debconf', '1.5.82', 'Provides: debconf-2.0\nDepends: perl-base'),
      pkg('cdebconf', '0.270', 'Provides: debconf-2.0'),
      pkg('perl-base', '5.36'),
    ]);
    const r = resolve(idx, { packages: ['tzdata', 'ca-certificates'], exclude: ['debconf', 'unused'] });
    expect(names(r)).toEqual(['ca-certificates=2023', 'openssl=3.0', 'tzdata=2024a']);
    expect(r.excluded).toEqual(['debconf']);
    expect(r.cuts).toEqual([
      { dependent: 'ca-certificates', field: 'Depends', group: 'debconf-2.0', excluded: 'debconf' },
      { dependent: 'tzdata', field: 'Depends', group: 'debconf (>= 0.5) | debconf-2.0', excluded: 'debconf' },
    ]);
    expect(() => resolve(idx, { packages: ['debconf'], exclude: ['debconf'] })).toThrow(
      'debconf: requested but also excluded',
    );
  });

  it('installs a virtual package requested by name when one package provides it', () => {
    const idx = index([
      pkg('mawk', '1', 'Provides: awk'),
      pkg('x', '1', 'Provides: editor'),
      pkg('y', '1', 'Provides: editor'),
    ]);
    expect(names(resolve(idx, { packages: ['awk'] }))).toEqual(['mawk=1']);
    expect(() => resolve(idx, { packages: ['editor'] })).toThrow('editor: virtual package provided by x, y');
  });

  it('refuses sets that Conflict or Break', () => {
    const idx = index([
      pkg('a', '1', 'Conflicts: b'),
      pkg('b', '1'),
      pkg('c', '1', 'Breaks: d (<< 2)'),
      pkg('d', '1'),
      pkg('e', '1', 'Provides: mta\nConflicts: mta'),
    ]);
    expect(() => resolve(idx, { packages: ['a', 'b'] })).toThrow('a: Conflicts b, but b 1 is selected');
    expect(() => resolve(idx, { packages: ['c', 'd'] })).toThrow('c: Breaks d (<< 2), but d 1 is selected');
    // A package may conflict with a virtual package it provides itself.
    expect(names(resolve(idx, { packages: ['e'] }))).toEqual(['e=1']);
  });

  it('does not depend on the order of the request', () => {
    const idx = index([
      ...base,
      pkg('x', '1', 'Depends: p | q'),
      pkg('y', '1', 'Depends: q | p, libc6'),
      pkg('p', '1'),
      pkg('q', '1'),
    ]);
    const a = resolve(idx, { packages: ['x', 'y'] });
    const b = resolve(idx, { packages: ['y', 'x'] });
    expect(names(a)).toEqual(names(b));
    expect(names(a)).toContain('p=1');
    expect(names(a)).not.toContain('q=1');
  });
});
