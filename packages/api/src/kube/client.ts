import {
  ApiException,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
} from '@kubernetes/client-node';
import { AppError } from '../errors.ts';

export interface Kube {
  kc: KubeConfig;
  custom: CustomObjectsApi;
  core: CoreV1Api;
  coordination: CoordinationV1Api;
  namespace: string;
}

/** A kubeconfig file, else $KUBECONFIG / ~/.kube/config / the in-cluster service account. */
export function connect(namespace: string, kubeconfig?: string): Kube {
  const kc = new KubeConfig();
  if (kubeconfig) kc.loadFromFile(kubeconfig);
  else kc.loadFromDefault();
  return {
    kc,
    custom: kc.makeApiClient(CustomObjectsApi),
    core: kc.makeApiClient(CoreV1Api),
    coordination: kc.makeApiClient(CoordinationV1Api),
    namespace,
  };
}

/** Kubernetes' own message from an ApiException's Status body (never the raw exception text). */
export function kubeMessage(err: unknown): string {
  if (err instanceof ApiException) {
    const body = typeof err.body === 'string' ? safeJson(err.body) : err.body;
    const msg = (body as { message?: unknown } | undefined)?.message;
    return typeof msg === 'string' ? msg : `HTTP ${err.code}`;
  }
  return (err as Error)?.message ?? String(err);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export const statusCode = (err: unknown): number | undefined =>
  err instanceof ApiException ? err.code : undefined;

/**
 * Run one Kubernetes call; idempotent reads are retried on 429/5xx/network errors with a short backoff.
 * Unreachable or failing clusters become ENGINE_UNAVAILABLE (503); 404/409 are left to the caller.
 */
export async function kubeCall<T>(
  what: string,
  fn: () => Promise<T>,
  opts: { idempotent?: boolean } = {},
): Promise<T> {
  const attempts = opts.idempotent ? 3 : 1;
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      return await fn();
    } catch (err) {
      last = err;
      const code = statusCode(err);
      if (code !== undefined && code < 500 && code !== 429) throw err;
      if (i + 1 < attempts) await new Promise((r) => setTimeout(r, 200 * 2 ** i));
    }
  }
  throw new AppError(
    'ENGINE_UNAVAILABLE',
    `The Kubernetes API is unavailable (${what}: ${kubeMessage(last)}).`,
    {
      hint: 'Retry in a few minutes; if it persists, tell the Toolforge admins.',
      cause: last,
    },
  );
}
