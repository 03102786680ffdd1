// Reading .deb files with dpkg-deb: the data tar is extracted with GNU tar into the rootfs (no
// maintainer scripts run), the control archive into a scratch directory to read conffiles, md5sums
// and the maintainer scripts the fix-ups imitate.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipe, run } from '../exec.ts';

/**
 * Extracts the package's files into `rootfs`; returns the member paths extracted, in archive order,
 * relative, as in the archive (`bin/bash`, `usr/lib/`), directories with a trailing slash.
 *
 * `--keep-directory-symlink` makes `./bin/bash` land in `usr/bin/bash` through the merged-/usr `bin`
 * symlink instead of replacing the symlink by a directory; `--numeric-owner` keeps the archive's uids
 * and gids (the image's, not whatever the host's /etc/passwd maps the names to).
 */
export async function extractData(
  deb: string,
  rootfs: string,
  exclude: readonly string[] = [],
): Promise<string[]> {
  const { stdout } = await pipe(
    ['dpkg-deb', ['--fsys-tarfile', deb]],
    [
      'tar',
      [
        '-x',
        '-v',
        '-f',
        '-',
        '-C',
        rootfs,
        '--numeric-owner',
        // Modes as in the archive, not masked by the umask (tar only does this by default as root).
        '--same-permissions',
        '--keep-directory-symlink',
        '--quoting-style=literal',
        // Exact member names (and everything below them) not to extract, e.g. `./usr/share/man`.
        '--anchored',
        '--no-wildcards',
        ...exclude.map((e) => `--exclude=${e}`),
      ],
    ],
  );
  return stdout
    .toString('utf8')
    .split('\n')
    .filter((l) => l !== '' && l !== './')
    .map((l) => l.replace(/^\.\//, ''));
}

export interface ControlArchive {
  /** `conffiles`, `md5sums`, `postinst`, ... → content. */
  files: Map<string, string>;
}

export async function readControl(deb: string): Promise<ControlArchive> {
  const dir = await mkdtemp(join(tmpdir(), 'tf-deb-control-'));
  try {
    await run('dpkg-deb', ['--control', deb, join(dir, 'c')]);
    const files = new Map<string, string>();
    for (const name of (await readdir(join(dir, 'c'))).sort()) {
      files.set(name, await readFile(join(dir, 'c', name), 'utf8'));
    }
    return { files };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
