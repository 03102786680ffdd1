// Network: deb.debian.org. The real InRelease files are fetched and verified; tampered ones refused.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignatureError, verifyClearsigned } from '../../../packages/buildpacks/src/stacks/debian/gpgv.ts';
import {
  DEFAULT_SUITES,
  loadPackages,
  loadRelease,
  type Release,
} from '../../../packages/buildpacks/src/stacks/debian/release.ts';
import { CACHE_DIR } from './helpers.ts';

let cacheDir: string;
let releases: Release[];

beforeAll(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), 'tf-release-'));
  releases = await Promise.all(DEFAULT_SUITES.map((s) => loadRelease(s, { cacheDir, refresh: true })));
});
afterAll(() => rm(cacheDir, { recursive: true, force: true }));

const cachedInRelease = async (suite: string) => {
  const dir = join(cacheDir, 'inrelease');
  const name = (await readdir(dir)).find((f) => f.endsWith(`_${suite}.InRelease`))!;
  return { path: join(dir, name), bytes: await readFile(join(dir, name)) };
};

describe('InRelease', () => {
  it('is fetched and verified for bookworm, bookworm-updates and bookworm-security', () => {
    expect(releases.map((r) => r.codename)).toEqual(['bookworm', 'bookworm-updates', 'bookworm-security']);
    for (const r of releases) {
      expect(r.inReleaseSha256).toMatch(/^[0-9a-f]{64}$/);
      expect(Date.parse(r.date)).toBeGreaterThan(Date.parse('2023-06-10'));
      expect(r.files.get('main/binary-amd64/Packages.xz')?.size).toBeGreaterThan(0);
    }
  });

  it('carries a valid signature by a key of the Debian archive keyring', async () => {
    const { bytes } = await cachedInRelease('bookworm');
    const verified = await verifyClearsigned(bytes);
    expect(verified.signers.length).toBeGreaterThan(0);
    expect(verified.text).toMatch(/^Codename: bookworm$/m);
  });

  it('is refused when tampered with, unsigned, or signed by an unknown key', async () => {
    const { bytes } = await cachedInRelease('bookworm');
    const text = bytes.toString();
    const tampered = Buffer.from(
      text.replace(/^(Date: .*?)(\d\d) UTC$/m, (_, a, s) => `${a}${s === '00' ? '01' : '00'} UTC`),
    );
    expect(tampered.equals(bytes)).toBe(false);
    await expect(verifyClearsigned(tampered)).rejects.toThrow(SignatureError);
    await expect(verifyClearsigned(Buffer.from('Codename: bookworm\n'))).rejects.toThrow(
      /no valid OpenPGP signature/,
    );
    const otherKeyring = '/usr/share/keyrings/debian-archive-removed-keys.gpg';
    await expect(verifyClearsigned(bytes, otherKeyring)).rejects.toThrow(/no valid OpenPGP signature/);
  });

  it('is refused from the cache too once tampered with, and text outside the signature is ignored', async () => {
    const { path, bytes } = await cachedInRelease('bookworm-updates');
    const source = DEFAULT_SUITES[1]!;
    const injected = `${bytes.toString()}\nSHA256:\n ${'f'.repeat(64)} 1 main/binary-amd64/Evil\n`;
    await writeFile(path, injected);
    const release = await loadRelease(source, { cacheDir });
    expect(release.files.has('main/binary-amd64/Evil')).toBe(false);
    await writeFile(path, bytes.toString().replace(/^(Codename: bookworm-updates)$/m, '$1x'));
    await expect(loadRelease(source, { cacheDir })).rejects.toThrow(SignatureError);
    await writeFile(path, bytes);
  });
});

describe('Packages index', () => {
  it('is verified against InRelease, parsed, and cached by SHA256', async () => {
    // The shared cache: the 9 MB main index is downloaded once per machine, not per run.
    await mkdir(CACHE_DIR, { recursive: true });
    const main = await loadRelease(DEFAULT_SUITES[0]!, { cacheDir: CACHE_DIR });
    const packages = await loadPackages(main, { cacheDir: CACHE_DIR });
    expect(packages.length).toBeGreaterThan(50_000);
    const bash = packages.find((p) => p.name === 'bash')!;
    expect(bash).toMatchObject({ suite: 'bookworm', essential: true, architecture: 'amd64' });
    expect(bash.filename).toMatch(/^pool\/main\/b\/bash\/bash_5\.2\.15-.*_amd64\.deb$/);
    const entry = main.files.get('main/binary-amd64/Packages.xz')!;
    expect((await readdir(join(CACHE_DIR, 'indexes'))).includes(`${entry.sha256}.xz`)).toBe(true);
  });

  it('is refused when the cached copy does not match InRelease (and then fetched again)', async () => {
    const updates = releases[1]!;
    const entry = updates.files.get('main/binary-amd64/Packages.xz')!;
    await loadPackages(updates, { cacheDir });
    const cached = join(cacheDir, 'indexes', `${entry.sha256}.xz`);
    const good = await readFile(cached);
    const bad = Buffer.from(good);
    bad[bad.length - 1]! ^= 0xff;
    await writeFile(cached, bad);
    const packages = await loadPackages(updates, { cacheDir });
    expect(packages.every((p) => p.suite === 'bookworm-updates')).toBe(true);
    expect((await readFile(cached)).equals(good)).toBe(true);
  });
});
