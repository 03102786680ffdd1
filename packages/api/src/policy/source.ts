import type { Kube } from '../kube/client.ts';
import { policyFromConfigMap } from './configmap.ts';
import type { RegistryPolicy } from './registry-policy.ts';

/** Where deploy/registry-policy/ puts the policy (the ValidatingAdmissionPolicyBinding's paramRef). */
export const POLICY_CONFIGMAP = { namespace: 'registry-policy', name: 'registry-policy' } as const;

export type ReadData = () => Promise<Readonly<Record<string, string>> | undefined>;

/** Reads the ConfigMap's data; a missing ConfigMap is an error (the binding denies then too). */
export function configMapReader(
  kube: Kube,
  ref: { namespace: string; name: string } = POLICY_CONFIGMAP,
): ReadData {
  return async () => {
    const cm = await kube.core.readNamespacedConfigMap(ref);
    return cm.data ?? {};
  };
}

/**
 * A policy loader for the webhook: the ConfigMap is read at most once per `ttlMs` (admission calls are
 * frequent, and an allowlist change may take that long to apply), concurrent callers share one read,
 * and a failed read is not cached, so it is retried on the next request (which is denied meanwhile).
 */
export function cachedPolicyLoader(
  read: ReadData,
  opts: { ttlMs?: number; now?: () => number } = {},
): () => Promise<RegistryPolicy> {
  const ttlMs = opts.ttlMs ?? 10_000;
  const now = opts.now ?? Date.now;
  let cached: { policy: RegistryPolicy; at: number } | undefined;
  let inflight: Promise<RegistryPolicy> | undefined;
  return () => {
    if (cached && now() - cached.at < ttlMs) return Promise.resolve(cached.policy);
    inflight ??= read()
      .then((data) => {
        const policy = policyFromConfigMap(data);
        cached = { policy, at: now() };
        return policy;
      })
      .finally(() => {
        inflight = undefined;
      });
    return inflight;
  };
}
