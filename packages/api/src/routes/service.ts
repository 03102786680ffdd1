import type { FastifyInstance } from 'fastify';
import { messages } from '../contract/index.ts';
import { register } from '../http/register.ts';
import type { MetricsRegistry } from '../metrics.ts';

/** A readiness probe: resolves to a problem description, or undefined when healthy. */
export interface HealthCheck {
  name: string;
  check(): Promise<string | undefined>;
  /** Problems that do not make the service unready (shown as warnings). */
  warnings?(): string[];
}

/** healthz, metrics and openapi.json: public, unauthenticated. */
export function serviceRoutes(
  app: FastifyInstance,
  deps: { health: HealthCheck[]; metrics: MetricsRegistry; openapi: Record<string, unknown> },
): void {
  register(app, 'healthcheck', async (_input, { reply }) => {
    const problems: string[] = [];
    await Promise.all(
      deps.health.map(async (h) => {
        try {
          const problem = await h.check();
          if (problem) problems.push(`${h.name}: ${problem}`);
        } catch (err) {
          problems.push(`${h.name}: ${(err as Error).message}`);
        }
      }),
    );
    const warning = deps.health.flatMap((h) => (h.warnings?.() ?? []).map((w) => `${h.name}: ${w}`));
    if (problems.length) {
      reply.code(503);
      return { status: 'ERROR' as const, messages: messages({ error: problems.sort(), warning }) };
    }
    return { status: 'OK' as const, messages: messages({ warning }) };
  });
  register(app, 'metrics', async () => deps.metrics.render());
  register(app, 'openapi', async () => deps.openapi);
}
