// Harbor's error body and HTTP odds and ends (src/lib/errors/const.go, src/lib/http/error.go).
import type { IncomingMessage } from 'node:http';

const CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  412: 'PRECONDITION',
  413: 'REQUEST_ENTITY_TOO_LARGE',
  422: 'UNPROCESSABLE_ENTITY',
  429: 'TOO_MANY_REQUEST',
  500: 'UNKNOWN',
  502: 'UNKNOWN',
  503: 'UNKNOWN',
  504: 'UNKNOWN',
};

/** Answered as `{"errors":[{"code","message"}]}` with `status`. */
export class HarborError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, message: string, code = CODES[status] ?? 'UNKNOWN') {
    super(message);
    this.status = status;
    this.code = code;
  }
  body(): { errors: { code: string; message: string }[] } {
    return { errors: [{ code: this.code, message: this.message }] };
  }
}

export const badRequest = (m: string) => new HarborError(400, m);
export const unauthorized = (m = 'unauthorized') => new HarborError(401, m);
export const forbidden = (m = 'forbidden') => new HarborError(403, m);
export const notFound = (m: string) => new HarborError(404, m);
export const conflict = (m: string) => new HarborError(409, m);
export const precondition = (m: string) => new HarborError(412, m);

/** What a handler answers: JSON unless `text` is set; no body for HEAD and bare statuses. */
export interface Reply {
  status: number;
  body?: unknown;
  text?: string;
  headers?: Record<string, string>;
}

export const ok = (body?: unknown, headers?: Record<string, string>): Reply => ({
  status: 200,
  body,
  headers,
});

export async function readBody(req: IncomingMessage, limit = 8 << 20): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > limit) throw new HarborError(413, 'request body too large');
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

/** `Authorization: Basic …` split at the first colon (robot names contain `$` and `+`, never `:`). */
export function parseBasic(header: string | undefined): { username: string; password: string } | undefined {
  if (!header?.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Harbor's `q`: `k=v` exact, `k=~v` fuzzy, comma-separated (ranges and lists are not modelled). */
export function parseQuery(q: string | null): Map<string, { fuzzy: boolean; value: string }> {
  const terms = new Map<string, { fuzzy: boolean; value: string }>();
  for (const term of (q ?? '').split(',')) {
    const eq = term.indexOf('=');
    if (eq <= 0) continue;
    const raw = term.slice(eq + 1);
    const fuzzy = raw.startsWith('~');
    terms.set(term.slice(0, eq).trim(), { fuzzy, value: fuzzy ? raw.slice(1) : raw });
  }
  return terms;
}

export function matchesTerm(term: { fuzzy: boolean; value: string } | undefined, value: string): boolean {
  return !term || (term.fuzzy ? value.includes(term.value) : value === term.value);
}

/** `page`/`page_size` (default 10, at most 100) with `X-Total-Count` and `Link`, as Harbor pages lists. */
export function paged<T>(items: T[], query: URLSearchParams, path: string): Reply {
  const page = Number(query.get('page') ?? 1);
  const size = Number(query.get('page_size') ?? 10);
  if (!Number.isInteger(page) || page < 1) throw new HarborError(422, 'page in query should be >= 1');
  if (!Number.isInteger(size) || size < 0 || size > 100) {
    throw new HarborError(422, 'page_size in query should be less than or equal to 100');
  }
  const slice = size === 0 ? items : items.slice((page - 1) * size, page * size);
  const links: string[] = [];
  const link = (p: number, rel: string) => {
    const q = new URLSearchParams(query);
    q.set('page', String(p));
    q.set('page_size', String(size));
    links.push(`<${path}?${q}>; rel="${rel}"`);
  };
  if (size > 0 && page > 1) link(page - 1, 'prev');
  if (size > 0 && page * size < items.length) link(page + 1, 'next');
  return ok(slice, {
    'x-total-count': String(items.length),
    ...(links.length ? { link: links.join(' , ') } : {}),
  });
}

export const isoNow = () => new Date().toISOString();
