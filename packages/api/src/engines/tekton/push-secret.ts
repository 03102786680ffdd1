import { type Kube, kubeCall, statusCode } from '../../kube/client.ts';
import type { PushAccess } from '../../registry/port.ts';
import { LABELS, MANAGED_BY } from './names.ts';

/** The Secret holding one run's push credentials; only the lifecycle's registry steps mount it. */
export const pushSecretName = (buildId: string) => `${buildId}-push`;

/** A dockerconfigjson Secret for the registry host (robot names contain `$` and `+`: base64 keeps them). */
export async function createPushSecret(
  kube: Kube,
  name: string,
  host: string,
  access: PushAccess,
  tool: string,
): Promise<void> {
  const auth = Buffer.from(`${access.username}:${access.password}`).toString('base64');
  await kubeCall('create the push Secret', () =>
    kube.core.createNamespacedSecret({
      namespace: kube.namespace,
      body: {
        metadata: { name, labels: { [LABELS.tool]: tool, [LABELS.managedBy]: MANAGED_BY } },
        type: 'kubernetes.io/dockerconfigjson',
        stringData: { '.dockerconfigjson': JSON.stringify({ auths: { [host]: { auth } } }) },
      },
    }),
  );
}

export async function deletePushSecret(kube: Kube, name: string): Promise<void> {
  await kube.core.deleteNamespacedSecret({ name, namespace: kube.namespace }).catch((err) => {
    if (statusCode(err) !== 404) throw err;
  });
}

/** Make the run the Secret's owner, so that deleting the run deletes the Secret. */
export async function ownSecret(
  kube: Kube,
  name: string,
  run: { metadata: { name: string; uid?: string } },
): Promise<void> {
  if (!run.metadata.uid) return;
  await kube.core.patchNamespacedSecret({
    name,
    namespace: kube.namespace,
    body: [
      {
        op: 'add',
        path: '/metadata/ownerReferences',
        value: [
          {
            apiVersion: 'tekton.dev/v1',
            kind: 'PipelineRun',
            name: run.metadata.name,
            uid: run.metadata.uid,
          },
        ],
      },
    ],
  });
}
