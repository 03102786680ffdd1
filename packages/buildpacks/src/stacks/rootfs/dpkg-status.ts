// A synthetic dpkg database, so that tools reading /var/lib/dpkg (apt resolving what an Aptfile still
// needs, `dpkg -l`/`-L`/`-S`, image scanners) see what is installed: `status` with each package's index
// paragraph marked `install ok installed`, plus `info/<pkg>.list`, `.md5sums` and `.conffiles`.
//
// Excluded packages are not listed: they are not installed. Their dependents' Depends/Pre-Depends
// would then look unmet, and apt refuses to do anything on a system with unmet dependencies, so the
// groups the exclusion cut are dropped from the dependents' status paragraphs and kept, for the record,
// in an `X-Toolforge-Excluded-Depends` field (dpkg and apt keep and ignore unknown fields). A package
// installed later that truly needs an excluded one still pulls it in, which a fake "installed"
// paragraph for the excluded package would have prevented.
import { createHash } from 'node:crypto';
import { chmod, lstat, readFile, writeFile } from 'node:fs/promises';
import type { PackageRecord } from '../debian/package-index.ts';
import { formatGroup, parseRelations } from '../debian/relations.ts';
import type { Cut } from '../debian/resolve.ts';
import { ensureDir, inRoot } from './paths.ts';

export interface InstalledPackage {
  record: PackageRecord;
  /** Data archive members as extracted (`bin/bash`, `usr/share/doc/`). */
  members: readonly string[];
  /** The control archive's files (`conffiles`, `md5sums`, ...). */
  control: ReadonlyMap<string, string>;
}

/** Fields of a Packages index that describe the .deb file, not the installed package. */
const INDEX_ONLY = new Set([
  'filename',
  'size',
  'md5sum',
  'sha1',
  'sha256',
  'sha512',
  'description-md5',
  'tag',
]);

/** The order dpkg writes known fields in (lib/dpkg/parse.c); other fields follow in their own order. */
const DPKG_ORDER = [
  'package',
  'essential',
  'protected',
  'status',
  'priority',
  'section',
  'installed-size',
  'origin',
  'maintainer',
  'bugs',
  'architecture',
  'multi-arch',
  'source',
  'version',
  'config-version',
  'replaces',
  'provides',
  'depends',
  'pre-depends',
  'recommends',
  'suggests',
  'breaks',
  'conflicts',
  'enhances',
  'conffiles',
  'description',
];

interface Field {
  name: string;
  /** Everything after `Name:` including continuation lines. */
  value: string;
}

function splitFields(raw: string): Field[] {
  const fields: Field[] = [];
  for (const line of raw.split('\n')) {
    if ((line.startsWith(' ') || line.startsWith('\t')) && fields.length > 0) {
      fields[fields.length - 1]!.value += `\n${line}`;
    } else if (line.includes(':')) {
      const colon = line.indexOf(':');
      fields.push({ name: line.slice(0, colon), value: line.slice(colon + 1).trim() });
    }
  }
  return fields;
}

export interface Conffile {
  path: string;
  md5: string;
}

/** One package's status paragraph (no trailing blank line). */
export function statusStanza(
  record: PackageRecord,
  cuts: readonly Cut[],
  conffiles: readonly Conffile[],
): string {
  const fields = splitFields(record.raw).filter((f) => !INDEX_ONLY.has(f.name.toLowerCase()));
  const dropped: string[] = [];
  for (const field of fields) {
    const key = field.name.toLowerCase();
    if (key !== 'depends' && key !== 'pre-depends') continue;
    const cutHere = new Set(
      cuts.filter((c) => c.dependent === record.name && c.field.toLowerCase() === key).map((c) => c.group),
    );
    if (cutHere.size === 0) continue;
    const kept: string[] = [];
    for (const piece of field.value.split(',')) {
      const [group] = parseRelations(piece);
      if (group && cutHere.has(formatGroup(group))) dropped.push(piece.trim());
      else kept.push(piece.trim());
    }
    field.value = kept.join(', ');
  }
  const out = fields.filter((f) => f.value !== '');
  out.push({ name: 'Status', value: 'install ok installed' });
  if (conffiles.length > 0) {
    out.push({ name: 'Conffiles', value: conffiles.map((c) => `\n ${c.path} ${c.md5}`).join('') });
  }
  if (dropped.length > 0) out.push({ name: 'X-Toolforge-Excluded-Depends', value: dropped.join(', ') });
  const rank = (f: Field) => {
    const i = DPKG_ORDER.indexOf(f.name.toLowerCase());
    return i === -1 ? DPKG_ORDER.length : i;
  };
  // Array.prototype.sort is stable, so unknown fields keep their relative order.
  out.sort((a, b) => rank(a) - rank(b));
  return out
    .map((f) => (f.value.startsWith('\n') ? `${f.name}:${f.value}` : `${f.name}: ${f.value}`))
    .join('\n');
}

/** dpkg names per-package files `name:arch` for Multi-Arch: same packages, `name` otherwise. */
export const infoName = (r: PackageRecord) =>
  r.multiArch === 'same' ? `${r.name}:${r.architecture}` : r.name;

const present = async (root: string, path: string) =>
  (await lstat(inRoot(root, path)).catch(() => undefined)) !== undefined;

async function md5Of(root: string, path: string): Promise<string | undefined> {
  const st = await lstat(inRoot(root, path)).catch(() => undefined);
  if (!st?.isFile()) return undefined;
  return createHash('md5')
    .update(await readFile(inRoot(root, path)))
    .digest('hex');
}

async function write(root: string, path: string, text: string): Promise<void> {
  await writeFile(inRoot(root, path), text);
  await chmod(inRoot(root, path), 0o644);
}

/**
 * Writes /var/lib/dpkg/status and info/ for `installed` (any order; written sorted by name). Run after
 * pruning: lists and md5sums name only files that are still there, and conffile sums are those of the
 * files as they are in the image.
 */
export async function writeDpkgDatabase(
  root: string,
  installed: readonly InstalledPackage[],
  cuts: readonly Cut[],
): Promise<void> {
  const admin = '/var/lib/dpkg';
  await ensureDir(inRoot(root, `${admin}/info`));
  const sorted = [...installed].sort((a, b) =>
    a.record.name < b.record.name ? -1 : a.record.name > b.record.name ? 1 : 0,
  );
  const stanzas: string[] = [];
  for (const pkg of sorted) {
    const conffilePaths = (pkg.control.get('conffiles') ?? '')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.startsWith('/'));
    const conffiles: Conffile[] = [];
    for (const path of conffilePaths) {
      const md5 = await md5Of(root, path);
      if (md5) conffiles.push({ path, md5 });
    }
    stanzas.push(statusStanza(pkg.record, cuts, conffiles));

    const name = infoName(pkg.record);
    const list = ['/.'];
    for (const member of pkg.members) {
      const path = `/${member.replace(/\/+$/, '')}`;
      if (await present(root, path)) list.push(path);
    }
    await write(root, `${admin}/info/${name}.list`, `${list.join('\n')}\n`);
    const md5sums: string[] = [];
    for (const line of (pkg.control.get('md5sums') ?? '').split('\n')) {
      const path = line.slice(34);
      if (/^[0-9a-f]{32} {2}/.test(line) && (await present(root, `/${path}`))) md5sums.push(line);
    }
    if (md5sums.length > 0) await write(root, `${admin}/info/${name}.md5sums`, `${md5sums.join('\n')}\n`);
    if (conffilePaths.length > 0)
      await write(root, `${admin}/info/${name}.conffiles`, `${conffilePaths.join('\n')}\n`);
  }
  await write(root, `${admin}/status`, stanzas.map((s) => `${s}\n\n`).join(''));
  // The database format version dpkg ≥ 1.17 expects; without it dpkg may try to "upgrade" the database.
  await write(root, `${admin}/info/format`, '1\n');
}
