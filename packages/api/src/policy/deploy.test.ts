import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { POD_SPEC_PATHS } from './admission.ts';
import { policyFromConfigMap, policyProblems } from './configmap.ts';
import { POLICY_CONFIGMAP } from './source.ts';
import { DEPLOY_DIR, loadYaml } from './vap-eval.test-util.ts';

/** deploy/registry-policy/ against the code: same resources, namespaces, ConfigMap and route. */
const one = (file: string) => loadYaml(file)[0] as Record<string, any>;
const webhook = one('webhook.yaml');
const vap = one('validating-admission-policy.yaml');
const binding = one('validating-admission-policy-binding.yaml');
const params = one('params.yaml');

const KIND_OF_RESOURCE: Record<string, string> = {
  pods: '/Pod',
  'pods/ephemeralcontainers': '/Pod',
  replicationcontrollers: '/ReplicationController',
  deployments: 'apps/Deployment',
  replicasets: 'apps/ReplicaSet',
  statefulsets: 'apps/StatefulSet',
  daemonsets: 'apps/DaemonSet',
  jobs: 'batch/Job',
  cronjobs: 'batch/CronJob',
};

describe('deploy/registry-policy', () => {
  it('lists every manifest in its kustomization', () => {
    const files = readdirSync(DEPLOY_DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    expect([...one('kustomization.yaml').resources].sort()).toEqual(files.sort());
  });

  it('sends the webhook to the builds-api route, CA injected, failing closed', () => {
    expect(webhook.metadata.annotations['cert-manager.io/inject-ca-from']).toBe('builds-api/builds-api-tls');
    const [hook] = webhook.webhooks;
    expect(hook.clientConfig.service).toEqual({
      name: 'builds-api',
      namespace: 'builds-api',
      path: '/v1/admission/registry-policy',
      port: 8443,
    });
    expect(hook).toMatchObject({
      failurePolicy: 'Fail',
      sideEffects: 'None',
      admissionReviewVersions: ['v1'],
    });
    expect(hook.namespaceSelector.matchExpressions[0].values).toEqual(
      expect.arrayContaining(['kube-system', 'builds-api']),
    );
  });

  it('matches exactly the kinds the handler reads, on CREATE and UPDATE, in webhook and policy alike', () => {
    const [hook] = webhook.webhooks;
    const kinds = new Set<string>();
    for (const rule of hook.rules) {
      expect(rule.operations).toEqual(['CREATE', 'UPDATE']);
      for (const resource of rule.resources) {
        const kind = KIND_OF_RESOURCE[resource];
        expect(kind, resource).toBeDefined();
        expect(kind?.split('/')[0]).toBe(rule.apiGroups[0]);
        kinds.add(kind as string);
      }
    }
    expect([...kinds].sort()).toEqual(Object.keys(POD_SPEC_PATHS).sort());
    expect(vap.spec.matchConstraints.resourceRules).toEqual(hook.rules);
    expect(vap.spec.matchConstraints.namespaceSelector).toEqual(hook.namespaceSelector);
    expect(vap.spec.failurePolicy).toBe('Fail');
  });

  it('binds the policy to the ConfigMap the webhook reads, denying without it', () => {
    expect(binding.spec).toEqual({
      policyName: vap.metadata.name,
      validationActions: ['Deny'],
      paramRef: { ...POLICY_CONFIGMAP, parameterNotFoundAction: 'Deny' },
    });
    expect(params.metadata).toEqual(POLICY_CONFIGMAP);
    expect(vap.spec.paramKind).toEqual({ apiVersion: 'v1', kind: 'ConfigMap' });
    const rbac = loadYaml('rbac.yaml');
    expect(rbac[0]?.rules).toEqual([
      { apiGroups: [''], resources: ['configmaps'], resourceNames: [POLICY_CONFIGMAP.name], verbs: ['get'] },
    ]);
  });

  it('ships the Toolforge registries, well formed', () => {
    expect(policyProblems(params.data)).toEqual([]);
    expect(policyFromConfigMap(params.data)).toEqual({
      allowedRegistries: [
        'tools-harbor.wmcloud.org',
        'docker-registry.tools.wmflabs.org',
        'docker-registry.svc.toolforge.org',
      ],
      curated: [],
      namespaceAllowlist: {},
    });
  });
});
