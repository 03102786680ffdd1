// In-memory view of the binary package indexes of several suites: every version of every package, the
// candidate per name (highest version across suites, as apt picks with default pins) and the virtual
// packages the candidates provide.
import { parseRelations } from './relations.ts';
import { compareVersions } from './version.ts';

export interface PackageRecord {
  name: string;
  version: string;
  architecture: string;
  multiArch?: string;
  essential: boolean;
  priority?: string;
  /** Source package name (without the version some indexes append). */
  source: string;
  installedSize?: number;
  depends?: string;
  preDepends?: string;
  provides?: string;
  conflicts?: string;
  breaks?: string;
  /** Path relative to the archive root, e.g. `pool/main/b/bash/bash_5.2.15-2+b7_amd64.deb`. */
  filename: string;
  size: number;
  sha256: string;
  /** Suite the record was read from (`bookworm-security`), and that archive's root URL. */
  suite: string;
  archiveUrl: string;
  /** The index paragraph as published, for the synthetic dpkg status file. */
  raw: string;
}

// Fields read from each paragraph; the rest stay in `raw`. Scanning lines instead of building a map per
// paragraph keeps parsing the ~63,000-paragraph main index fast and its memory use low.
const WANTED: Record<string, keyof PackageRecord> = {
  package: 'name',
  version: 'version',
  architecture: 'architecture',
  'multi-arch': 'multiArch',
  essential: 'essential',
  priority: 'priority',
  source: 'source',
  'installed-size': 'installedSize',
  depends: 'depends',
  'pre-depends': 'preDepends',
  provides: 'provides',
  conflicts: 'conflicts',
  breaks: 'breaks',
  filename: 'filename',
  size: 'size',
  sha256: 'sha256',
};

export function parsePackages(text: string, suite: string, archiveUrl: string): PackageRecord[] {
  const records: PackageRecord[] = [];
  for (const block of text.replace(/\r\n/g, '\n').split(/\n(?:[ \t]*\n)+/)) {
    const raw = block.replace(/^(?:[ \t]*\n)+|\n+$/g, '');
    if (raw.trim() === '') continue;
    const values: Record<string, string> = {};
    for (const line of raw.split('\n')) {
      if (line === '' || line.startsWith(' ') || line.startsWith('\t') || line.startsWith('#')) continue;
      const colon = line.indexOf(':');
      if (colon <= 0) throw new Error(`malformed line in ${suite} index: ${JSON.stringify(line)}`);
      const key = WANTED[line.slice(0, colon).toLowerCase()];
      if (key) values[key] = line.slice(colon + 1).trim();
    }
    records.push(toRecord(values, raw, suite, archiveUrl));
  }
  return records;
}

/**
 * Incremental parsing for a decompressor's output: complete paragraphs are parsed as chunks arrive, so
 * the ~50 MB main index never exists as one string (which keeps the process small, and every later
 * child process spawn fast: fork cost grows with the parent's memory).
 */
export class PackagesParser {
  readonly records: PackageRecord[] = [];
  #pending = '';
  readonly #suite: string;
  readonly #archiveUrl: string;

  constructor(suite: string, archiveUrl: string) {
    this.#suite = suite;
    this.#archiveUrl = archiveUrl;
  }

  push(text: string): void {
    this.#pending += text;
    const end = this.#pending.lastIndexOf('\n\n');
    if (end === -1) return;
    this.#parse(this.#pending.slice(0, end));
    this.#pending = this.#pending.slice(end + 2);
  }

  end(): PackageRecord[] {
    this.#parse(this.#pending);
    this.#pending = '';
    return this.records;
  }

  #parse(text: string): void {
    for (const r of parsePackages(text, this.#suite, this.#archiveUrl)) this.records.push(r);
  }
}

function toRecord(v: Record<string, string>, raw: string, suite: string, archiveUrl: string): PackageRecord {
  const what = v.name ?? raw.split('\n')[0];
  for (const field of ['name', 'version', 'architecture', 'filename', 'size', 'sha256']) {
    if (!v[field]) throw new Error(`${suite} index: paragraph '${what}' has no ${field}`);
  }
  const size = Number(v.size);
  if (!Number.isSafeInteger(size)) throw new Error(`${suite} index: ${what} has a bad Size`);
  const sha256 = v.sha256!.toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`${suite} index: ${what} has a bad SHA256`);
  const record: PackageRecord = {
    name: v.name!,
    version: v.version!,
    architecture: v.architecture!,
    essential: v.essential?.toLowerCase() === 'yes',
    source: (v.source ?? v.name!).split(' ')[0]!,
    filename: v.filename!,
    size,
    sha256,
    suite,
    archiveUrl,
    raw,
  };
  for (const key of [
    'multiArch',
    'priority',
    'depends',
    'preDepends',
    'provides',
    'conflicts',
    'breaks',
  ] as const) {
    if (v[key] !== undefined) record[key] = v[key];
  }
  if (v.installedSize !== undefined) record.installedSize = Number(v.installedSize);
  return record;
}

export interface Provider {
  record: PackageRecord;
  /** The provided version for versioned Provides (`foo (= 1.2)`); unversioned provides have none. */
  version?: string;
}

export interface PackageIndex {
  /** Every version of a name, highest first (ties: earlier suite first). */
  versions: Map<string, PackageRecord[]>;
  /** Virtual (or real) name → the candidates that declare it in Provides. */
  providers: Map<string, Provider[]>;
  /** Suites in priority order for ties, as given. */
  suites: string[];
}

/** Only these architectures are installable in an amd64 image; `all` counts as native. */
export const ARCHITECTURES = new Set(['amd64', 'all']);

export function buildIndex(suites: { suite: string; packages: PackageRecord[] }[]): PackageIndex {
  const versions = new Map<string, PackageRecord[]>();
  const order = suites.map((s) => s.suite);
  for (const { packages } of suites) {
    for (const record of packages) {
      if (!ARCHITECTURES.has(record.architecture)) continue;
      const list = versions.get(record.name);
      if (list) list.push(record);
      else versions.set(record.name, [record]);
    }
  }
  for (const list of versions.values()) {
    list.sort(
      (a, b) => compareVersions(b.version, a.version) || order.indexOf(a.suite) - order.indexOf(b.suite),
    );
  }
  const providers = new Map<string, Provider[]>();
  for (const list of versions.values()) {
    const candidate = list[0]!;
    for (const group of parseRelations(candidate.provides)) {
      for (const p of group) {
        const provider: Provider = { record: candidate };
        if (p.op === '=' && p.version !== undefined) provider.version = p.version;
        const existing = providers.get(p.name);
        if (existing) existing.push(provider);
        else providers.set(p.name, [provider]);
      }
    }
  }
  for (const list of providers.values()) list.sort((a, b) => (a.record.name < b.record.name ? -1 : 1));
  return { versions, providers, suites: order };
}

/** The version apt would install: the highest across suites. */
export function candidateOf(index: PackageIndex, name: string): PackageRecord | undefined {
  return index.versions.get(name)?.[0];
}
