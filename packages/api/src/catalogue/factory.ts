import path from 'node:path';
import type { Config } from '../config.ts';
import { connect } from '../kube/client.ts';
import { ConfigMapCatalogueSource } from './configmap-source.ts';
import { type CatalogueSource, FileCatalogueSource } from './source.ts';

/** `TOOLFORGE_CATALOGUE` with its per-engine default. */
export function catalogueLocation(
  config: Pick<Config, 'TOOLFORGE_CATALOGUE' | 'TOOLFORGE_ENGINE' | 'TOOLFORGE_DATA_DIR'>,
): string {
  return (
    config.TOOLFORGE_CATALOGUE ??
    (config.TOOLFORGE_ENGINE === 'tekton'
      ? 'configmap:tf-public/image-config'
      : `file:${path.join(config.TOOLFORGE_DATA_DIR, 'catalogue', 'catalogue.yaml')}`)
  );
}

/** The catalogue source a location names (undefined for `none`). */
export function catalogueSource(
  location: string,
  config: Pick<Config, 'TOOLFORGE_KUBECONFIG'>,
): CatalogueSource | undefined {
  if (location === 'none') return undefined;
  if (location.startsWith('file:')) return new FileCatalogueSource(location.slice('file:'.length));
  const [namespace = '', name = ''] = location.slice('configmap:'.length).split('/');
  return new ConfigMapCatalogueSource(connect(namespace, config.TOOLFORGE_KUBECONFIG), namespace, name);
}
