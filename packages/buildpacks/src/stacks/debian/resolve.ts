// Dependency closure over Pre-Depends and Depends, like `apt-get install --no-install-recommends`
// without the maintainer-script ordering: one version per package (the candidate, i.e. the highest
// across suites, or an explicit `name=version`), alternatives resolved to the first satisfiable one
// unless another is already selected, virtual packages through Provides. Recommends and Suggests are
// ignored, and so are the implicit dependencies on Essential packages (Policy §3.5 lets packages rely
// on them undeclared): a recipe lists what it needs, as distroless images do.
import type { PackageIndex, PackageRecord, Provider } from './package-index.ts';
import {
  formatGroup,
  formatRelation,
  parseRelations,
  type Relation,
  type RelationGroup,
} from './relations.ts';
import { versionSatisfies } from './version.ts';

export interface ResolveRequest {
  /** Package names, optionally `name=version` to pin one version. */
  packages: readonly string[];
  /** Names cut out of the closure: a dependency group naming them (or a virtual they provide) counts as met. */
  exclude?: readonly string[];
}

/** A dependency group left unmet on purpose because it named an excluded package. */
export interface Cut {
  /** The package whose relation was cut. */
  dependent: string;
  field: 'Pre-Depends' | 'Depends';
  /** The whole group as written, e.g. `debconf (>= 0.5) | debconf-2.0`. */
  group: string;
  /** The excluded package that the group would have pulled in. */
  excluded: string;
}

export interface Resolution {
  /** Sorted by name. */
  packages: PackageRecord[];
  /** Package → the package whose dependency first pulled it in; requested packages are absent. */
  pulledBy: Map<string, string>;
  /** Excluded names that actually cut something, sorted. */
  excluded: string[];
  /** Sorted by dependent, field, group. */
  cuts: Cut[];
}

export class ResolveError extends Error {
  /** Packages from a requested one down to the one with the problem. */
  readonly chain: string[];
  constructor(chain: string[], problem: string) {
    super(chain.length ? `${chain.join(' → ')}: ${problem}` : problem);
    this.chain = chain;
  }
}

/** Code-unit order, independent of the locale (package names are ASCII). */
export const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const PRIORITY_RANK: Record<string, number> = {
  required: 0,
  important: 1,
  standard: 2,
  optional: 3,
  extra: 4,
};
const rank = (r: PackageRecord) => PRIORITY_RANK[r.priority ?? ''] ?? 5;

// Only amd64 and arch-all packages are in the index; `:any` and `:native` are met by either.
const archAllows = (rel: Relation) =>
  rel.arch === undefined || rel.arch === 'any' || rel.arch === 'native' || rel.arch === 'amd64';

const versionAllows = (version: string | undefined, rel: Relation): boolean => {
  if (!rel.op || rel.version === undefined) return true;
  // An unversioned Provides never satisfies a versioned relation (Policy §7.5).
  return version !== undefined && versionSatisfies(version, rel.op, rel.version);
};

function parseRequest(request: string): { name: string; version?: string } {
  const [spec, version] = request.trim().split('=', 2) as [string, string | undefined];
  const name = spec.replace(/:(amd64|any|native)$/, '').toLowerCase();
  if (!/^[a-z0-9][a-z0-9+.-]*$/.test(name)) throw new ResolveError([], `invalid package name '${request}'`);
  return version === undefined ? { name } : { name, version };
}

function providesOf(record: PackageRecord): Map<string, Provider> {
  const out = new Map<string, Provider>();
  for (const [rel] of parseRelations(record.provides)) {
    if (!rel) continue;
    out.set(
      rel.name,
      rel.op === '=' && rel.version !== undefined ? { record, version: rel.version } : { record },
    );
  }
  return out;
}

export function resolve(index: PackageIndex, request: ResolveRequest): Resolution {
  const exclude = new Set(request.exclude ?? []);
  const pins = new Map<string, PackageRecord>();
  const requested = request.packages.map(parseRequest).sort((a, b) => byString(a.name, b.name));
  for (const { name, version } of requested) {
    if (version === undefined) continue;
    const record = index.versions.get(name)?.find((r) => r.version === version);
    if (!record) {
      const known = index.versions.get(name)?.map((r) => r.version) ?? [];
      throw new ResolveError([], `no version ${version} of ${name} (known: ${known.join(', ') || 'none'})`);
    }
    pins.set(name, record);
  }
  const chosen = (name: string) => pins.get(name) ?? index.versions.get(name)?.[0];
  // Providers as the index computed them from candidates, corrected for pinned versions.
  const providersOf = (name: string): Provider[] => {
    const list = (index.providers.get(name) ?? []).filter((p) => !pins.has(p.record.name));
    for (const pinned of pins.values()) {
      const p = providesOf(pinned).get(name);
      if (p) list.push(p);
    }
    return list.sort((a, b) => rank(a.record) - rank(b.record) || byString(a.record.name, b.record.name));
  };

  const selected = new Map<string, PackageRecord>();
  const selectedProviders = new Map<string, Provider[]>();
  const parent = new Map<string, string | undefined>();
  const queue: PackageRecord[] = [];
  const cuts: Cut[] = [];
  const chain = (name: string): string[] => {
    const out: string[] = [];
    for (let n: string | undefined = name; n !== undefined; n = parent.get(n)) out.unshift(n);
    return out;
  };
  const select = (record: PackageRecord, by: string | undefined) => {
    selected.set(record.name, record);
    parent.set(record.name, by);
    queue.push(record);
    for (const [virtual, p] of providesOf(record)) {
      const list = selectedProviders.get(virtual);
      if (list) list.push(p);
      else selectedProviders.set(virtual, [p]);
    }
  };
  const metBySelection = (rel: Relation): boolean => {
    if (!archAllows(rel)) return false;
    const real = selected.get(rel.name);
    if (real && versionAllows(real.version, rel)) return true;
    return (selectedProviders.get(rel.name) ?? []).some((p) => versionAllows(p.version, rel));
  };

  for (const { name } of requested) {
    if (exclude.has(name)) throw new ResolveError([name], 'requested but also excluded');
    if (selected.has(name)) continue;
    const record = chosen(name);
    if (record) {
      select(record, undefined);
      continue;
    }
    const providers = providersOf(name);
    if (providers.length === 1) select(providers[0]!.record, undefined);
    else if (providers.length > 1)
      throw new ResolveError(
        [name],
        `virtual package provided by ${providers.map((p) => p.record.name).join(', ')}: request one of them`,
      );
    else throw new ResolveError([name], 'no such package');
  }

  // Breadth-first, so the chain in an error is a shortest one and the outcome depends only on the input.
  while (queue.length > 0) {
    const record = queue.shift()!;
    const fields: [Cut['field'], RelationGroup[]][] = [
      ['Pre-Depends', parseRelations(record.preDepends)],
      ['Depends', parseRelations(record.depends)],
    ];
    for (const [field, groups] of fields) {
      for (const group of groups) {
        if (group.some(metBySelection)) continue;
        const problems: string[] = [];
        let met = false;
        for (const rel of group) {
          if (!archAllows(rel)) {
            problems.push(`${formatRelation(rel)}: not an amd64 relation`);
            continue;
          }
          const cut = (excluded: string) => {
            cuts.push({ dependent: record.name, field, group: formatGroup(group), excluded });
            met = true;
          };
          if (exclude.has(rel.name)) {
            cut(rel.name);
            break;
          }
          const real = chosen(rel.name);
          if (real && versionAllows(real.version, rel)) {
            select(real, record.name);
            met = true;
            break;
          }
          const providers = providersOf(rel.name).filter((p) => versionAllows(p.version, rel));
          const excludedProvider = providers.find((p) => exclude.has(p.record.name));
          if (excludedProvider) {
            cut(excludedProvider.record.name);
            break;
          }
          // Any provider already selected would have met the group above, so take the preferred one.
          const provider = providers[0];
          if (provider) {
            select(provider.record, record.name);
            met = true;
            break;
          }
          problems.push(
            real
              ? `${rel.name} ${real.version}${pins.has(rel.name) ? ' (pinned)' : ''} does not satisfy ${formatRelation(rel)}`
              : `no package ${rel.name}${rel.op ? ' or provider of a matching version' : ''}`,
          );
        }
        if (!met) {
          throw new ResolveError(
            chain(record.name),
            `no package satisfies ${formatGroup(group)} (${problems.join('; ')})`,
          );
        }
      }
    }
  }

  const packages = [...selected.values()].sort((a, b) => byString(a.name, b.name));
  checkConflicts(packages, selected, selectedProviders);
  cuts.sort(
    (a, b) => byString(a.dependent, b.dependent) || byString(a.field, b.field) || byString(a.group, b.group),
  );
  const pulledBy = new Map<string, string>();
  for (const p of packages) {
    const by = parent.get(p.name);
    if (by !== undefined) pulledBy.set(p.name, by);
  }
  return { packages, pulledBy, excluded: [...new Set(cuts.map((c) => c.excluded))].sort(), cuts };
}

// dpkg would refuse to install a set where one package Conflicts with or Breaks another; catching it
// here keeps an impossible recipe from producing an image that only looks fine.
function checkConflicts(
  packages: PackageRecord[],
  selected: Map<string, PackageRecord>,
  selectedProviders: Map<string, Provider[]>,
): void {
  for (const record of packages) {
    for (const [field, value] of [
      ['Conflicts', record.conflicts],
      ['Breaks', record.breaks],
    ] as const) {
      for (const group of parseRelations(value)) {
        for (const rel of group) {
          if (!archAllows(rel)) continue;
          const other = selected.get(rel.name);
          if (other && other !== record && versionAllows(other.version, rel)) {
            throw new ResolveError(
              [record.name],
              `${field} ${formatRelation(rel)}, but ${other.name} ${other.version} is selected`,
            );
          }
          // Conflicts with a virtual package apply to its providers, other than the package itself.
          if (rel.op) continue;
          const provider = selectedProviders.get(rel.name)?.find((p) => p.record !== record);
          if (provider && provider.record.name !== rel.name) {
            throw new ResolveError(
              [record.name],
              `${field} ${rel.name}, which ${provider.record.name} provides`,
            );
          }
        }
      }
    }
  }
}
