import { z } from 'zod';
import { checkImage, type RegistryPolicy, registriesFor } from './registry-policy.ts';

/**
 * The registry policy as a Kubernetes validating admission webhook (`admission.k8s.io/v1`), without
 * transport: the HTTP layer passes the parsed request body and returns `body` with `status`. Kubernetes
 * treats anything but a 200 AdmissionReview as a failed call, and the webhook's failurePolicy Fail
 * then denies; policy trouble is answered with an explicit denial instead (fail closed).
 */

/** Where each kind keeps its pod spec (`group/Kind`; the core group is empty). */
export const POD_SPEC_PATHS: Readonly<Record<string, readonly string[]>> = {
  '/Pod': ['spec'],
  '/ReplicationController': ['spec', 'template', 'spec'],
  'apps/Deployment': ['spec', 'template', 'spec'],
  'apps/ReplicaSet': ['spec', 'template', 'spec'],
  'apps/StatefulSet': ['spec', 'template', 'spec'],
  'apps/DaemonSet': ['spec', 'template', 'spec'],
  'batch/Job': ['spec', 'template', 'spec'],
  'batch/CronJob': ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};

const ReviewSchema = z.looseObject({
  apiVersion: z.literal('admission.k8s.io/v1'),
  kind: z.literal('AdmissionReview'),
  request: z.looseObject({
    uid: z.string().min(1),
    kind: z.looseObject({ group: z.string(), version: z.string(), kind: z.string().min(1) }),
    operation: z.enum(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']),
    namespace: z.string().optional(),
    name: z.string().optional(),
    object: z.unknown().optional(),
  }),
});

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; reason: string; message: string };
}
export interface AdmissionReviewResponse {
  apiVersion: 'admission.k8s.io/v1';
  kind: 'AdmissionReview';
  response: AdmissionResponse;
}
export type AdmissionResult =
  | { status: 200; body: AdmissionReviewResponse }
  | { status: 400; body: { error: string } };

/** The policy now; the HTTP layer passes a cached ConfigMap read (see source.ts). */
export type PolicyLoader = () => RegistryPolicy | Promise<RegistryPolicy>;

const Container = z.looseObject({ image: z.string().optional() });
const PodSpec = z.looseObject({
  containers: z.array(Container).optional(),
  initContainers: z.array(Container).optional(),
  ephemeralContainers: z.array(Container).optional(),
  volumes: z
    .array(z.looseObject({ image: z.looseObject({ reference: z.string().optional() }).optional() }))
    .optional(),
});
const Metadata = z.looseObject({
  metadata: z.looseObject({ name: z.string().optional(), namespace: z.string().optional() }).optional(),
});

class Malformed extends Error {}

/** Every image a pod spec pulls: containers of all three lists, and image volumes. An absent image is ''. */
export function podSpecImages(spec: z.infer<typeof PodSpec>): string[] {
  const containers = [
    ...(spec.containers ?? []),
    ...(spec.initContainers ?? []),
    ...(spec.ephemeralContainers ?? []),
  ];
  const volumes = (spec.volumes ?? []).flatMap((v) => (v.image ? [v.image.reference ?? ''] : []));
  return [...containers.map((c) => c.image ?? ''), ...volumes];
}

function imagesOf(groupKind: string, object: unknown): string[] {
  const path = POD_SPEC_PATHS[groupKind];
  if (!path) throw new Malformed(`kind ${groupKind} is not covered by the registry policy`);
  let at: unknown = object;
  for (const key of path) at = (at as Record<string, unknown> | undefined)?.[key];
  const spec = PodSpec.safeParse(at);
  if (!spec.success || at === undefined) throw new Malformed(`request.object has no valid ${path.join('.')}`);
  return podSpecImages(spec.data);
}

export async function reviewRegistryPolicy(
  body: unknown,
  loadPolicy: PolicyLoader,
): Promise<AdmissionResult> {
  const parsed = ReviewSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return bad(
      `not an admission.k8s.io/v1 AdmissionReview request: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`,
    );
  }
  const req = parsed.data.request;
  const reply = (response: Omit<AdmissionResponse, 'uid'>): AdmissionResult => ({
    status: 200,
    body: {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: { uid: req.uid, ...response },
    },
  });
  if (req.operation !== 'CREATE' && req.operation !== 'UPDATE') return reply({ allowed: true });
  const meta = Metadata.safeParse(req.object).data?.metadata;
  const namespace = req.namespace || meta?.namespace;
  if (!namespace) return bad('request.namespace is missing');
  const groupKind = `${req.kind.group}/${req.kind.kind}`;
  let images: string[];
  try {
    images = imagesOf(groupKind, req.object);
  } catch (err) {
    if (err instanceof Malformed) return bad(err.message);
    throw err;
  }
  let policy: RegistryPolicy;
  try {
    policy = await loadPolicy();
  } catch (err) {
    const message = `the registry policy is unavailable, so no image can be admitted: ${(err as Error).message}`;
    return reply({ allowed: false, status: { code: 500, reason: 'InternalError', message } });
  }
  const name = req.name || meta?.name || '';
  const denied = images.flatMap((image) => {
    const d = checkImage(image, namespace, policy);
    return d.allowed
      ? []
      : [
          `[Kind=${req.kind.kind}, Namespace=${namespace}, Name=${name}, Image=${JSON.stringify(image)}: ${d.reason}]`,
        ];
  });
  if (denied.length === 0) return reply({ allowed: true });
  const registries = registriesFor(namespace, policy).join(', ');
  const message = `The following container images did not match any of the allowed registries ([${registries}]) or the curated catalogue: ${denied.join(', ')}`;
  return reply({ allowed: false, status: { code: 403, reason: 'Forbidden', message } });
}

const bad = (error: string): AdmissionResult => ({ status: 400, body: { error } });
