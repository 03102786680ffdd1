// update-alternatives, as the maintainer scripts call it: `update-alternatives --install <link> <name>
// <path> <priority> [--slave <link> <name> <path>]...`. The literal calls are read from each package's
// postinst (calls built from shell variables are skipped), and for each name the highest-priority
// choice whose file exists is linked, `<link>` → `/etc/alternatives/<name>` → `<path>`, in auto mode.
// Slaves whose file is gone (man pages, once pruned) are skipped, as update-alternatives does.
//
// Not done: the /var/lib/dpkg/alternatives database, so update-alternatives in a build image starts
// from an empty registry (it is not needed to use the links).
import { lstat, rm, symlink } from 'node:fs/promises';
import { posix } from 'node:path';
import { ensureDir, inRoot, resolveInRoot } from './paths.ts';

export interface AlternativeLink {
  link: string;
  name: string;
  path: string;
}

export interface Alternative extends AlternativeLink {
  priority: number;
  slaves: AlternativeLink[];
  /** The package whose postinst registers it. */
  package: string;
}

const DYNAMIC = /[$`"'\\*?]/;

export interface ParsedAlternatives {
  alternatives: Alternative[];
  /** Calls (or their slave lists) built from shell variables or command substitutions: not applied. */
  skipped: string[];
}

export function parseAlternatives(script: string, pkg: string): ParsedAlternatives {
  const alternatives: Alternative[] = [];
  const skipped: string[] = [];
  for (const line of script.replace(/\\\n/g, ' ').split('\n')) {
    const at = line.indexOf('update-alternatives');
    if (at === -1 || line.trimStart().startsWith('#')) continue;
    const command = line
      .slice(at)
      .split(/\|\||&&|;|\||#|\)/)[0]!
      .trim();
    const tokens = command.split(/\s+/).slice(1);
    const install = tokens.indexOf('--install');
    if (install === -1) continue;
    const [link, name, path, priority] = tokens.slice(install + 1, install + 5);
    const master = [link, name, path, priority];
    if (
      !link ||
      !name ||
      !path ||
      !priority ||
      master.some((t) => DYNAMIC.test(t ?? '')) ||
      !/^-?\d+$/.test(priority)
    ) {
      skipped.push(`${pkg}: ${command}`);
      continue;
    }
    const alternative: Alternative = {
      link,
      name,
      path,
      priority: Number(priority),
      slaves: [],
      package: pkg,
    };
    const rest = tokens.slice(install + 5);
    for (let i = 0; i < rest.length; i++) {
      if (rest[i] !== '--slave') continue;
      const [sLink, sName, sPath] = rest.slice(i + 1, i + 4);
      if (sLink && sName && sPath && ![sLink, sName, sPath].some((t) => DYNAMIC.test(t))) {
        alternative.slaves.push({ link: sLink, name: sName, path: sPath });
      }
      i += 3;
    }
    // Anything else computed (e.g. `$(slave ...)` building the slave list) cannot be reproduced here.
    if (rest.some((t) => DYNAMIC.test(t))) skipped.push(`${pkg}: computed slaves of ${name} in: ${command}`);
    if (link.startsWith('/') && path.startsWith('/')) alternatives.push(alternative);
  }
  return { alternatives, skipped };
}

async function exists(root: string, path: string): Promise<boolean> {
  const real = await resolveInRoot(root, path);
  return (await lstat(inRoot(root, real)).catch(() => undefined)) !== undefined;
}

/** Creates link → /etc/alternatives/name → path, unless the link is a real file (never overwritten). */
async function linkAlternative(root: string, a: AlternativeLink): Promise<boolean> {
  const linkPath = inRoot(root, a.link);
  const st = await lstat(linkPath).catch(() => undefined);
  if (st && !st.isSymbolicLink()) return false;
  await ensureDir(inRoot(root, '/etc/alternatives'));
  await rm(inRoot(root, `/etc/alternatives/${a.name}`), { force: true });
  await symlink(a.path, inRoot(root, `/etc/alternatives/${a.name}`));
  await ensureDir(posix.dirname(linkPath));
  await rm(linkPath, { force: true });
  await symlink(`/etc/alternatives/${a.name}`, linkPath);
  return true;
}

/** Returns the chosen alternative per name, sorted by name. */
export async function applyAlternatives(root: string, all: readonly Alternative[]): Promise<Alternative[]> {
  const byName = new Map<string, Alternative[]>();
  for (const a of all) byName.set(a.name, [...(byName.get(a.name) ?? []), a]);
  const chosen: Alternative[] = [];
  for (const name of [...byName.keys()].sort()) {
    const candidates = byName
      .get(name)!
      .slice()
      .sort((a, b) => b.priority - a.priority || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    let best: Alternative | undefined;
    for (const c of candidates) {
      if (await exists(root, c.path)) {
        best = c;
        break;
      }
    }
    if (!best || !(await linkAlternative(root, best))) continue;
    for (const slave of best.slaves) {
      if (await exists(root, slave.path)) await linkAlternative(root, slave);
    }
    chosen.push(best);
  }
  return chosen;
}
