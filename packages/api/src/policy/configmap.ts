import { re } from './grammar.ts';
import { parseImageReference, type RegistryPolicy } from './registry-policy.ts';

/**
 * The policy's one source: the ConfigMap the ValidatingAdmissionPolicy takes as `params` and the
 * webhook reads (deploy/registry-policy/params.yaml). Keys:
 *   allowedRegistries   `host[:port]` list, comma-separated (whitespace around entries is ignored)
 *   curated             image references, one per line (blank lines and `#` comments ignored)
 *   namespace.<ns>      extra registries for namespace <ns> only, comma-separated
 * Parsing mirrors the CEL (split, trim, drop empties) so both see the same lists.
 */
export const KEYS = {
  registries: 'allowedRegistries',
  curated: 'curated',
  namespacePrefix: 'namespace.',
} as const;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const list = (text: string, sep: string) =>
  text
    .split(sep)
    .map((s) => s.trim())
    .filter((s) => s !== '');

const curatedLines = (text: string) => list(text, '\n').filter((l) => !l.startsWith('#'));

/**
 * The policy in a ConfigMap's `data`. Throws only without `allowedRegistries` (the CEL fails then too,
 * and both deny). Malformed entries are kept: they can never match a valid image, so they deny in both
 * places alike; `policyProblems` reports them.
 */
export function policyFromConfigMap(data: Readonly<Record<string, string>> | undefined): RegistryPolicy {
  const registries = data?.[KEYS.registries];
  if (registries === undefined) {
    throw new Error(`registry policy ConfigMap has no "${KEYS.registries}" key`);
  }
  // fromEntries defines own properties: a `namespace.__proto__` key cannot touch the prototype.
  const namespaceAllowlist = Object.fromEntries(
    Object.entries(data ?? {})
      .filter(([key]) => key.startsWith(KEYS.namespacePrefix))
      .map(([key, value]) => [key.slice(KEYS.namespacePrefix.length), list(value, ',')]),
  );
  return {
    allowedRegistries: list(registries, ','),
    curated: curatedLines(data?.[KEYS.curated] ?? ''),
    namespaceAllowlist,
  };
}

/** Operator mistakes in the ConfigMap (for linting and logs); empty when it is well formed. */
export function policyProblems(data: Readonly<Record<string, string>> | undefined): string[] {
  const problems: string[] = [];
  let policy: RegistryPolicy;
  try {
    policy = policyFromConfigMap(data);
  } catch (err) {
    return [(err as Error).message];
  }
  const checkHosts = (where: string, hosts: readonly string[]) => {
    for (const h of hosts) {
      if (!re.host.test(h)) problems.push(`${where}: "${h}" is not host[:port]`);
    }
  };
  checkHosts(KEYS.registries, policy.allowedRegistries);
  for (const [ns, hosts] of Object.entries(policy.namespaceAllowlist)) {
    if (!DNS_LABEL.test(ns)) problems.push(`${KEYS.namespacePrefix}${ns}: "${ns}" is not a namespace name`);
    checkHosts(`${KEYS.namespacePrefix}${ns}`, hosts);
  }
  for (const c of policy.curated) {
    const ref = parseImageReference(c);
    if ('error' in ref) problems.push(`${KEYS.curated}: "${c}" ${ref.error}`);
  }
  for (const key of Object.keys(data ?? {})) {
    if (key !== KEYS.registries && key !== KEYS.curated && !key.startsWith(KEYS.namespacePrefix)) {
      problems.push(`unknown key "${key}" (ignored)`);
    }
  }
  return problems;
}
