// Tekton variable substitution: $(params.x), $(params["x"]), $(params.arr[*]) in array positions,
// $(params.arr[0]), $(context.*), $(workspaces.<w>.path|bound), $(results.<r>.path),
// $(tasks.<t>.results.<r>). Unknown references are left as they are, as Tekton does.

export interface Vars {
  strings: Record<string, string>;
  arrays: Record<string, string[]>;
}

const REF = /\$\(([^()]+)\)/g;

function normalize(expr: string): string {
  return expr.trim().replace(/^params\[['"]([^'"]+)['"]\]/, 'params.$1');
}

export function substituteString(s: string, v: Vars): string {
  return s.replace(REF, (whole, raw: string) => {
    const expr = normalize(raw);
    if (Object.hasOwn(v.strings, expr)) return v.strings[expr]!;
    const idx = expr.match(/^(.*)\[(\d+)\]$/);
    if (idx && Object.hasOwn(v.arrays, idx[1]!)) return v.arrays[idx[1]!]![Number(idx[2])] ?? whole;
    return whole;
  });
}

/** Substitute each element; an element that is exactly $(params.arr[*]) expands to the array's items. */
export function substituteArray(list: string[], v: Vars): string[] {
  return list.flatMap((item) => {
    const m = item.match(/^\$\(([^()]+)\[\*\]\)$/);
    if (m) {
      const key = normalize(m[1]!);
      if (Object.hasOwn(v.arrays, key)) return v.arrays[key]!;
    }
    return [substituteString(item, v)];
  });
}

/** Substitute a param value (string or array) given to a Pipeline task or Task. */
export function substituteValue(value: unknown, v: Vars): unknown {
  if (typeof value === 'string') return substituteString(value, v);
  if (Array.isArray(value)) return substituteArray(value.map(String), v);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, x]) => [k, substituteString(String(x), v)]));
  }
  return value;
}

/** Vars for a set of resolved params: strings as params.x, arrays as params.x (for [*] and [i]). */
export function paramVars(params: Record<string, unknown>): Vars {
  const v: Vars = { strings: {}, arrays: {} };
  for (const [k, value] of Object.entries(params)) {
    if (Array.isArray(value)) v.arrays[`params.${k}`] = value.map(String);
    else if (value && typeof value === 'object') {
      for (const [ok, ov] of Object.entries(value)) v.strings[`params.${k}.${ok}`] = String(ov);
    } else v.strings[`params.${k}`] = String(value ?? '');
  }
  return v;
}

export function mergeVars(...all: Vars[]): Vars {
  return {
    strings: Object.assign({}, ...all.map((v) => v.strings)),
    arrays: Object.assign({}, ...all.map((v) => v.arrays)),
  };
}
