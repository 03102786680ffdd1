import { POD_SPEC_PATHS } from './admission.ts';

/** AdmissionReview requests for tests of the webhook handler and of the CEL policy. */

export interface SpecImages {
  containers?: string[];
  initContainers?: string[];
  ephemeralContainers?: string[];
  volumes?: string[];
}

/** `group/Kind` of every covered kind, with its API version. */
export const COVERED_KINDS = Object.keys(POD_SPEC_PATHS);

export function podSpec(images: SpecImages): Record<string, unknown> {
  const containers = (list: string[] | undefined, prefix: string) =>
    list?.map((image, n) => ({ name: `${prefix}${n}`, image }));
  return {
    ...(images.containers ? { containers: containers(images.containers, 'c') } : {}),
    ...(images.initContainers ? { initContainers: containers(images.initContainers, 'init') } : {}),
    ...(images.ephemeralContainers
      ? { ephemeralContainers: containers(images.ephemeralContainers, 'debug') }
      : {}),
    ...(images.volumes
      ? {
          volumes: [
            { name: 'data', emptyDir: {} },
            ...images.volumes.map((reference, n) => ({ name: `v${n}`, image: { reference } })),
          ],
        }
      : {}),
  };
}

/** An object of `groupKind` whose pod spec (where POD_SPEC_PATHS says) is `spec`. */
export function objectOf(groupKind: string, spec: unknown, name: string, namespace: string) {
  const [group, kind] = groupKind.split('/') as [string, string];
  const path = POD_SPEC_PATHS[groupKind] ?? ['spec'];
  let body: unknown = spec;
  for (const key of path.slice(1).reverse()) body = { [key]: body };
  return { apiVersion: group ? `${group}/v1` : 'v1', kind, metadata: { name, namespace }, spec: body };
}

export function review(
  groupKind: string,
  images: SpecImages,
  opts: { namespace?: string; operation?: string; name?: string; uid?: string } = {},
) {
  const {
    namespace = 'tool-a',
    operation = 'CREATE',
    name = 'web',
    uid = 'b6a1f1e2-0000-4000-8000-000000000001',
  } = opts;
  const [group, kind] = groupKind.split('/') as [string, string];
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: { group, version: 'v1', kind },
      resource: { group, version: 'v1', resource: `${kind.toLowerCase()}s` },
      namespace,
      name,
      operation,
      userInfo: { username: 'tool-a' },
      object: operation === 'DELETE' ? null : objectOf(groupKind, podSpec(images), name, namespace),
    },
  };
}
