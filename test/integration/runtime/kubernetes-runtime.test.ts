// The Kubernetes workload runtime against the fake kube-apiserver (a fake: it stores and serves objects
// with the ClusterRole in deploy/workloads-rbac.yaml; no controller runs pods, so tests set statuses).
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCatalogue } from '../../../packages/api/src/catalogue/parse.ts';
import type { CatalogueStore } from '../../../packages/api/src/catalogue/store.ts';
import { connect } from '../../../packages/api/src/kube/client.ts';
import { reviewRegistryPolicy } from '../../../packages/api/src/policy/admission.ts';
import type { RegistryPolicy } from '../../../packages/api/src/policy/registry-policy.ts';
import type { ImageRegistry } from '../../../packages/api/src/registry/port.ts';
import { KubernetesRuntime } from '../../../packages/api/src/runtime/kubernetes/runtime.ts';
import { WorkloadService } from '../../../packages/api/src/services/workloads-service.ts';
import type { WorkloadSpec } from '../../../packages/api/src/workloads/port.ts';
import { loadRoleRules } from '../../fakes/kube-apiserver/rbac.ts';
import { type FakeApiServer, startFakeApiServer } from '../../fakes/kube-apiserver.ts';
import { REPO_ROOT } from '../../helpers/paths.ts';

const DIGEST = `sha256:${'d'.repeat(64)}`;
const built = {
  requested: 'tool-alpha/web:latest',
  ref: `harbor.example/tool-alpha/web@${DIGEST}`,
  digest: DIGEST,
  type: 'buildservice' as const,
};
const spec = (over: Partial<WorkloadSpec>): WorkloadSpec => ({
  tool: 'alpha',
  kind: 'job',
  name: 'worker',
  image: built,
  mount: 'none',
  resources: { memory: '512Mi', cpu: '0.5' },
  ...over,
});

let kube: FakeApiServer;
let rt: KubernetesRuntime;
beforeAll(async () => {
  kube = await startFakeApiServer({
    rbac: {
      rules: loadRoleRules(path.join(REPO_ROOT, 'deploy/workloads-rbac.yaml'), 'builds-api-workloads'),
      user: 'system:serviceaccount:builds-api:builds-api',
    },
  });
  rt = new KubernetesRuntime(
    connect('default', kube.kubeconfigFile()),
    { webDomain: 'toolforge.org' },
    pino({ level: 'silent' }),
  );
});
afterAll(() => kube?.stop());

describe('objects', () => {
  it('a webservice is a Deployment, Service and Ingress named after the tool, running the web process', async () => {
    const w = await rt.apply(spec({ kind: 'webservice', name: 'webservice', port: 8000 }));
    expect(w.status).toMatchObject({ state: 'starting', url: 'https://alpha.toolforge.org/' });
    const d = kube.get({ group: 'apps', plural: 'deployments' }, 'tool-alpha', 'alpha') as any;
    const c = d.spec.template.spec.containers[0];
    expect(c).toMatchObject({
      image: built.ref,
      command: ['/cnb/process/web'],
      ports: [{ containerPort: 8000 }],
      resources: { limits: { memory: '512Mi', cpu: '0.5' } },
      securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false },
    });
    expect(c.env).toEqual(
      expect.arrayContaining([{ name: 'PORT', value: '8000' }, expect.objectContaining({ name: 'NO_HOME' })]),
    );
    expect(c.volumeMounts).toBeUndefined(); // --mount none
    expect(d.spec.template.spec.automountServiceAccountToken).toBe(false);
    expect((kube.get('services', 'tool-alpha', 'alpha') as any).spec.ports[0]).toMatchObject({
      port: 8000,
      targetPort: 8000,
    });
    const ing = kube.get({ group: 'networking.k8s.io', plural: 'ingresses' }, 'tool-alpha', 'alpha') as any;
    expect(ing.spec.rules[0].host).toBe('alpha.toolforge.org');
    // Ready: running.
    kube.put({ group: 'apps', plural: 'deployments' }, { ...d, status: { readyReplicas: 1 } });
    expect((await rt.get('alpha', 'webservice', 'webservice'))?.status.state).toBe('running');
  });

  it('a job runs `launcher <cmd>`; scheduled is a CronJob, continuous a Deployment; standard images use sh and the home', async () => {
    await rt.apply(spec({ name: 'once', command: 'worker --fast' }));
    const job = kube.get({ group: 'batch', plural: 'jobs' }, 'tool-alpha', 'once') as any;
    expect(job.spec.template.spec.containers[0].command).toEqual(['launcher', 'worker --fast']);
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    await rt.apply(spec({ name: 'nightly', command: 'launcher cleanup', schedule: '0 3 * * *' }));
    const cron = kube.get({ group: 'batch', plural: 'cronjobs' }, 'tool-alpha', 'nightly') as any;
    expect(cron.spec).toMatchObject({
      schedule: '0 3 * * *',
      timeZone: 'Etc/UTC',
      concurrencyPolicy: 'Forbid',
    });
    expect(cron.spec.jobTemplate.spec.template.spec.containers[0].command).toEqual(['launcher', 'cleanup']);
    await rt.apply(spec({ name: 'bot', command: 'bot', continuous: true }));
    expect(kube.get({ group: 'apps', plural: 'deployments' }, 'tool-alpha', 'bot')).toBeDefined();
    await rt.apply(
      spec({
        name: 'py',
        command: 'python3 script.py',
        mount: 'all',
        image: {
          requested: 'python3.11',
          ref: `registry.example/python311@${DIGEST}`,
          digest: DIGEST,
          type: 'standard',
        },
      }),
    );
    const py = (kube.get({ group: 'batch', plural: 'jobs' }, 'tool-alpha', 'py') as any).spec.template.spec;
    expect(py.containers[0]).toMatchObject({
      command: ['/bin/sh', '-c', 'python3 script.py'],
      workingDir: '/data/project/alpha',
      volumeMounts: [{ name: 'home', mountPath: '/data/project/alpha' }],
    });
    expect(py.volumes[0].hostPath.path).toBe('/data/project/alpha');
    expect((await rt.list('alpha')).map((w) => `${w.spec.kind}/${w.spec.name}:${w.status.state}`)).toEqual([
      'job/bot:starting',
      'job/nightly:scheduled',
      'job/once:pending',
      'job/py:pending',
      'webservice/webservice:running',
    ]);
  });

  it('statuses from the objects and their pods; the digests of what runs are pinned', async () => {
    const job = kube.get({ group: 'batch', plural: 'jobs' }, 'tool-alpha', 'once') as any;
    kube.put({ group: 'batch', plural: 'jobs' }, { ...job, status: { succeeded: 1 } });
    expect((await rt.get('alpha', 'job', 'once'))?.status).toMatchObject({ state: 'succeeded' });
    kube.put('pods', {
      metadata: {
        name: 'bot-1',
        namespace: 'tool-alpha',
        labels: {
          'toolforge.org/workload-kind': 'job',
          'toolforge.org/workload-name': 'bot',
          'toolforge.org/tool': 'alpha',
          'app.kubernetes.io/managed-by': 'toolforge-builds-api',
        },
      },
      spec: { containers: [{ name: 'job', image: built.ref }] },
      status: {
        containerStatuses: [
          { name: 'job', restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } } },
        ],
      },
    });
    expect((await rt.get('alpha', 'job', 'bot'))?.status).toMatchObject({ state: 'restarting', restarts: 3 });
    expect([...(await rt.pinnedDigests('alpha'))]).toEqual([DIGEST]);
  });

  it('logs come from the newest pod; delete removes every object of the workload', async () => {
    kube.setContainerState('tool-alpha', 'bot-1', 'job', {
      running: { startedAt: new Date().toISOString() },
    });
    kube.appendLog('tool-alpha', 'bot-1', 'job', 'hello from the bot');
    const lines: string[] = [];
    for await (const l of rt.logs('alpha', 'job', 'bot', {
      follow: false,
      signal: new AbortController().signal,
    }))
      lines.push(l);
    expect(lines).toEqual([expect.stringMatching(/^\S+ hello from the bot$/)]);
    expect(await rt.delete('alpha', 'webservice', 'webservice')).toBe(true);
    expect(kube.get({ group: 'apps', plural: 'deployments' }, 'tool-alpha', 'alpha')).toBeUndefined();
    expect(kube.get('services', 'tool-alpha', 'alpha')).toBeUndefined();
    expect(
      kube.get({ group: 'networking.k8s.io', plural: 'ingresses' }, 'tool-alpha', 'alpha'),
    ).toBeUndefined();
    expect(await rt.delete('alpha', 'webservice', 'webservice')).toBe(false);
    // Another tool sees none of it.
    expect(await rt.list('beta')).toEqual([]);
  });
});

describe('the registry policy webhook on what the runtime creates', () => {
  const policy: RegistryPolicy = {
    allowedRegistries: ['harbor.example'],
    curated: [],
    namespaceAllowlist: { 'tool-gamma': ['quay.io'] },
  };
  // The kube-apiserver calls the webhook with an AdmissionReview for each object it admits.
  const webhook = async (req: any) => {
    const r = await reviewRegistryPolicy(
      {
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        request: {
          uid: 'u1',
          kind: { group: req.resource.group, version: 'v1', kind: req.resource.kind },
          resource: { group: req.resource.group, version: 'v1', resource: req.resource.plural },
          operation: req.operation,
          namespace: req.namespace,
          name: req.name,
          object: req.object,
        },
      },
      () => policy,
    );
    const res = (r.body as any).response;
    return res.allowed
      ? undefined
      : { allowed: false as const, message: res.status.message, webhook: 'registry-policy.toolforge.org' };
  };

  it('admits the Deployments, Jobs and CronJobs of allowed images, and denies the others with the reason', async () => {
    const off = ['deployments', 'jobs', 'cronjobs'].map((plural) => kube.admission(plural, webhook));
    try {
      await rt.apply(spec({ tool: 'gamma', kind: 'webservice', name: 'webservice', port: 8000 }));
      await rt.apply(spec({ tool: 'gamma', name: 'nightly', command: 'x', schedule: '0 1 * * *' }));
      const nginx = { requested: 'nginx', ref: 'nginx', digest: '', type: 'standard' as const };
      await expect(
        rt.apply(spec({ tool: 'gamma', name: 'evil', command: 'x', image: nginx })),
      ).rejects.toThrow(
        /denied the request: .*\[Kind=Job, Namespace=tool-gamma, Name=evil, Image="nginx": it is an implicit Docker Hub image/,
      );
      const quay = {
        requested: 'q',
        ref: `quay.io/x/y@${DIGEST}`,
        digest: DIGEST,
        type: 'standard' as const,
      };
      await rt.apply(spec({ tool: 'gamma', name: 'allowlisted', command: 'x', image: quay })); // gamma's exception
      await expect(
        rt.apply(spec({ tool: 'delta', name: 'elsewhere', command: 'x', image: quay })),
      ).rejects.toThrow(/not allowed/);
      expect(kube.get({ group: 'batch', plural: 'jobs' }, 'tool-gamma', 'evil')).toBeUndefined();
    } finally {
      for (const o of off) o();
    }
  });
});

describe('the workloads service on the cluster adapter', () => {
  const parsed = parseCatalogue(`version: 1
builders: {default: {builder: b:1, runner: r:1}}
images:
  jdk17:
    state: stable
    aliases: []
    resources: {memory: 1Gi, cpu: "1"}
    variants:
      jobs-framework: {image: "harbor.example/toolforge/jdk17@${DIGEST}"}
`);
  if (!parsed.ok) throw new Error(parsed.problems.join('\n'));
  const service = (r: KubernetesRuntime) =>
    new WorkloadService({
      runtime: r,
      registry: { host: 'harbor.example' } as ImageRegistry, // curated images only: no registry reads
      catalogue: { current: parsed.catalogue } as CatalogueStore,
      policy: async () => ({ allowed: true }),
      defaults: { memory: '512Mi', cpu: '0.5' },
    });
  const job = (name: string) => kube.get({ group: 'batch', plural: 'jobs' }, 'tool-epsilon', name) as any;

  it('takes resources from the catalogue unless the request names its own', async () => {
    const s = service(rt);
    await s.runJob('epsilon', {
      name: 'java',
      imagename: 'jdk17',
      cmd: 'java -jar x.jar',
      continuous: false,
    });
    expect(job('java').spec.template.spec.containers[0].resources.limits).toEqual({
      memory: '1Gi',
      cpu: '1',
    });
    await s.runJob('epsilon', {
      name: 'big',
      imagename: 'jdk17',
      cmd: 'java -jar x.jar',
      continuous: false,
      memory: '2Gi',
    });
    expect(job('big').spec.template.spec.containers[0].resources.limits).toEqual({ memory: '2Gi', cpu: '1' });
    expect(job('big').spec.template.spec.imagePullSecrets).toBeUndefined(); // public projects: none
  });

  it('restart runs what a built image name means now, and keeps the pinned digest when it means nothing', async () => {
    let stored = [{ repository: 'web', digest: DIGEST, tags: ['latest'], sizeBytes: 1 }];
    const s = new WorkloadService({
      runtime: rt,
      registry: {
        host: 'harbor.example',
        repository: (tool: string, image: string) => `tool-${tool}/${image}`,
        list: async () => stored,
      } as unknown as ImageRegistry,
      catalogue: { current: parsed.catalogue } as CatalogueStore,
      policy: async (image) =>
        image.startsWith('harbor.example/') ? { allowed: true } : { allowed: false, message: 'no' },
      defaults: { memory: '512Mi', cpu: '0.5' },
    });
    const image = () => job('bot').spec.template.spec.containers[0].image;
    await s.runJob('epsilon', {
      name: 'bot',
      imagename: 'tool-epsilon/web:latest',
      cmd: 'bot',
      continuous: false,
    });
    expect(image()).toBe(`harbor.example/tool-epsilon/web@${DIGEST}`);
    const NEW = `sha256:${'e'.repeat(64)}`;
    stored = [{ repository: 'web', digest: NEW, tags: ['latest'], sizeBytes: 1 }];
    expect((await s.restartJob('epsilon', 'bot')).info).toEqual([
      `Now running tool-epsilon/web:latest at ${NEW} (was ${DIGEST}).`,
    ]);
    expect(image()).toBe(`harbor.example/tool-epsilon/web@${NEW}`);
    stored = [];
    expect((await s.restartJob('epsilon', 'bot')).warnings).toEqual([
      `tool-epsilon/web:latest no longer resolves: restarted with ${NEW}.`,
    ]);
    expect(image()).toBe(`harbor.example/tool-epsilon/web@${NEW}`);
  });

  it('adds the configured pull secret to every pod it creates', async () => {
    const withSecret = new KubernetesRuntime(
      connect('default', kube.kubeconfigFile()),
      { webDomain: 'toolforge.org', imagePullSecret: 'harbor-pull' },
      pino({ level: 'silent' }),
    );
    await service(withSecret).runJob('epsilon', {
      name: 'private',
      imagename: 'jdk17',
      cmd: 'true',
      continuous: false,
    });
    expect(job('private').spec.template.spec.imagePullSecrets).toEqual([{ name: 'harbor-pull' }]);
    await withSecret.close();
  });
});
