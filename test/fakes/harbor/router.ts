// A tiny router for /api/v2.0: `METHOD /path/:param` patterns matched on decoded segments.
import type { IncomingHttpHeaders } from 'node:http';
import type { Identity } from './access.ts';
import { badRequest, type Reply } from './http.ts';
import type { RegistryView } from './registry-view.ts';
import type { State } from './state.ts';

export interface Ctx {
  state: State;
  view: RegistryView;
  id: Identity;
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  headers: IncomingHttpHeaders;
  /** Request path (for `Link` headers). */
  path: string;
  storagePerProject: number;
  /** e.g. http://127.0.0.1:1234 */
  externalUrl: string;
}

export interface Route {
  method: string;
  segments: string[];
  /** Routes that answer without credentials (ping, health, systeminfo). */
  anonymous: boolean;
  handler: (ctx: Ctx) => Reply | Promise<Reply>;
}

export function route(spec: string, handler: Route['handler'], anonymous = false): Route {
  const [method = '', path = ''] = spec.split(' ');
  return { method, segments: path.split('/').filter(Boolean), anonymous, handler };
}

/**
 * Like Harbor (Go), the path is percent-decoded once before routing, so a repository name with `/` must
 * be encoded twice (`a%252Fb`); `:repo` is decoded a second time. A singly encoded name does not route.
 */
export function match(
  routes: Route[],
  method: string,
  rawPath: string,
): { route: Route; params: Record<string, string> } | 'method' | undefined {
  let segs: string[];
  try {
    segs = decodeURIComponent(rawPath).split('/').filter(Boolean);
  } catch {
    return undefined;
  }
  let methodMismatch = false;
  for (const r of routes) {
    if (r.segments.length !== segs.length) continue;
    const params: Record<string, string> = {};
    const ok = r.segments.every((s, i) => {
      const seg = segs[i] ?? '';
      if (!s.startsWith(':')) return s === seg;
      params[s.slice(1)] = seg;
      return true;
    });
    if (!ok) continue;
    if (r.method !== method && !(r.method === 'GET' && method === 'HEAD')) {
      methodMismatch = true;
      continue;
    }
    if (params.repo !== undefined) {
      try {
        params.repo = decodeURIComponent(params.repo);
      } catch {
        throw badRequest(`invalid repository name ${params.repo}`);
      }
    }
    return { route: r, params };
  }
  return methodMismatch ? 'method' : undefined;
}

/** A JSON object body, or 400. */
export function objectBody(ctx: Ctx): Record<string, any> {
  const b = ctx.body;
  if (typeof b !== 'object' || b === null || Array.isArray(b)) throw badRequest('invalid request body');
  return b as Record<string, any>;
}
