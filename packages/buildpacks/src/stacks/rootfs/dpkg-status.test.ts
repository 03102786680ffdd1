import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseDeb822 } from '../debian/deb822.ts';
import { parsePackages } from '../debian/package-index.ts';
import type { Cut } from '../debian/resolve.ts';
import { infoName, statusStanza, writeDpkgDatabase } from './dpkg-status.ts';

const SHA = 'a'.repeat(64);
const [tzdata, libc6] = parsePackages(
  `Package: tzdata
Version: 2024a-0+deb12u1
Installed-Size: 3000
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>
Architecture: all
Multi-Arch: foreign
Provides: tzdata-bookworm
Depends: debconf (>= 0.5) | debconf-2.0, base-files
Description: time zone and daylight-saving time data
Homepage: https://www.iana.org/time-zones
Description-md5: 0123
Tag: role::app-data
Section: localization
Priority: required
Filename: pool/main/t/tzdata/tzdata_2024a-0+deb12u1_all.deb
Size: 100
MD5sum: 00
SHA256: ${SHA}

Package: libc6
Source: glibc
Version: 2.36-9+deb12u4
Architecture: amd64
Depends: libgcc-s1
Multi-Arch: same
Filename: pool/main/g/glibc/libc6_2.36-9+deb12u4_amd64.deb
Size: 200
SHA256: ${SHA}`,
  'bookworm',
  'http://deb.example/debian',
);

const cut: Cut = {
  dependent: 'tzdata',
  field: 'Depends',
  group: 'debconf (>= 0.5) | debconf-2.0',
  excluded: 'debconf',
};

describe('statusStanza', () => {
  it('marks the index paragraph installed, in dpkg field order, without the .deb fields', () => {
    expect(statusStanza(libc6!, [], [])).toBe(
      [
        'Package: libc6',
        'Status: install ok installed',
        'Architecture: amd64',
        'Multi-Arch: same',
        'Source: glibc',
        'Version: 2.36-9+deb12u4',
        'Depends: libgcc-s1',
      ].join('\n'),
    );
  });

  it('drops dependency groups cut by an exclusion, records them, and lists conffiles', () => {
    const text = statusStanza(tzdata!, [cut], [{ path: '/etc/timezone.conf', md5: 'f'.repeat(32) }]);
    expect(text).toBe(
      [
        'Package: tzdata',
        'Status: install ok installed',
        'Priority: required',
        'Section: localization',
        'Installed-Size: 3000',
        'Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>',
        'Architecture: all',
        'Multi-Arch: foreign',
        'Version: 2024a-0+deb12u1',
        'Provides: tzdata-bookworm',
        'Depends: base-files',
        'Conffiles:',
        ` /etc/timezone.conf ${'f'.repeat(32)}`,
        'Description: time zone and daylight-saving time data',
        'Homepage: https://www.iana.org/time-zones',
        'X-Toolforge-Excluded-Depends: debconf (>= 0.5) | debconf-2.0',
      ].join('\n'),
    );
  });

  it('omits a Depends field whose every group was cut', () => {
    const only = parsePackages(
      `Package: x\nVersion: 1\nArchitecture: all\nDepends: debconf\nFilename: f\nSize: 1\nSHA256: ${SHA}`,
      's',
      'u',
    )[0]!;
    const text = statusStanza(
      only,
      [{ dependent: 'x', field: 'Depends', group: 'debconf', excluded: 'debconf' }],
      [],
    );
    expect(text).not.toMatch(/^Depends:/m);
    expect(text).toMatch(/^X-Toolforge-Excluded-Depends: debconf$/m);
  });
});

describe('writeDpkgDatabase', () => {
  let root: string;
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('writes a status file dpkg can parse plus list, md5sums and conffiles for what is still there', async () => {
    root = await mkdtemp(join(tmpdir(), 'tf-dpkg-'));
    await mkdir(join(root, 'usr/lib'), { recursive: true });
    await symlink('usr/lib', join(root, 'lib'));
    await mkdir(join(root, 'usr/share/zoneinfo'), { recursive: true });
    await mkdir(join(root, 'etc'));
    await writeFile(join(root, 'usr/share/zoneinfo/UTC'), 'TZif');
    await writeFile(join(root, 'usr/lib/libc.so.6'), 'ELF');
    await writeFile(join(root, 'etc/tz.conf'), 'hello\n');
    await writeDpkgDatabase(
      root,
      [
        {
          record: tzdata!,
          members: [
            'usr/',
            'usr/share/',
            'usr/share/zoneinfo/',
            'usr/share/zoneinfo/UTC',
            'usr/share/doc/tzdata/changelog.gz',
            'etc/tz.conf',
          ],
          control: new Map([
            ['conffiles', '/etc/tz.conf\nremove-on-upgrade /etc/old.conf\n'],
            [
              'md5sums',
              `${'1'.repeat(32)}  usr/share/zoneinfo/UTC\n${'2'.repeat(32)}  usr/share/doc/tzdata/changelog.gz\n`,
            ],
          ]),
        },
        { record: libc6!, members: ['lib/', 'lib/libc.so.6'], control: new Map() },
      ],
      [cut],
    );
    const status = await readFile(join(root, 'var/lib/dpkg/status'), 'utf8');
    const stanzas = parseDeb822(status);
    expect(stanzas.map((s) => s.fields.get('package'))).toEqual(['libc6', 'tzdata']);
    expect(stanzas.every((s) => s.fields.get('status') === 'install ok installed')).toBe(true);
    expect(stanzas[1]!.fields.get('conffiles')).toBe('\n /etc/tz.conf b1946ac92492d2347c6235b4d2611184');
    expect(status.endsWith('\n\n')).toBe(true);
    expect(await readFile(join(root, 'var/lib/dpkg/info/tzdata.list'), 'utf8')).toBe(
      '/.\n/usr\n/usr/share\n/usr/share/zoneinfo\n/usr/share/zoneinfo/UTC\n/etc/tz.conf\n',
    );
    expect(await readFile(join(root, 'var/lib/dpkg/info/tzdata.md5sums'), 'utf8')).toBe(
      `${'1'.repeat(32)}  usr/share/zoneinfo/UTC\n`,
    );
    expect(await readFile(join(root, 'var/lib/dpkg/info/tzdata.conffiles'), 'utf8')).toBe('/etc/tz.conf\n');
    expect(infoName(libc6!)).toBe('libc6:amd64');
    expect(await readFile(join(root, 'var/lib/dpkg/info/libc6:amd64.list'), 'utf8')).toBe(
      '/.\n/lib\n/lib/libc.so.6\n',
    );
    expect(await readFile(join(root, 'var/lib/dpkg/info/format'), 'utf8')).toBe('1\n');
  });
});
