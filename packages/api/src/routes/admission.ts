import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors.ts';
import { register } from '../http/register.ts';
import { type PolicyLoader, reviewRegistryPolicy } from '../policy/admission.ts';

/**
 * The registry policy's validating webhook (deploy/registry-policy/webhook.yaml). It carries no tool
 * identity: the kube-apiserver calls it over the API's TLS, and it only ever answers allowed or denied.
 */
export function admissionRoutes(app: FastifyInstance, loadPolicy: PolicyLoader): void {
  register(app, 'admissionRegistryPolicy', async ({ body }) => {
    const r = await reviewRegistryPolicy(body, loadPolicy);
    if (r.status === 400) throw new AppError('VALIDATION_FAILED', r.body.error);
    return r.body as never;
  });
}
