// Network: deb.debian.org (once per machine: later runs use the shared download cache). Assembles the
// run image's rootfs once, checks it, runs programs from it with bubblewrap, and assembles it again
// from the warm cache to check that nothing is downloaded and the result is identical.
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDeb822 } from '../../../packages/buildpacks/src/stacks/debian/deb822.ts';
import type { FetchProgress } from '../../../packages/buildpacks/src/stacks/debian/fetch.ts';
import { RUN_RECIPE } from '../../../packages/buildpacks/src/stacks/recipes.ts';
import { assembleRootfs, type RootfsResult } from '../../../packages/buildpacks/src/stacks/rootfs.ts';
import { CACHE_DIR, manifest } from './helpers.ts';

let out: string;
let result: RootfsResult;
let root: string;

beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'tf-rootfs-'));
  const started = Date.now();
  result = await assembleRootfs(RUN_RECIPE, { dir: join(out, 'run'), cacheDir: CACHE_DIR, refresh: true });
  root = result.rootfs;
  console.log(
    `run rootfs: ${result.packages.length} packages, ${result.packages.reduce((n, p) => n + p.size, 0)} bytes of .debs ` +
      `(${result.download.bytes} downloaded), ${result.stats.files} files, ${result.stats.bytes} bytes, ${Date.now() - started} ms`,
  );
});
afterAll(() => rm(out, { recursive: true, force: true }));

const bwrap = (...cmd: string[]) =>
  spawnSync(
    'bwrap',
    ['--ro-bind', root, '/', '--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp', ...cmd],
    {
      encoding: 'utf8',
      timeout: 30_000,
    },
  );

describe('run rootfs', () => {
  it('has the merged-/usr layout', async () => {
    for (const dir of ['bin', 'sbin', 'lib', 'lib64'])
      expect(await readlink(join(root, dir))).toBe(`usr/${dir}`);
    expect((await lstat(join(root, 'usr/bin/bash'))).isFile()).toBe(true);
    expect((await lstat(join(root, 'bin/bash'))).isFile()).toBe(true);
    expect(await readlink(join(root, 'usr/bin/sh'))).toBe('bash');
  });

  it('says it is Debian 12 bookworm', async () => {
    const osRelease = await readFile(join(root, 'etc/os-release'), 'utf8');
    expect(osRelease).toMatch(/^VERSION_CODENAME=bookworm$/m);
    expect(osRelease).toMatch(/^VERSION_ID="12"$/m);
    expect(result.distro).toEqual({ name: 'debian', version: '12', codename: 'bookworm' });
  });

  it('has a CA bundle of every certificate ca-certificates ships', async () => {
    const pem = await readFile(join(root, 'etc/ssl/certs/ca-certificates.crt'), 'utf8');
    const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    expect(blocks.length).toBeGreaterThan(100);
    for (const b of blocks) expect(new X509Certificate(b).ca).toBe(true);
    const conf = (await readFile(join(root, 'etc/ca-certificates.conf'), 'utf8'))
      .split('\n')
      .filter((l) => l.endsWith('.crt'));
    expect(conf).toHaveLength(blocks.length);
    expect(await readlink(join(root, 'usr/lib/ssl/cert.pem'))).toBe('/etc/ssl/certs/ca-certificates.crt');
  });

  it('has the accounts, modes and links maintainer scripts would have made', async () => {
    expect(await readFile(join(root, 'etc/passwd'), 'utf8')).toMatch(
      /^cnb:x:1000:1000::\/home\/cnb:\/bin\/bash$/m,
    );
    expect(await readFile(join(root, 'etc/group'), 'utf8')).toMatch(/^nogroup:x:65534:$/m);
    const home = await lstat(join(root, 'home/cnb'));
    expect([home.uid, home.gid, home.mode & 0o7777]).toEqual([1000, 1000, 0o755]);
    expect((await lstat(join(root, 'tmp'))).mode & 0o7777).toBe(0o1777);
    expect(await readlink(join(root, 'etc/localtime'))).toBe('/usr/share/zoneinfo/Etc/UTC');
    expect(await readlink(join(root, 'usr/bin/awk'))).toBe('/etc/alternatives/awk');
    expect(await readFile(join(root, 'etc/shells'), 'utf8')).toMatch(/^\/usr\/bin\/bash$/m);
    expect(await readFile(join(root, 'etc/nsswitch.conf'), 'utf8')).toMatch(/^hosts:\s+files dns$/m);
    expect(existsSync(join(root, 'usr/share/man'))).toBe(false);
    expect(existsSync(join(root, 'usr/share/doc/bash/copyright'))).toBe(true);
    expect(existsSync(join(root, 'usr/share/doc/bash/changelog.Debian.gz'))).toBe(false);
  });

  it('has a dpkg status file listing exactly the installed packages', async () => {
    const status = parseDeb822(await readFile(join(root, 'var/lib/dpkg/status'), 'utf8'));
    expect(status.map((s) => s.fields.get('package'))).toEqual(result.packages.map((p) => p.name));
    expect(status.map((s) => s.fields.get('version'))).toEqual(result.packages.map((p) => p.version));
    expect(status.every((s) => s.fields.get('status') === 'install ok installed')).toBe(true);
    const tzdata = status.find((s) => s.fields.get('package') === 'tzdata')!;
    expect(tzdata.fields.get('depends') ?? '').not.toMatch(/debconf/);
    expect(tzdata.fields.get('x-toolforge-excluded-depends')).toBe('debconf (>= 0.5) | debconf-2.0');
    // The host's dpkg reads it as an administrative directory.
    const query = spawnSync(
      'dpkg-query',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax
      [`--admindir=${join(root, 'var/lib/dpkg')}`, '-W', '-f', '${Package} ${db:Status-Abbrev}\n', 'bash'],
      {
        encoding: 'utf8',
      },
    );
    expect(query.stdout.trim()).toBe('bash ii');
    const list = spawnSync('dpkg-query', [`--admindir=${join(root, 'var/lib/dpkg')}`, '-L', 'bash'], {
      encoding: 'utf8',
    });
    expect(list.stdout.split('\n')).toContain('/bin/bash');
    // Every file listed in the md5sums of every package is there with those contents.
    const verify = spawnSync('dpkg', [`--root=${root}`, '--verify'], { encoding: 'utf8' });
    expect(verify.stdout + verify.stderr).toBe('');
    expect(verify.status).toBe(0);
  });

  it('satisfies apt: no unmet dependencies, and installed packages are not installed again', async () => {
    const apt = join(out, 'apt');
    const lists = join(apt, 'lists');
    await mkdir(join(lists, 'partial'), { recursive: true });
    await mkdir(join(apt, 'parts'), { recursive: true });
    await writeFile(join(apt, 'sources.list'), 'deb http://deb.debian.org/debian bookworm main\n');
    // apt's name for the index of that source; the verified copy from the download cache.
    const main = result.suites.find((s) => s.suite === 'bookworm')!;
    expect(main).toBeDefined();
    const xz = spawnSync('sh', [
      '-c',
      `xz -dc "$1" > "$2"`,
      'sh',
      await mainIndex(),
      join(lists, 'deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages'),
    ]);
    expect(xz.status).toBe(0);
    const aptGet = (status: string, ...args: string[]) =>
      spawnSync(
        'apt-get',
        [
          ...[
            '-o',
            `Dir::State::status=${status}`,
            '-o',
            `Dir::State::Lists=${lists}`,
            '-o',
            `Dir::Cache=${join(apt, 'cache')}`,
          ],
          ...[
            '-o',
            `Dir::Etc::SourceList=${join(apt, 'sources.list')}`,
            '-o',
            `Dir::Etc::SourceParts=${join(apt, 'parts')}`,
          ],
          ...[
            '-o',
            `Dir::Etc::Preferences=${join(apt, 'parts', 'none')}`,
            '-o',
            `Dir::Etc::PreferencesParts=${join(apt, 'parts')}`,
          ],
          ...['-o', 'Debug::NoLocking=1', ...args],
        ],
        { encoding: 'utf8' },
      );
    const status = join(root, 'var/lib/dpkg/status');
    const check = aptGet(status, 'check');
    expect(check.status, check.stdout + check.stderr).toBe(0);
    const sim = aptGet(status, '-s', 'install', 'bash', 'zlib1g');
    expect(sim.stdout).toMatch(/bash is already the newest version/);
    expect(sim.stdout).not.toMatch(/^Inst /m);
    // The same status without the cut dependencies is what apt would reject.
    const uncut = join(out, 'status.uncut');
    const text = await readFile(status, 'utf8');
    await writeFile(
      uncut,
      text.replace(/^Package: tzdata$/m, 'Package: tzdata\nDepends: debconf (>= 0.5) | debconf-2.0'),
    );
    expect(aptGet(uncut, 'check').status).not.toBe(0);
  });

  it('runs its programs under bubblewrap, without chroot', () => {
    const busybox = bwrap('/usr/bin/busybox', 'echo', 'ok');
    expect(busybox.stderr).toBe('');
    expect(busybox.stdout).toBe('ok\n');
    expect(bwrap('/usr/bin/busybox', '--help').stdout).toMatch(/httpd/);
    expect(bwrap('/bin/bash', '-c', 'echo ok').stdout).toBe('ok\n');
    const sh = bwrap(
      '--unshare-user',
      '--uid',
      '1000',
      '--gid',
      '1000',
      '/bin/sh',
      '-c',
      'id -un; openssl version; date +%Z',
    );
    expect(sh.stdout).toMatch(/^cnb\nOpenSSL 3\.0\.\d+.*\nUTC\n$/);
    // The C.UTF-8 locale from libc-bin: one character, not two bytes, and no setlocale warning.
    const utf8 = bwrap('--setenv', 'LC_ALL', 'C.UTF-8', '/bin/bash', '-c', 'printf é | wc -m');
    expect([utf8.stdout, utf8.stderr]).toEqual(['1\n', '']);
  });

  it('records what went in next to the rootfs', async () => {
    const record = JSON.parse(await readFile(join(out, 'run', 'packages.json'), 'utf8'));
    const { download, stats, ...expected } = result;
    expect(record).toEqual(JSON.parse(JSON.stringify(expected)));
    expect(record.suites.map((s: { suite: string }) => s.suite)).toEqual([
      'bookworm',
      'bookworm-updates',
      'bookworm-security',
    ]);
    for (const p of result.packages) expect(p.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(result.warnings).toEqual([]);
  });

  it('is identical when assembled again from the warm cache, which downloads nothing', async () => {
    const first = await manifest(root);
    let last: FetchProgress | undefined;
    let maxBytes = 0;
    const again = await assembleRootfs(RUN_RECIPE, {
      dir: join(out, 'again'),
      cacheDir: CACHE_DIR,
      onProgress: (p) => {
        last = p;
        maxBytes = Math.max(maxBytes, p.bytes);
      },
    });
    expect(last).toMatchObject({
      done: result.packages.length,
      total: result.packages.length,
      downloaded: 0,
      bytes: 0,
    });
    expect(maxBytes).toBe(0);
    expect(again.download).toEqual({ packages: 0, bytes: 0, cachedPackages: result.packages.length });
    expect(again.packages).toEqual(result.packages);
    const second = await manifest(again.rootfs);
    expect(second.length).toBe(first.length);
    expect(second).toEqual(first);
  });
});

/** The main suite's cached Packages.xz, as the assembly verified it. */
async function mainIndex(): Promise<string> {
  const { loadRelease, DEFAULT_SUITES } = await import(
    '../../../packages/buildpacks/src/stacks/debian/release.ts'
  );
  const release = await loadRelease(DEFAULT_SUITES[0]!, { cacheDir: CACHE_DIR });
  return join(CACHE_DIR, 'indexes', `${release.files.get('main/binary-amd64/Packages.xz')!.sha256}.xz`);
}
