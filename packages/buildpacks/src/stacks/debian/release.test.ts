import { describe, expect, it } from 'vitest';
import { parseRelease } from './release.ts';

const SECURITY = `Origin: Debian
Label: Debian-Security
Suite: oldstable-security
Version: 12
Codename: bookworm-security
Date: Wed, 18 Nov 2026 22:17:41 UTC
Valid-Until: Wed, 25 Nov 2026 22:17:41 UTC
Acquire-By-Hash: yes
Architectures: amd64 arm64
Components: updates/main
MD5Sum:
 0123456789abcdef0123456789abcdef 100 main/binary-amd64/Packages
SHA256:
 ${'a'.repeat(64)}   1234567 main/binary-amd64/Packages
 ${'B'.repeat(64)}    345678 main/binary-amd64/Packages.xz
`;

describe('parseRelease', () => {
  const source = { suite: 'bookworm-security', url: 'http://deb.debian.org/debian-security' };

  it('reads the date, validity, by-hash support and SHA256 file list', () => {
    const r = parseRelease(SECURITY, source, 'f'.repeat(64));
    expect(r).toMatchObject({
      suite: 'bookworm-security',
      codename: 'bookworm-security',
      component: 'main',
      date: 'Wed, 18 Nov 2026 22:17:41 UTC',
      dateIso: '2026-11-18T22:17:41.000Z',
      validUntil: 'Wed, 25 Nov 2026 22:17:41 UTC',
      acquireByHash: true,
      inReleaseSha256: 'f'.repeat(64),
    });
    expect(r.files.get('main/binary-amd64/Packages.xz')).toEqual({ sha256: 'b'.repeat(64), size: 345678 });
    expect(r.files.size).toBe(2);
  });

  it('refuses a Release file for another suite (a replayed or misdirected signed file)', () => {
    expect(() => parseRelease(SECURITY, { ...source, suite: 'bookworm' }, '')).toThrow(
      /is for 'bookworm-security', not 'bookworm'/,
    );
  });

  it('refuses a Release file without a usable date or with bad checksum lines', () => {
    expect(() => parseRelease(SECURITY.replace(/^Date: .*$/m, 'Date: soon'), source, '')).toThrow(
      /no valid Date/,
    );
    expect(() => parseRelease(SECURITY.replace(' 1234567 ', ' '), source, '')).toThrow(/bad SHA256 line/);
  });
});
