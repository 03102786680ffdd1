import path from 'node:path';
import { type OciLayout, pushImage, RegistryClient } from '@toolforge/oci';
import type { FakeHarbor } from '../fakes/harbor.ts';
import { loadRoleRules } from '../fakes/kube-apiserver/rbac.ts';
import { type FakeApiServer, startFakeApiServer } from '../fakes/kube-apiserver.ts';
import { startTektonSimulator, type TektonSimulator } from '../fakes/tekton-simulator.ts';
import { startApi, type TestApi } from './api.ts';
import { harnessBuild } from './lifecycle.ts';
import { REPO_ROOT } from './paths.ts';
import { type RunningRegistry, startRegistry } from './registry.ts';

export interface TektonStack {
  api: TestApi;
  kube: FakeApiServer;
  tekton: TektonSimulator;
  registry: RunningRegistry;
  /** The API's settings, to start another API process against the same cluster. */
  env: Record<string, string>;
  /** Push the test image to `tool-<tool>/<image>:latest` (what a real build would push); returns its digest. */
  publish(tool: string, image: string): Promise<string>;
  close(): Promise<void>;
}

const PARAM = (pr: any, name: string) => pr.spec.params.find((p: any) => p.name === name)?.value ?? '';

/**
 * The cluster engine under test: the real API with TOOLFORGE_ENGINE=tekton, talking to the fake
 * kube-apiserver (authorised by the Role in tekton/rbac.yaml) with the Tekton simulator reconciling runs
 * from tekton/*.yaml, and a real registry holding the images the "builds" report. Runs behave by source
 * URL: one containing `fail` fails its build step, `slow` takes minutes, `oom` is OOM-killed, `evict` is
 * evicted, `pull` never starts (ImagePullBackOff).
 */
export async function startTektonStack(
  env: Record<string, string> = {},
  opts: { harbor?: FakeHarbor } = {},
): Promise<TektonStack> {
  const kube = await startFakeApiServer({
    rbac: {
      rules: loadRoleRules(path.join(REPO_ROOT, 'tekton/rbac.yaml'), 'builds-api-access'),
      namespace: 'image-build',
      user: 'system:serviceaccount:builds-api:builds-api',
    },
  });
  // With Harbor, its registry (behind its token service) holds the images; pushes use its admin.
  const registry = opts.harbor?.registry ?? (await startRegistry());
  const pushUrl = opts.harbor?.url ?? registry.url;
  const pushHost = opts.harbor?.host ?? registry.host;
  // One real image, built once, that every simulated build "pushes".
  const built = await harnessBuild({ 'provide.txt': '', 'require.txt': '' });
  const client = new RegistryClient({
    url: pushUrl,
    ...(opts.harbor ? { credentials: opts.harbor.admin } : {}),
  });
  const digests = new Map<string, string>();
  const publish = async (tool: string, image: string) => {
    const d = await pushImage(
      built.layout as OciLayout,
      built.ref,
      client,
      `tool-${tool}/${image}`,
      'latest',
    );
    digests.set(`${pushHost}/tool-${tool}/${image}:latest`, d);
    return d;
  };
  const tekton = await startTektonSimulator(kube, {
    namespace: 'image-build',
    digest: (pr) => digests.get(PARAM(pr, 'APP_IMAGE')) ?? `sha256:${'0'.repeat(64)}`,
    script: (pr) => {
      const url = String(PARAM(pr, 'SOURCE_URL'));
      if (url.includes('fail'))
        return {
          fail: { step: 'build', exitCode: 51 },
          logs: { build: ['npm ERR! code E404', 'ERROR: failed to build: exit status 1'] },
        };
      if (url.includes('slow')) return { stepMs: 600_000 };
      if (url.includes('oom')) return { oomKilled: { step: 'build' } };
      if (url.includes('evict')) return { evicted: { step: 'build' } };
      if (url.includes('pull')) return { imagePullBackOff: { step: 'analyze' } };
      return undefined;
    },
  });
  const apiEnv = {
    TOOLFORGE_ENGINE: 'tekton',
    TOOLFORGE_KUBECONFIG: kube.kubeconfigFile(),
    ...(opts.harbor
      ? {
          TOOLFORGE_HARBOR_URL: opts.harbor.url,
          TOOLFORGE_HARBOR_USERNAME: opts.harbor.admin.username,
          TOOLFORGE_HARBOR_PASSWORD: opts.harbor.admin.password,
        }
      : { TOOLFORGE_REGISTRY_URL: registry.url }),
    TOOLFORGE_ALLOW_FILE_SOURCES: 'true',
    TOOLFORGE_SOURCE_ALLOWED_HOSTS: '127.0.0.1,localhost',
    TOOLFORGE_POD_WAIT_SECONDS: '20',
    // The fake's RBAC covers the build namespace only; the ConfigMap catalogue, the Kubernetes runtime
    // and the registry policy ConfigMap have their own tests (with their own Roles).
    TOOLFORGE_CATALOGUE: 'none',
    TOOLFORGE_RUNTIME: 'none',
    TOOLFORGE_REGISTRY_POLICY: 'builtin',
    ...env,
  };
  const api = await startApi(apiEnv);
  return {
    api,
    env: apiEnv,
    kube,
    tekton,
    registry,
    publish,
    close: async () => {
      await api.close();
      await tekton.stop();
      await kube.stop();
      if (!opts.harbor) await registry.stop();
    },
  };
}
