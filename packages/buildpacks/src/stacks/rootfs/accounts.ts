// /etc/passwd and /etc/group, which base-passwd's postinst would copy from its master files and
// adduser would extend. Only the accounts an image needs are written: root, nobody/nogroup (the
// conventional unprivileged ids) and the recipe's users, e.g. the CNB `cnb` user the lifecycle runs as.
import { chmod, chown, writeFile } from 'node:fs/promises';
import { ensureDir, inRoot } from './paths.ts';

export interface StackUser {
  name: string;
  uid: number;
  gid: number;
  /** Home directory, created owned by the user (mode 0755). */
  home: string;
  /** Primary group name; default: the user's name (created with `gid` unless a group has that gid). */
  group?: string;
  /** Login shell; default: /bin/bash when bash is installed, else /bin/sh. */
  shell?: string;
}

export interface AccountFiles {
  passwd: string;
  group: string;
}

const NOBODY = 65534;

/** The file contents, ordered by id like base-passwd's (root first, nobody last). */
export function accountFiles(users: readonly StackUser[], defaultShell: string): AccountFiles {
  const passwd = new Map<string, { uid: number; line: string }>();
  const groups = new Map<number, string>([
    [0, 'root'],
    [NOBODY, 'nogroup'],
  ]);
  passwd.set('root', { uid: 0, line: `root:x:0:0:root:/root:${defaultShell}` });
  passwd.set('nobody', {
    uid: NOBODY,
    line: `nobody:x:${NOBODY}:${NOBODY}:nobody:/nonexistent:/usr/sbin/nologin`,
  });
  for (const u of users) {
    if (!/^[a-z_][a-z0-9_-]*\$?$/.test(u.name)) throw new Error(`invalid user name '${u.name}'`);
    for (const [what, id] of [
      ['uid', u.uid],
      ['gid', u.gid],
    ] as const) {
      if (!Number.isInteger(id) || id < 0 || id > 0xfffffffe)
        throw new Error(`user ${u.name}: invalid ${what} ${id}`);
    }
    const clash = [...passwd.entries()].find(([name, p]) => name === u.name || p.uid === u.uid);
    if (clash)
      throw new Error(`user ${u.name} (uid ${u.uid}) clashes with ${clash[0]} (uid ${clash[1].uid})`);
    const shell = u.shell ?? defaultShell;
    passwd.set(u.name, { uid: u.uid, line: `${u.name}:x:${u.uid}:${u.gid}::${u.home}:${shell}` });
    const groupName = u.group ?? u.name;
    const existing = groups.get(u.gid);
    if (existing !== undefined && existing !== groupName) {
      throw new Error(`user ${u.name}: gid ${u.gid} is already group '${existing}', not '${groupName}'`);
    }
    if ([...groups.entries()].some(([gid, name]) => name === groupName && gid !== u.gid)) {
      throw new Error(`user ${u.name}: group '${groupName}' already exists with another gid`);
    }
    groups.set(u.gid, groupName);
  }
  const passwdLines = [...passwd.values()].sort((a, b) => a.uid - b.uid).map((p) => p.line);
  const groupLines = [...groups.entries()]
    .sort(([a], [b]) => a - b)
    .map(([gid, name]) => `${name}:x:${gid}:`);
  return { passwd: `${passwdLines.join('\n')}\n`, group: `${groupLines.join('\n')}\n` };
}

export async function writeAccounts(
  root: string,
  users: readonly StackUser[],
  defaultShell: string,
): Promise<void> {
  const files = accountFiles(users, defaultShell);
  await ensureDir(inRoot(root, '/etc'));
  for (const name of ['passwd', 'group'] as const) {
    await writeFile(inRoot(root, `/etc/${name}`), files[name]);
    await chmod(inRoot(root, `/etc/${name}`), 0o644);
  }
  for (const u of users) {
    const home = inRoot(root, u.home);
    await ensureDir(home);
    await chmod(home, 0o755);
    // Needs root (or CAP_CHOWN); the result also lists these owners for the image writer.
    await chown(home, u.uid, u.gid).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPERM') throw e;
    });
  }
}
