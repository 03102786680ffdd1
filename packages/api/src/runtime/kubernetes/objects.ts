import type { WorkloadSpec } from '../../workloads/port.ts';

export const MANAGED_BY = 'toolforge-builds-api';
export const LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  tool: 'toolforge.org/tool',
  kind: 'toolforge.org/workload-kind',
  name: 'toolforge.org/workload-name',
} as const;
/** The spec as applied, on the top object: the objects are the record (no database in the cluster). */
export const SPEC_ANNOTATION = 'toolforge.org/workload-spec';

export interface RuntimeSettings {
  /** Webservices answer at https://<tool>.<webDomain>/. */
  webDomain: string;
  /** Ingress class of the webservices' Ingresses. */
  ingressClass?: string;
  /** A Secret in each tool namespace to pull private images with (Toolforge's projects are public). */
  imagePullSecret?: string;
}

export const namespaceOf = (tool: string) => `tool-${tool}`;
/** Toolforge names a webservice's objects after the tool; jobs after themselves. */
export const objectName = (spec: Pick<WorkloadSpec, 'tool' | 'kind' | 'name'>) =>
  spec.kind === 'webservice' ? spec.tool : spec.name;

const labels = (s: WorkloadSpec) => ({
  [LABELS.managedBy]: MANAGED_BY,
  [LABELS.tool]: s.tool,
  [LABELS.kind]: s.kind,
  [LABELS.name]: s.name,
  toolforge: 'tool',
});
const selector = (s: WorkloadSpec) => ({ [LABELS.kind]: s.kind, [LABELS.name]: s.name });

/** As Toolforge runs built images: `launcher <cmd>` (Procfile names work); standard images through sh. */
export function command(s: WorkloadSpec): string[] | undefined {
  if (s.kind === 'webservice') return s.image.type === 'buildservice' ? ['/cnb/process/web'] : undefined;
  const cmd = s.command ?? '';
  if (s.image.type === 'standard') return ['/bin/sh', '-c', cmd];
  return cmd.startsWith('launcher ') ? ['launcher', cmd.slice('launcher '.length)] : ['launcher', cmd];
}

/** The pod template shared by all kinds: no service account token, no privileges, the spec's resources. */
function podSpec(
  s: WorkloadSpec,
  settings: RuntimeSettings,
  restartPolicy: 'Always' | 'Never' | 'OnFailure',
) {
  const home = `/data/project/${s.tool}`;
  const env = [
    ...(s.kind === 'webservice' || s.port ? [{ name: 'PORT', value: String(s.port ?? 8000) }] : []),
    ...(s.image.type === 'buildservice'
      ? [{ name: 'NO_HOME', value: 'a buildservice pod does not need a home env' }]
      : []),
    ...Object.entries(s.env ?? {}).map(([name, value]) => ({ name, value })),
  ];
  const cmd = command(s);
  return {
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    restartPolicy,
    ...(settings.imagePullSecret ? { imagePullSecrets: [{ name: settings.imagePullSecret }] } : {}),
    containers: [
      {
        name: s.kind === 'webservice' ? 'webservice' : 'job',
        image: s.image.ref,
        ...(cmd ? { command: cmd } : {}),
        env,
        ...(s.kind === 'webservice' ? { ports: [{ name: 'http', containerPort: s.port ?? 8000 }] } : {}),
        ...(s.mount === 'all' && s.image.type === 'standard' ? { workingDir: home } : {}),
        resources: {
          limits: {
            ...(s.resources.memory ? { memory: s.resources.memory } : {}),
            ...(s.resources.cpu ? { cpu: s.resources.cpu } : {}),
          },
          requests: { ...(s.resources.memory ? { memory: s.resources.memory } : {}), cpu: '125m' },
        },
        securityContext: {
          allowPrivilegeEscalation: false,
          runAsNonRoot: true,
          capabilities: { drop: ['ALL'] },
          seccompProfile: { type: 'RuntimeDefault' },
        },
        ...(s.mount === 'all' ? { volumeMounts: [{ name: 'home', mountPath: home }] } : {}),
      },
    ],
    // Toolforge's nodes have the tools' NFS homes mounted; `--mount all` binds the tool's.
    ...(s.mount === 'all'
      ? { volumes: [{ name: 'home', hostPath: { path: home, type: 'Directory' } }] }
      : {}),
  };
}

const meta = (s: WorkloadSpec, extra: Record<string, string> = {}) => ({
  name: objectName(s),
  namespace: namespaceOf(s.tool),
  labels: labels(s),
  annotations: { [SPEC_ANNOTATION]: JSON.stringify(s), ...extra },
});

/** Every object a workload consists of, top object first (the one carrying the spec). */
export function toObjects(
  s: WorkloadSpec,
  settings: RuntimeSettings,
): { plural: string; body: { apiVersion: string; kind: string } & Record<string, unknown> }[] {
  const template = (restart: 'Always' | 'Never') => ({
    metadata: { labels: labels(s) },
    spec: podSpec(s, settings, restart),
  });
  // Webservices and continuous jobs: one replica, restarted whenever it exits.
  const deployment = {
    plural: 'deployments',
    body: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta(s),
      spec: { replicas: 1, selector: { matchLabels: selector(s) }, template: template('Always') },
    },
  };
  if (s.kind === 'webservice') {
    const name = objectName(s);
    const host = `${s.tool}.${settings.webDomain}`;
    return [
      deployment,
      {
        plural: 'services',
        body: {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name, namespace: namespaceOf(s.tool), labels: labels(s) },
          spec: {
            selector: selector(s),
            ports: [{ name: 'http', port: 8000, targetPort: s.port ?? 8000, protocol: 'TCP' }],
          },
        },
      },
      {
        plural: 'ingresses',
        body: {
          apiVersion: 'networking.k8s.io/v1',
          kind: 'Ingress',
          metadata: { name, namespace: namespaceOf(s.tool), labels: labels(s) },
          spec: {
            ...(settings.ingressClass ? { ingressClassName: settings.ingressClass } : {}),
            rules: [
              {
                host,
                http: {
                  paths: [
                    { path: '/', pathType: 'Prefix', backend: { service: { name, port: { number: 8000 } } } },
                  ],
                },
              },
            ],
          },
        },
      },
    ];
  }
  if (s.continuous) return [deployment];
  const job = { backoffLimit: 0, ttlSecondsAfterFinished: 7 * 86400, template: template('Never') };
  if (s.schedule)
    return [
      {
        plural: 'cronjobs',
        body: {
          apiVersion: 'batch/v1',
          kind: 'CronJob',
          metadata: meta(s),
          spec: {
            schedule: s.schedule,
            timeZone: 'Etc/UTC',
            concurrencyPolicy: 'Forbid',
            successfulJobsHistoryLimit: 1,
            failedJobsHistoryLimit: 1,
            jobTemplate: { metadata: { labels: labels(s) }, spec: job },
          },
        },
      },
    ];
  return [{ plural: 'jobs', body: { apiVersion: 'batch/v1', kind: 'Job', metadata: meta(s), spec: job } }];
}
