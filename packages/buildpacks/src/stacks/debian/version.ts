// Debian version comparison, a port of dpkg's algorithm (lib/dpkg/version.c): epoch, then upstream
// version, then Debian revision, each compared with verrevcmp where `~` sorts before everything, even
// the end of the string (so `1.0~rc1` < `1.0`), letters sort before other characters, and digit runs
// compare numerically.

export interface DebianVersion {
  epoch: number;
  upstream: string;
  revision: string;
}

/** Splits `[epoch:]upstream[-revision]`; throws on what dpkg would reject outright. */
export function parseVersion(text: string): DebianVersion {
  const version = text.trim();
  if (version === '' || /\s/.test(version)) throw new Error(`invalid Debian version '${text}'`);
  let rest = version;
  let epoch = 0;
  const colon = rest.indexOf(':');
  if (colon !== -1) {
    const digits = rest.slice(0, colon);
    if (!/^\d+$/.test(digits)) throw new Error(`invalid epoch in Debian version '${text}'`);
    epoch = Number(digits);
    rest = rest.slice(colon + 1);
  }
  // The revision is everything after the last hyphen; the upstream part may itself contain hyphens.
  const hyphen = rest.lastIndexOf('-');
  const upstream = hyphen === -1 ? rest : rest.slice(0, hyphen);
  const revision = hyphen === -1 ? '' : rest.slice(hyphen + 1);
  // dpkg only warns about an upstream part not starting with a digit, so that is accepted here too.
  if (upstream === '') throw new Error(`empty upstream version in Debian version '${text}'`);
  return { epoch, upstream, revision };
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isAlpha = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

// dpkg's order(): `~` before the end of string (0), which is before letters, which are before the rest.
function order(c: number): number {
  if (Number.isNaN(c) || c === 0 || isDigit(c)) return 0;
  if (isAlpha(c)) return c;
  if (c === 126) return -1;
  return c + 256;
}

function verrevcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  const at = (s: string, k: number): number => (k < s.length ? s.charCodeAt(k) : 0);
  while (i < a.length || j < b.length) {
    let firstDiff = 0;
    while ((i < a.length && !isDigit(at(a, i))) || (j < b.length && !isDigit(at(b, j)))) {
      const ac = order(at(a, i));
      const bc = order(at(b, j));
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    while (at(a, i) === 48) i++;
    while (at(b, j) === 48) j++;
    while (isDigit(at(a, i)) && isDigit(at(b, j))) {
      if (!firstDiff) firstDiff = at(a, i) - at(b, j);
      i++;
      j++;
    }
    if (isDigit(at(a, i))) return 1;
    if (isDigit(at(b, j))) return -1;
    if (firstDiff) return firstDiff;
  }
  return 0;
}

/** Negative, zero or positive like a sort comparator; accepts strings or parsed versions. */
export function compareVersions(a: string | DebianVersion, b: string | DebianVersion): number {
  const va = typeof a === 'string' ? parseVersion(a) : a;
  const vb = typeof b === 'string' ? parseVersion(b) : b;
  if (va.epoch !== vb.epoch) return va.epoch > vb.epoch ? 1 : -1;
  const upstream = verrevcmp(va.upstream, vb.upstream);
  if (upstream !== 0) return Math.sign(upstream);
  return Math.sign(verrevcmp(va.revision, vb.revision));
}

export type RelationOp = '<<' | '<=' | '=' | '>=' | '>>';

/** Whether `version` satisfies `op reference`, as in a Depends field's `(op reference)`. */
export function versionSatisfies(version: string, op: RelationOp, reference: string): boolean {
  const c = compareVersions(version, reference);
  switch (op) {
    case '<<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '=':
      return c === 0;
    case '>=':
      return c >= 0;
    case '>>':
      return c > 0;
  }
}
