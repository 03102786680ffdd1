// Dependency relation fields (Depends, Pre-Depends, Provides, Conflicts, Breaks), Debian Policy §7.1:
// comma-separated groups of `|`-separated alternatives, each `name[:arch] [(op version)]`, optionally
// followed by architecture restrictions `[...]` and build profiles `<...>` (the latter only occur in
// source packages but are tolerated).
import type { RelationOp } from './version.ts';

export interface Relation {
  name: string;
  /** Multi-Arch qualifier (`any`, `native`, `amd64`, ...), if given. */
  arch?: string;
  op?: RelationOp;
  version?: string;
}

/** Alternatives: any one satisfies the group. */
export type RelationGroup = Relation[];

const RELATION =
  /^([a-z0-9][a-z0-9+.-]*)(?::([a-z0-9-]+))?\s*(?:\(\s*(<<|<=|>=|>>|=|<|>)\s*([A-Za-z0-9][^\s)]*)\s*\))?\s*(?:\[[^\]]*\]\s*)?(?:<[^>]*>\s*)*$/i;

export function parseRelation(text: string): Relation {
  const m = RELATION.exec(text.trim());
  if (!m) throw new Error(`malformed package relation '${text.trim()}'`);
  const relation: Relation = { name: m[1]!.toLowerCase() };
  if (m[2] !== undefined) relation.arch = m[2].toLowerCase();
  if (m[3] !== undefined && m[4] !== undefined) {
    // `<` and `>` are obsolete spellings of `<=` and `>=` (Policy §7.1); dpkg still accepts them.
    relation.op = m[3] === '<' ? '<=' : m[3] === '>' ? '>=' : (m[3] as RelationOp);
    relation.version = m[4];
  }
  return relation;
}

export function parseRelations(field: string | undefined): RelationGroup[] {
  if (field === undefined || field.trim() === '') return [];
  return field
    .split(',')
    .map((group) => group.trim())
    .filter((group) => group !== '')
    .map((group) => group.split('|').map(parseRelation));
}

export function formatRelation(r: Relation): string {
  const name = r.arch ? `${r.name}:${r.arch}` : r.name;
  return r.op ? `${name} (${r.op} ${r.version})` : name;
}

export function formatGroup(group: RelationGroup): string {
  return group.map(formatRelation).join(' | ');
}
