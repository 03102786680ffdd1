// Reading the real Pipeline and Task YAML, and the checks and name rules the Tekton controller applies.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

export type ParamType = 'string' | 'array' | 'object';

export interface ParamSpec {
  name: string;
  type?: ParamType;
  default?: unknown;
  description?: string;
}

export interface Param {
  name: string;
  value: unknown;
}

export function loadYaml(file: string): any {
  return parse(readFileSync(file, 'utf8'));
}

export function valueType(v: unknown): ParamType {
  if (Array.isArray(v)) return 'array';
  if (v !== null && typeof v === 'object') return 'object';
  return 'string';
}

/** A ParamSpec's type: declared, else inferred from its default (Tekton's defaulting), else string. */
export function specType(p: ParamSpec): ParamType {
  return p.type ?? (p.default !== undefined ? valueType(p.default) : 'string');
}

export interface ParamProblems {
  /** Declared without a default and not given (Tekton: ParameterMissing). */
  missing: string[];
  /** Given with another type than declared (Tekton: ParameterTypeMismatch). */
  mismatched: string[];
  /** Given but not declared (Tekton ignores these). */
  undeclared: string[];
}

export function checkParams(specs: ParamSpec[], given: Param[]): ParamProblems {
  const byName = new Map(given.map((p) => [p.name, p]));
  const declared = new Map(specs.map((s) => [s.name, s]));
  return {
    missing: specs.filter((s) => s.default === undefined && !byName.has(s.name)).map((s) => s.name),
    mismatched: given
      .filter((p) => declared.has(p.name) && valueType(p.value) !== specType(declared.get(p.name)!))
      .map((p) => p.name),
    undeclared: given.filter((p) => !declared.has(p.name)).map((p) => p.name),
  };
}

/** Declared params only: the given value, else the default. */
export function resolveParams(specs: ParamSpec[], given: Param[]): Record<string, unknown> {
  const byName = new Map(given.map((p) => [p.name, p.value]));
  return Object.fromEntries(specs.map((s) => [s.name, byName.has(s.name) ? byName.get(s.name) : s.default]));
}

/** Go's fmt of a []string: [a b c]. */
export const goList = (xs: string[]) => `[${xs.join(' ')}]`;

/** knative kmeta.ChildName: parent+suffix, or a truncated parent plus an md5 when over 63 characters. */
export function childName(parent: string, suffix: string): string {
  const longest = 63;
  const head = longest - 32;
  if (parent.length <= longest - suffix.length) return parent + suffix;
  if (head - suffix.length <= 0) {
    const h = createHash('md5')
      .update(parent + suffix)
      .digest('hex');
    let ret = parent.slice(0, head) + h;
    if (longest - ret.length > 0) ret += suffix.slice(0, longest - ret.length);
    return ret.replace(/[^a-zA-Z0-9]+$/, '');
  }
  return parent.slice(0, head - suffix.length) + createHash('md5').update(parent).digest('hex') + suffix;
}
