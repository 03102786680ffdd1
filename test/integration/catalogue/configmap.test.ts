// The catalogue in a ConfigMap (tf-public/image-config) against the fake kube-apiserver (a fake: it
// enforces resourceVersion preconditions, watches and the Role in deploy/catalogue-rbac.yaml).
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  CATALOGUE_KEY,
  ConfigMapCatalogueSource,
} from '../../../packages/api/src/catalogue/configmap-source.ts';
import { publishCatalogue } from '../../../packages/api/src/catalogue/publish.ts';
import { CatalogueConflict } from '../../../packages/api/src/catalogue/source.ts';
import { CatalogueStore } from '../../../packages/api/src/catalogue/store.ts';
import { connect } from '../../../packages/api/src/kube/client.ts';
import { loadRoleRules } from '../../fakes/kube-apiserver/rbac.ts';
import { type FakeApiServer, startFakeApiServer } from '../../fakes/kube-apiserver.ts';
import { REPO_ROOT } from '../../helpers/paths.ts';

const SOURCE = (alias: string) => `version: 1
builders: {default: {builder: b:1, runner: r:1}}
images:
  python3.11: {state: stable, aliases: [${alias}], image: "registry.example/py:1"}
`;
const LEGACY_ONLY = 'node18:\n  image: registry.example/node18\n  state: stable\n';

let admin: FakeApiServer; // as an operator publishing (no RBAC); the API's read-only Role is tested below
beforeAll(async () => {
  admin = await startFakeApiServer();
});
afterAll(() => admin?.stop());

const source = (kubeconfig: string) =>
  new ConfigMapCatalogueSource(connect('tf-public', kubeconfig), 'tf-public', 'image-config');
const cm = () =>
  admin.get('configmaps', 'tf-public', 'image-config') as unknown as {
    data: Record<string, string>;
    metadata: { resourceVersion: string };
  };

describe('the ConfigMap catalogue source', () => {
  it('publishes next to an existing images-v1.yaml, which the reader reads until ours is there', async () => {
    admin.put('configmaps', {
      metadata: { name: 'image-config', namespace: 'tf-public' },
      data: { 'images-v1.yaml': LEGACY_ONLY, other: 'kept' },
    });
    const s = source(admin.kubeconfigFile());
    expect((await s.read())?.text).toBe(LEGACY_ONLY);
    const r = await publishCatalogue(s, SOURCE('tf-python311'));
    expect(r.revision).toBe(1);
    expect(cm().data.other).toBe('kept');
    expect(parse(cm().data['images-v1.yaml'] as string)['python3.11']).toMatchObject({
      image: 'registry.example/py:1',
    });
    expect(cm().data[CATALOGUE_KEY]).toContain('revision: 1');
  });

  it('two publishers at once: the update is conditional on the resourceVersion read, so one is refused', async () => {
    const a = source(admin.kubeconfigFile());
    const b = source(admin.kubeconfigFile());
    const results = await Promise.allSettled([
      publishCatalogue(a, SOURCE('tf-python311-a')),
      publishCatalogue(b, SOURCE('tf-python311-b')),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(
      results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason),
    ).toEqual([expect.any(CatalogueConflict)]);
    expect(cm().data[CATALOGUE_KEY]).toContain('revision: 2');
  });

  it('the API (with the Role in deploy/) reads and follows it; an invalid version keeps the last good one', async () => {
    const api = await startFakeApiServer({
      rbac: {
        rules: loadRoleRules(
          path.join(REPO_ROOT, 'deploy/catalogue-rbac.yaml'),
          'builds-api-catalogue-reader',
        ),
        namespace: 'tf-public',
        user: 'system:serviceaccount:builds-api:builds-api',
      },
    });
    try {
      api.put('configmaps', { metadata: { name: 'image-config', namespace: 'tf-public' }, data: {} });
      const store = new CatalogueStore(
        source(api.kubeconfigFile()),
        { default: { builder: 'x', runner: 'y' }, latest: { builder: 'x', runner: 'y' } },
        pino({ level: 'silent' }),
      );
      await store.start();
      expect(store.current).toBeUndefined();
      // The API may not write it.
      await expect(publishCatalogue(source(api.kubeconfigFile()), SOURCE('tf-x'))).rejects.toThrow(
        /forbidden/,
      );
      const waitFor = async (f: () => boolean) => {
        for (let i = 0; i < 100 && !f(); i++) await new Promise((r) => setTimeout(r, 50));
        expect(f()).toBe(true);
      };
      api.put('configmaps', {
        metadata: { name: 'image-config', namespace: 'tf-public' },
        data: { [CATALOGUE_KEY]: SOURCE('tf-python311') },
      });
      await waitFor(() => store.current?.images['python3.11']?.aliases[0] === 'tf-python311');
      api.dropWatches();
      api.put('configmaps', {
        metadata: { name: 'image-config', namespace: 'tf-public' },
        data: { [CATALOGUE_KEY]: 'version: 1\nimages: {}\n' },
      });
      await waitFor(() => store.warnings().length === 1);
      expect(store.warnings()[0]).toMatch(
        /ConfigMap tf-public\/image-config is invalid and was not loaded: builders: /,
      );
      expect(store.current?.images['python3.11']).toBeDefined();
      store.stop();
    } finally {
      await api.stop();
    }
  });
});
