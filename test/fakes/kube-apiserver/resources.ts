// The resources the fake serves. Like a real apiserver, it answers 404 for a resource it does not know
// (e.g. a misspelt plural), unless it is started with `anyResource: true`.

export interface ResourceDef {
  group: string; // '' for the core group
  versions: string[]; // the first is the preferred (storage) version
  plural: string;
  kind: string;
  namespaced: boolean;
  /** CRD-style status subresource: the main endpoint ignores status, /status ignores everything else. */
  statusSubresource: boolean;
  /** Field selectors the resource supports besides metadata.name and metadata.namespace. */
  fields?: string[];
  /** A custom resource (CRD): decoded as unstructured (apiVersion and kind required), no strategic
   * merge patch, typed-list conventions of CRs. */
  custom?: boolean;
  /** Whether update (PUT) may omit metadata.resourceVersion (true for most core types, false for CRs). */
  unconditionalUpdate?: boolean;
  /** DELETE answers with the deleted object (core types) rather than a Status (custom resources). */
  deleteReturnsObject?: boolean;
}

const core = (plural: string, kind: string, extra: Partial<ResourceDef> = {}): ResourceDef => ({
  group: '',
  versions: ['v1'],
  plural,
  kind,
  namespaced: true,
  statusSubresource: false,
  unconditionalUpdate: true,
  deleteReturnsObject: true,
  ...extra,
});

const tekton = (plural: string, kind: string, status = true): ResourceDef => ({
  group: 'tekton.dev',
  versions: ['v1', 'v1beta1'],
  plural,
  kind,
  namespaced: true,
  statusSubresource: status,
  custom: true,
});

export const DEFAULT_RESOURCES: ResourceDef[] = [
  core('pods', 'Pod', {
    statusSubresource: true,
    fields: [
      'spec.nodeName',
      'spec.serviceAccountName',
      'spec.restartPolicy',
      'status.phase',
      'status.podIP',
    ],
  }),
  core('secrets', 'Secret', { fields: ['type'] }),
  core('configmaps', 'ConfigMap'),
  core('serviceaccounts', 'ServiceAccount'),
  core('events', 'Event', {
    fields: [
      'involvedObject.kind',
      'involvedObject.name',
      'involvedObject.namespace',
      'involvedObject.uid',
      'reason',
      'type',
    ],
  }),
  core('persistentvolumeclaims', 'PersistentVolumeClaim', { statusSubresource: true }),
  core('services', 'Service', { statusSubresource: true }),
  core('limitranges', 'LimitRange'),
  core('resourcequotas', 'ResourceQuota', { statusSubresource: true }),
  core('namespaces', 'Namespace', { namespaced: false, statusSubresource: true, fields: ['status.phase'] }),
  {
    group: 'apps',
    versions: ['v1'],
    plural: 'deployments',
    kind: 'Deployment',
    namespaced: true,
    statusSubresource: true,
    unconditionalUpdate: true,
    deleteReturnsObject: true,
  },
  {
    group: 'batch',
    versions: ['v1'],
    plural: 'jobs',
    kind: 'Job',
    namespaced: true,
    statusSubresource: true,
    unconditionalUpdate: true,
    deleteReturnsObject: true,
  },
  {
    group: 'batch',
    versions: ['v1'],
    plural: 'cronjobs',
    kind: 'CronJob',
    namespaced: true,
    statusSubresource: true,
    unconditionalUpdate: true,
    deleteReturnsObject: true,
  },
  {
    group: 'networking.k8s.io',
    versions: ['v1'],
    plural: 'ingresses',
    kind: 'Ingress',
    namespaced: true,
    statusSubresource: true,
    unconditionalUpdate: true,
    deleteReturnsObject: true,
  },
  {
    group: 'rbac.authorization.k8s.io',
    versions: ['v1'],
    plural: 'roles',
    kind: 'Role',
    namespaced: true,
    statusSubresource: false,
    unconditionalUpdate: true,
    deleteReturnsObject: false,
  },
  {
    group: 'rbac.authorization.k8s.io',
    versions: ['v1'],
    plural: 'rolebindings',
    kind: 'RoleBinding',
    namespaced: true,
    statusSubresource: false,
    unconditionalUpdate: true,
    deleteReturnsObject: false,
  },
  {
    group: 'coordination.k8s.io',
    versions: ['v1'],
    plural: 'leases',
    kind: 'Lease',
    namespaced: true,
    statusSubresource: false,
    unconditionalUpdate: true,
    deleteReturnsObject: false,
  },
  tekton('pipelineruns', 'PipelineRun'),
  tekton('taskruns', 'TaskRun'),
  tekton('pipelines', 'Pipeline', false),
  tekton('tasks', 'Task', false),
  { ...tekton('customruns', 'CustomRun'), versions: ['v1beta1'] },
];

export class ResourceRegistry {
  readonly #defs = new Map<string, ResourceDef>();
  readonly anyResource: boolean;

  constructor(defs: ResourceDef[], anyResource = false) {
    for (const d of defs) this.#defs.set(key(d.group, d.plural), d);
    this.anyResource = anyResource;
  }

  /** The resource served at group/version/plural, or undefined (→ 404). */
  lookup(group: string, version: string, plural: string): ResourceDef | undefined {
    const d = this.#defs.get(key(group, plural));
    if (d) return d.versions.includes(version) ? d : undefined;
    if (!this.anyResource || !/^[a-z0-9]+$/.test(plural)) return undefined;
    const kind = guessKind(plural);
    const made: ResourceDef = {
      group,
      versions: [version],
      plural,
      kind,
      namespaced: true,
      statusSubresource: !!group,
    };
    this.#defs.set(key(group, plural), made);
    return made;
  }

  /** Resolve a test-API reference: 'pods', 'pipelineruns', 'pipelineruns.tekton.dev' or {group, plural}. */
  resolve(ref: ResourceRef): ResourceDef {
    const { group, plural } = parseRef(ref);
    if (group !== undefined) {
      const d = this.#defs.get(key(group, plural));
      if (d) return d;
      const made = this.lookup(group, 'v1', plural);
      if (made) return made;
      throw new Error(`fake apiserver: unknown resource ${plural}.${group}`);
    }
    const matches = [...this.#defs.values()].filter((d) => d.plural === plural);
    if (matches.length === 1) return matches[0]!;
    if (matches.length > 1) throw new Error(`fake apiserver: ambiguous resource ${plural}; use plural.group`);
    throw new Error(`fake apiserver: unknown resource ${plural}`);
  }

  all(): ResourceDef[] {
    return [...this.#defs.values()];
  }
}

/** 'pods' | 'pipelineruns.tekton.dev' | { group, plural } */
export type ResourceRef = string | { group: string; plural: string; version?: string };

function parseRef(ref: ResourceRef): { group: string | undefined; plural: string } {
  if (typeof ref !== 'string') return { group: ref.group, plural: ref.plural };
  const dot = ref.indexOf('.');
  return dot < 0
    ? { group: undefined, plural: ref }
    : { group: ref.slice(dot + 1), plural: ref.slice(0, dot) };
}

export function resourceKey(d: ResourceDef): string {
  return key(d.group, d.plural);
}

function key(group: string, plural: string): string {
  return `${group}/${plural}`;
}

export function apiVersionOf(d: ResourceDef, version = d.versions[0]!): string {
  return d.group ? `${d.group}/${version}` : version;
}

function guessKind(plural: string): string {
  const singular = plural.endsWith('ies') ? `${plural.slice(0, -3)}y` : plural.replace(/s$/, '');
  return singular.charAt(0).toUpperCase() + singular.slice(1);
}
