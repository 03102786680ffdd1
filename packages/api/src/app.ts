import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import { API_VERSION, buildOpenApiDocument, routes } from './contract/index.ts';
import { installErrorHandler } from './http/error-handler.ts';
import type { Authenticate } from './http/register.ts';
import { Counter, type MetricsRegistry } from './metrics.ts';
import { type HealthCheck, serviceRoutes } from './routes/service.ts';

export interface AppDeps {
  config: Pick<Config, 'TOOLFORGE_MAX_BODY_BYTES'>;
  logger: Logger;
  metrics: MetricsRegistry;
  health: HealthCheck[];
  authenticate?: Authenticate;
  /** TLS for the API itself (certificate authentication needs it). */
  https?: import('node:https').ServerOptions;
  /** Extra route plugins (builds, images, workloads), registered after the service routes. */
  plugins?: Array<(app: FastifyInstance) => void>;
}

/** The OpenAPI document of this service, generated from the contract (also committed as openapi.json). */
export function openApiDocument(): Record<string, unknown> {
  return buildOpenApiDocument(routes, { version: API_VERSION });
}

/** Build the fastify app without listening (tests use app.inject()). */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    ...(deps.https ? { https: deps.https } : {}),
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: deps.config.TOOLFORGE_MAX_BODY_BYTES,
    return503OnClosing: true,
  });
  installErrorHandler(app);
  const requests = deps.metrics.register(
    new Counter('toolforge_http_requests_total', 'HTTP requests by route, method and status.'),
  );
  app.addHook('onResponse', async (req, reply) => {
    requests.inc({
      route: req.routeOptions.url ?? 'unmatched',
      method: req.method,
      status: String(reply.statusCode),
    });
  });
  serviceRoutes(app, { health: deps.health, metrics: deps.metrics, openapi: openApiDocument() });
  for (const plugin of deps.plugins ?? []) plugin(app);
  await app.ready();
  return app;
}
