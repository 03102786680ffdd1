// The effects of maintainer scripts an image depends on, done directly instead of running the scripts
// (which need a configured system: debconf, dpkg-divert, perl...). Each function names the script it
// stands in for; it does nothing unless that package is installed. Scripts not imitated here only do
// things that do not matter in a container image (restarting services, systemd units, upgrades from
// older versions, update-menus, initramfs...).
import { chmod, copyFile, lstat, readdir, readFile, rm, rmdir, symlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ensureDir, inRoot, resolveInRoot } from './paths.ts';

const exists = async (root: string, path: string) =>
  (await lstat(inRoot(root, path)).catch(() => undefined)) !== undefined;

async function writeText(root: string, path: string, text: string, mode = 0o644): Promise<void> {
  await ensureDir(dirname(inRoot(root, path)));
  await writeFile(inRoot(root, path), text);
  await chmod(inRoot(root, path), mode);
}

async function replaceWithSymlink(root: string, path: string, target: string): Promise<void> {
  await rm(inRoot(root, path), { force: true });
  await symlink(target, inRoot(root, path));
}

/**
 * base-files postinst, first configuration: default shell profiles, the origins link, the FHS
 * directories it creates rather than ships, and /var/run, /var/lock as links into /run.
 * (Left out: /var/log/{wtmp,btmp,lastlog} and /var/mail, which need the utmp and mail groups.)
 */
export async function baseFiles(root: string): Promise<void> {
  if (!(await exists(root, '/usr/share/base-files'))) return;
  if (
    !(await exists(root, '/etc/dpkg/origins/default')) &&
    (await exists(root, '/etc/dpkg/origins/debian'))
  ) {
    await symlink('debian', inRoot(root, '/etc/dpkg/origins/default'));
  }
  for (const [from, to] of [
    ['dot.profile', '/root/.profile'],
    ['dot.bashrc', '/root/.bashrc'],
    ['profile', '/etc/profile'],
    ['motd', '/etc/motd'],
  ] as const) {
    if (!(await exists(root, to)) && (await exists(root, `/usr/share/base-files/${from}`))) {
      await copyFile(inRoot(root, `/usr/share/base-files/${from}`), inRoot(root, to));
      await chmod(inRoot(root, to), 0o644);
    }
  }
  for (const [dir, mode] of [
    ['/mnt', 0o755],
    ['/srv', 0o755],
    ['/opt', 0o755],
    ['/etc/opt', 0o755],
    ['/var/opt', 0o755],
    ['/media', 0o755],
    ['/run/lock', 0o1777],
    ['/usr/local', 0o755],
    ...['share', 'share/man', 'bin', 'games', 'lib', 'include', 'sbin', 'src', 'etc'].map(
      (d) => [`/usr/local/${d}`, 0o755] as const,
    ),
  ] as const) {
    if (await exists(root, dir)) continue;
    await ensureDir(inRoot(root, dir));
    await chmod(inRoot(root, dir), mode);
  }
  if (!(await exists(root, '/usr/local/man'))) await symlink('share/man', inRoot(root, '/usr/local/man'));
  for (const [dir, target] of [
    ['/var/run', '/run'],
    ['/var/lock', '/run/lock'],
  ] as const) {
    const st = await lstat(inRoot(root, dir)).catch(() => undefined);
    if (st?.isSymbolicLink()) continue;
    if (st) await rmdir(inRoot(root, dir)); // fails, as the script would, if a package put files there
    await symlink(target, inRoot(root, dir));
  }
}

/**
 * /bin/sh: dash's postinst points it at dash (through a dpkg diversion, not recorded here), bash's
 * creates it pointing at bash if nothing else did. Returns the target, if any.
 */
export async function binSh(root: string): Promise<string | undefined> {
  if (await exists(root, '/usr/bin/sh')) return undefined;
  for (const shell of ['dash', 'bash']) {
    if (await exists(root, `/usr/bin/${shell}`)) {
      await symlink(shell, inRoot(root, '/usr/bin/sh'));
      return shell;
    }
  }
  return undefined;
}

/**
 * debianutils' update-shells: /etc/shells from its template plus every shells.d fragment (in C
 * collation order), each shell also under its canonical path (`/usr/bin/bash` for `/bin/bash`).
 */
export async function etcShells(root: string): Promise<void> {
  const template = '/usr/share/debianutils/shells';
  if (!(await exists(root, template))) return;
  const fragments = (
    await readdir(inRoot(root, '/usr/share/debianutils/shells.d')).catch(() => [] as string[])
  )
    .sort()
    .map((f) => `/usr/share/debianutils/shells.d/${f}`);
  const templateLines = (await readFile(inRoot(root, template), 'utf8')).split('\n').filter((l) => l !== '');
  const lines = [...templateLines];
  const present = new Set(templateLines.map((l) => l.split('#')[0]));
  for (const file of [template, ...fragments]) {
    for (const line of (await readFile(inRoot(root, file), 'utf8')).split('\n')) {
      const shell = line.split('#')[0]!.trim();
      if (!shell) continue;
      const slash = shell.lastIndexOf('/');
      const real =
        `${await resolveInRoot(root, shell.slice(0, slash) || '/')}/${shell.slice(slash + 1)}`.replace(
          /^\/\//,
          '/',
        );
      for (const s of [shell, real]) {
        if (present.has(s)) continue;
        present.add(s);
        lines.push(s);
      }
    }
  }
  await writeText(root, '/etc/shells', `${lines.join('\n')}\n`);
}

/** libc-bin postinst, first configuration: /etc/nsswitch.conf (without it glibc asks DNS before /etc/hosts). */
export async function libcBin(root: string): Promise<void> {
  const template = '/usr/share/libc-bin/nsswitch.conf';
  if (!(await exists(root, template)) || (await exists(root, '/etc/nsswitch.conf'))) return;
  await copyFile(inRoot(root, template), inRoot(root, '/etc/nsswitch.conf'));
  await chmod(inRoot(root, '/etc/nsswitch.conf'), 0o644);
}

/** netbase postinst, first configuration: /etc/hosts and /etc/networks (runtimes usually mount over hosts). */
export async function netbase(root: string): Promise<void> {
  if (!(await exists(root, '/etc/protocols'))) return;
  if (!(await exists(root, '/etc/hosts'))) {
    await writeText(
      root,
      '/etc/hosts',
      '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\nff02::1\t\tip6-allnodes\nff02::2\t\tip6-allrouters\n',
    );
  }
  if (!(await exists(root, '/etc/networks'))) {
    await writeText(
      root,
      '/etc/networks',
      'default\t\t0.0.0.0\nloopback\t127.0.0.0\nlink-local\t169.254.0.0\n',
    );
  }
}

/** tzdata postinst (debconf default or the recipe's zone): /etc/localtime link and /etc/timezone. */
export async function timezone(root: string, zone: string): Promise<void> {
  if (!(await exists(root, '/usr/share/zoneinfo'))) return;
  if (!(await exists(root, `/usr/share/zoneinfo/${zone}`)))
    throw new Error(`time zone ${zone} is not in tzdata`);
  await replaceWithSymlink(root, '/etc/localtime', `/usr/share/zoneinfo/${zone}`);
  await writeText(root, '/etc/timezone', `${zone}\n`);
}
