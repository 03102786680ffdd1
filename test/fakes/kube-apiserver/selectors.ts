// Label selectors (k8s.io/apimachinery/pkg/labels: =, ==, !=, in, notin, exists, !exists, gt, lt) and
// field selectors (=, ==, !=; metadata.name, metadata.namespace and a few per-resource fields).
import { errors } from './errors.ts';
import type { ResourceDef } from './resources.ts';
import type { KubeObject } from './store.ts';

type Requirement =
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | '!exists' }
  | { key: string; op: 'gt' | 'lt'; value: number };

export type LabelSelector = Requirement[];

const KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

export function isValidLabelKey(k: string): boolean {
  const slash = k.indexOf('/');
  if (slash >= 0 && slash > 253) return false;
  return KEY.test(k);
}

export function isValidLabelValue(v: string): boolean {
  return v.length <= 63 && VALUE.test(v);
}

/** Split on commas that are not inside parentheses. */
function splitTerms(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((t) => t.trim());
}

function bad(term: string, why: string): never {
  throw errors.badRequest(`unable to parse requirement: ${why} in "${term}"`);
}

function checkKey(term: string, key: string): string {
  if (!isValidLabelKey(key)) bad(term, `invalid label key "${key}"`);
  return key;
}

function checkValue(term: string, v: string): string {
  if (!isValidLabelValue(v)) bad(term, `invalid label value "${v}"`);
  return v;
}

const TERMS: [RegExp, (m: RegExpMatchArray, term: string) => Requirement][] = [
  [/^!\s*(\S+)$/, (m, t) => ({ key: checkKey(t, m[1]!), op: '!exists' })],
  [
    /^(\S+?)\s+(in|notin)\s*\((.*)\)$/,
    (m, t) => ({
      key: checkKey(t, m[1]!),
      op: m[2] as 'in' | 'notin',
      values: m[3]!.split(',').map((v) => checkValue(t, v.trim())),
    }),
  ],
  [
    /^([^=!<>\s]+)\s*(==|=|!=)\s*(.*)$/,
    (m, t) => ({
      key: checkKey(t, m[1]!),
      op: m[2] === '!=' ? 'notin' : 'in',
      values: [checkValue(t, m[3]!.trim())],
    }),
  ],
  [
    /^([^=!<>\s]+)\s*([<>])\s*(-?\d+)$/,
    (m, t) => ({ key: checkKey(t, m[1]!), op: m[2] === '>' ? 'gt' : 'lt', value: Number(m[3]) }),
  ],
  [/^([^=!<>\s()]+)$/, (m, t) => ({ key: checkKey(t, m[1]!), op: 'exists' })],
];

export function parseLabelSelector(input: string | undefined): LabelSelector {
  if (!input?.trim()) return [];
  return splitTerms(input).map((term) => {
    if (!term) bad(input, 'empty requirement');
    for (const [re, make] of TERMS) {
      const m = term.match(re);
      if (m) return make(m, term);
    }
    return bad(term, 'unknown operator');
  });
}

export function matchesLabels(sel: LabelSelector, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return sel.every((r) => {
    const has = Object.hasOwn(l, r.key);
    const v = l[r.key];
    switch (r.op) {
      case 'exists':
        return has;
      case '!exists':
        return !has;
      case 'in':
        return has && r.values.includes(v!);
      case 'notin':
        return !has || !r.values.includes(v!);
      case 'gt':
        return has && /^-?\d+$/.test(v!) && Number(v) > r.value;
      case 'lt':
        return has && /^-?\d+$/.test(v!) && Number(v) < r.value;
    }
    return false;
  });
}

export interface FieldRequirement {
  field: string;
  value: string;
  negate: boolean;
}

export function parseFieldSelector(input: string | undefined, def: ResourceDef): FieldRequirement[] {
  if (!input?.trim()) return [];
  const allowed = ['metadata.name', 'metadata.namespace', ...(def.fields ?? [])];
  const terms: string[] = [];
  let cur = '';
  for (let i = 0; i < input.length; i++) {
    const ch = input[i]!;
    if (ch === '\\' && i + 1 < input.length) {
      cur += ch + input[++i];
    } else if (ch === ',') {
      terms.push(cur);
      cur = '';
    } else cur += ch;
  }
  terms.push(cur);
  return terms.map((term) => {
    const m = term.match(/^([^=!]+?)\s*(==|=|!=)\s*(.*)$/);
    if (!m) throw errors.badRequest(`invalid selector: '${input}'; can't understand '${term}'`);
    const field = m[1]!.trim();
    if (!allowed.includes(field)) {
      throw errors.badRequest(
        def.group
          ? `"${field}" is not a known field selector: only "metadata.name", "metadata.namespace"`
          : `field label not supported: ${field}`,
      );
    }
    const value = m[3]!.replace(/\\(.)/g, '$1');
    return { field, value, negate: m[2] === '!=' };
  });
}

export function matchesFields(reqs: FieldRequirement[], obj: KubeObject): boolean {
  return reqs.every((r) => {
    let v: unknown = obj;
    for (const part of r.field.split('.')) v = (v as Record<string, unknown> | undefined)?.[part];
    const s = v === undefined || v === null ? '' : String(v);
    return r.negate ? s !== r.value : s === r.value;
  });
}

export interface Selector {
  labels: LabelSelector;
  fields: FieldRequirement[];
}

export function matches(sel: Selector, obj: KubeObject): boolean {
  return matchesLabels(sel.labels, obj.metadata.labels) && matchesFields(sel.fields, obj);
}
