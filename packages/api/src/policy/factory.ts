import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import type { CatalogueStore } from '../catalogue/store.ts';
import type { Config } from '../config.ts';
import { connect } from '../kube/client.ts';
import { policyFromConfigMap } from './configmap.ts';
import type { RegistryPolicy } from './registry-policy.ts';
import { cachedPolicyLoader, configMapReader, POLICY_CONFIGMAP } from './source.ts';

/** Every image reference a catalogue names: curated images are allowed wherever they live. */
function catalogueRefs(catalogue: CatalogueStore): string[] {
  const c = catalogue.current;
  if (!c) return [];
  return Object.values(c.images).flatMap((i) => [
    ...(i.image ? [i.image] : []),
    ...Object.values(i.variants).flatMap((v) => (v.image ? [v.image] : [])),
  ]);
}

/**
 * The registry policy the API applies before it launches anything (and answers admission reviews with):
 * `TOOLFORGE_REGISTRY_POLICY` is the ConfigMap the cluster's ValidatingAdmissionPolicy reads (default on
 * Tekton), a file with the same keys, or `builtin` (embedded default): this service's own registry plus
 * `TOOLFORGE_ALLOWED_REGISTRIES`. The published catalogue's images are curated in every case.
 */
export function policyLoader(
  config: Pick<
    Config,
    'TOOLFORGE_REGISTRY_POLICY' | 'TOOLFORGE_ENGINE' | 'TOOLFORGE_ALLOWED_REGISTRIES' | 'TOOLFORGE_KUBECONFIG'
  >,
  registryHost: string,
  catalogue: CatalogueStore,
): () => Promise<RegistryPolicy> {
  const location =
    config.TOOLFORGE_REGISTRY_POLICY ??
    (config.TOOLFORGE_ENGINE === 'tekton'
      ? `configmap:${POLICY_CONFIGMAP.namespace}/${POLICY_CONFIGMAP.name}`
      : 'builtin');
  const extra = config.TOOLFORGE_ALLOWED_REGISTRIES.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  let base: () => Promise<RegistryPolicy>;
  if (location.startsWith('configmap:')) {
    const [namespace = '', name = ''] = location.slice('configmap:'.length).split('/');
    base = cachedPolicyLoader(
      configMapReader(connect(namespace, config.TOOLFORGE_KUBECONFIG), { namespace, name }),
    );
  } else if (location.startsWith('file:')) {
    const file = location.slice('file:'.length);
    base = cachedPolicyLoader(
      async () => (parse(await readFile(file, 'utf8')) as Record<string, string>) ?? {},
    );
  } else {
    base = async () => ({ allowedRegistries: [registryHost, ...extra], curated: [], namespaceAllowlist: {} });
  }
  return async () => {
    const p = await base();
    return { ...p, curated: [...p.curated, ...catalogueRefs(catalogue)] };
  };
}

export { policyFromConfigMap };
