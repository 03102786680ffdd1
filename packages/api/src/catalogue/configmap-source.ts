import type { V1ConfigMap } from '@kubernetes/client-node';
import { type Kube, kubeCall, statusCode } from '../kube/client.ts';
import { waitFor } from '../kube/list-watch.ts';
import { CatalogueConflict, type CatalogueFiles, type CatalogueSource, LEGACY_NAME } from './source.ts';

/** Our document's key next to the legacy `images-v1.yaml` in the same ConfigMap. */
export const CATALOGUE_KEY = 'catalogue-v1.yaml';

/**
 * The catalogue in a ConfigMap (Toolforge: `tf-public/image-config`), which jobs-api and webservice
 * already read for `images-v1.yaml`. Publishing is an update with a resourceVersion precondition.
 */
export class ConfigMapCatalogueSource implements CatalogueSource {
  readonly description: string;
  private readonly kube: Kube;
  private readonly namespace: string;
  private readonly name: string;

  constructor(kube: Kube, namespace: string, name: string) {
    this.kube = kube;
    this.namespace = namespace;
    this.name = name;
    this.description = `ConfigMap ${namespace}/${name}`;
  }

  private async get(): Promise<V1ConfigMap | undefined> {
    try {
      return await kubeCall(
        `get ${this.description}`,
        () => this.kube.core.readNamespacedConfigMap({ name: this.name, namespace: this.namespace }),
        { idempotent: true },
      );
    } catch (err) {
      if (statusCode(err) === 404) return undefined;
      throw err;
    }
  }

  async read(): Promise<{ text: string; revision: string } | undefined> {
    const cm = await this.get();
    const text = cm?.data?.[CATALOGUE_KEY] ?? cm?.data?.[LEGACY_NAME];
    return cm && text !== undefined ? { text, revision: cm.metadata?.resourceVersion ?? '' } : undefined;
  }

  async publish(files: CatalogueFiles, expected: string | undefined): Promise<string> {
    const current = await this.get();
    const currentRevision =
      (current?.data?.[CATALOGUE_KEY] ?? current?.data?.[LEGACY_NAME])
        ? current?.metadata?.resourceVersion
        : undefined;
    if (currentRevision !== expected) throw new CatalogueConflict(this.description);
    const data = { ...(current?.data ?? {}), [CATALOGUE_KEY]: files.catalogue, [LEGACY_NAME]: files.legacy };
    try {
      const written = current
        ? await this.kube.core.replaceNamespacedConfigMap({
            name: this.name,
            namespace: this.namespace,
            // The resourceVersion read makes this conditional: 409 if anyone wrote meanwhile.
            body: { ...current, data },
          })
        : await this.kube.core.createNamespacedConfigMap({
            namespace: this.namespace,
            body: { metadata: { name: this.name, namespace: this.namespace }, data },
          });
      return written.metadata?.resourceVersion ?? '';
    } catch (err) {
      if (statusCode(err) === 409) throw new CatalogueConflict(this.description);
      throw err;
    }
  }

  watch(onChange: () => void): () => void {
    const stop = new AbortController();
    let known: string | undefined;
    const list = async () => {
      const cm = await this.get();
      return { items: cm ? [cm] : [], resourceVersion: cm?.metadata?.resourceVersion };
    };
    void (async () => {
      while (!stop.signal.aborted) {
        const changed = await waitFor(this.kube, {
          path: `/api/v1/namespaces/${this.namespace}/configmaps`,
          fieldSelector: `metadata.name=${this.name}`,
          list,
          signal: stop.signal,
          timeoutMs: 60_000,
          // The first look fires too: the caller's reload is a no-op when nothing changed since it read.
          check: (items) => {
            const rv = items[0]?.metadata?.resourceVersion ?? 'none';
            return rv !== known ? rv : undefined;
          },
        }).catch(() => new Promise<undefined>((r) => setTimeout(() => r(undefined), 5000)));
        if (changed && !stop.signal.aborted) {
          known = changed;
          onChange();
        }
      }
    })();
    return () => stop.abort();
  }
}
