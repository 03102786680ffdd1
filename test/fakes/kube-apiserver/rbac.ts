// Optional RBAC: when the fake is given a Role's rules, requests made with the kubeconfig's token are
// authorized against them (403 Forbidden otherwise), so a client that needs a verb the Role does not
// grant fails here as it would on a cluster. The test API (get/put/...) is never authorized.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { errors, groupResource } from './errors.ts';

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

export interface RbacOptions {
  rules: PolicyRule[];
  /** The Role's namespace: requests elsewhere are forbidden. Unset: the rules apply everywhere. */
  namespace?: string;
  /** Shown in Forbidden messages, e.g. system:serviceaccount:builds-api:builds-api. */
  user?: string;
}

export interface RequestAttributes {
  verb: string;
  group: string;
  resource: string; // plural, or plural/subresource
  namespace: string | undefined;
  name: string | undefined;
}

const any = (list: string[], v: string) => list.includes('*') || list.includes(v);

export function authorize(rbac: RbacOptions, a: RequestAttributes): void {
  const inNamespace = rbac.namespace === undefined || a.namespace === rbac.namespace;
  const ok =
    inNamespace &&
    rbac.rules.some(
      (r) =>
        any(r.verbs, a.verb) &&
        any(r.apiGroups, a.group) &&
        any(r.resources, a.resource) &&
        (!r.resourceNames?.length || (a.name !== undefined && r.resourceNames.includes(a.name))),
    );
  if (ok) return;
  const [plural, sub] = a.resource.split('/');
  const what = `${groupResource(a.group, plural!)}${sub ? ` "${a.name}"` : a.name ? ` "${a.name}"` : ''}`;
  const where = a.namespace === undefined ? 'at the cluster scope' : `in the namespace "${a.namespace}"`;
  const err = errors.forbidden(
    `${what} is forbidden: User "${rbac.user ?? 'system:serviceaccount:default:fake'}" cannot ${a.verb} resource "${a.resource}" in API group "${a.group}" ${where}`,
  );
  throw err;
}

/** The rules of a Role (or ClusterRole) in a multi-document YAML file, e.g. tekton/rbac.yaml. */
export function loadRoleRules(file: string, roleName: string): PolicyRule[] {
  for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
    const o = doc.toJS();
    if ((o?.kind === 'Role' || o?.kind === 'ClusterRole') && o.metadata?.name === roleName)
      return o.rules ?? [];
  }
  throw new Error(`no Role ${roleName} in ${file}`);
}
