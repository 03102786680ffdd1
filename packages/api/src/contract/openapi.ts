import { z } from 'zod';
import { ErrorResponseSchema } from './errors.ts';
import type { RouteDef } from './routes.ts';

type Json = Record<string, unknown>;

const REF = (id: string) => `#/components/schemas/${id}`;

/** The id a schema was registered with via `.meta({ id })`, if any. */
function schemaId(schema: z.ZodType): string | undefined {
  const meta = z.globalRegistry.get(schema) as { id?: string } | undefined;
  return meta?.id;
}

/** An inline JSON Schema whose registered parts become `$ref`s into components. */
function inline(schema: z.ZodType, io: 'input' | 'output'): Json {
  const id = schemaId(schema);
  if (id) return { $ref: REF(id) };
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any', reused: 'inline' }) as Json;
  delete json.$schema;
  const defs = json.$defs as Json | undefined;
  delete json.$defs;
  const text = JSON.stringify(json).replaceAll('"#/$defs/', '"#/components/schemas/');
  void defs; // every $def is a registered schema, already emitted under components
  return JSON.parse(text) as Json;
}

function parameters(route: RouteDef): Json[] {
  const out: Json[] = [];
  for (const [where, obj] of [
    ['path', route.params],
    ['query', route.query],
  ] as const) {
    if (!obj) continue;
    for (const [name, field] of Object.entries(obj.shape)) {
      const json = inline(field as z.ZodType, 'output');
      const description = json.description;
      delete json.description;
      out.push({
        name,
        in: where,
        required: where === 'path' || !(field as z.ZodType).safeParse(undefined).success,
        ...(description ? { description } : {}),
        schema: json,
      });
    }
  }
  return out;
}

function operation(route: RouteDef): Json {
  const op: Json = { operationId: route.operationId, summary: route.summary, tags: [...route.tags] };
  const params = parameters(route);
  if (params.length) op.parameters = params;
  if (route.body) {
    op.requestBody = {
      required: true,
      content: { 'application/json': { schema: inline(route.body, 'input') } },
    };
  }
  const contentType = route.kind === 'stream' || route.kind === 'text' ? 'text/plain' : 'application/json';
  const responses: Json = {
    [String(route.status ?? 200)]: {
      description: route.summary,
      content: { [contentType]: { schema: inline(route.response, 'output') } },
    },
  };
  for (const status of route.errors) {
    responses[String(status)] = {
      description: ERROR_DESCRIPTIONS[status] ?? 'Error',
      content: {
        'application/json': {
          schema: route.errorBody ? inline(route.errorBody, 'output') : { $ref: REF('ErrorResponse') },
        },
      },
    };
  }
  op.responses = responses;
  op.security = route.auth ? [{ bearer: [] }, { mtls: [] }, { key: [] }] : [];
  return op;
}

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Bad parameters passed',
  401: 'Unauthorized',
  403: 'Forbidden: the path names another tool',
  404: 'Not found',
  409: 'Conflicts with the current state',
  413: 'Request body too large',
  415: 'Unsupported content type',
  500: 'An internal error happened',
  503: 'A backing service is unavailable',
};

export interface OpenApiInfo {
  version: string;
  servers?: { url: string; description: string }[];
}

/** The OpenAPI 3.1 document of `routes`, generated from the same zod schemas the server validates with. */
export function buildOpenApiDocument(routes: Record<string, RouteDef>, info: OpenApiInfo): Json {
  // Make sure the error envelope is registered before the registry is converted.
  void ErrorResponseSchema;
  const paths: Record<string, Json> = {};
  for (const route of Object.values(routes)) {
    const entry = paths[route.path] ?? {};
    entry[route.method.toLowerCase()] = operation(route);
    paths[route.path] = entry;
  }
  const { schemas } = z.toJSONSchema(z.globalRegistry, {
    io: 'input',
    unrepresentable: 'any',
    uri: REF,
  }) as { schemas: Record<string, Json> };
  for (const s of Object.values(schemas)) {
    delete s.$schema;
    delete s.id;
    delete s.$id;
  }
  // The global registry may hold schemas of other modules: keep only what the routes reach.
  const used = reachable(paths, schemas);
  return {
    openapi: '3.1.0',
    info: {
      title: 'Toolforge builds API',
      version: info.version,
      description:
        'Wire-compatible superset of the Toolforge builds API 2.4.0: same paths, shapes, status enum, ' +
        'messages envelope and NDJSON logs, with optional additions.',
    },
    servers: info.servers ?? [
      { url: 'http://127.0.0.1:8000', description: 'Embedded default (one machine).' },
    ],
    paths: Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b))),
    components: {
      schemas: Object.fromEntries(
        Object.entries(schemas)
          .filter(([id]) => used.has(id))
          .sort(([a], [b]) => a.localeCompare(b)),
      ),
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'A per-tool token (embedded default).' },
        mtls: { type: 'mutualTLS', description: 'A client certificate whose CN is the tool name.' },
        key: {
          type: 'apiKey',
          in: 'header',
          name: 'X-Toolforge-Tool',
          description: 'Set by a trusted API gateway; honoured only when the service is configured for it.',
        },
      },
    },
  };
}

function reachable(paths: Json, schemas: Record<string, Json>): Set<string> {
  const seen = new Set<string>();
  const visit = (node: unknown): void => {
    const text = JSON.stringify(node);
    for (const m of text.matchAll(/"#\/components\/schemas\/([^"]+)"/g)) {
      const id = m[1] as string;
      if (seen.has(id)) continue;
      seen.add(id);
      visit(schemas[id]);
    }
  };
  visit(paths);
  return seen;
}
