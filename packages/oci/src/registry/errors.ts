/** One entry of a distribution-spec error body: {"errors":[{"code","message","detail"}]}. */
export interface OciErrorEntry {
  code: string;
  message?: string;
  detail?: unknown;
}

export interface RegistryErrorInit {
  method: string;
  /** Request URL; only origin and path end up in the message (upload URLs carry opaque state). */
  url: string | URL;
  status?: number;
  errors?: OciErrorEntry[];
  /** Why, when there is no usable error body (network failure, timeout, digest mismatch...). */
  reason?: string;
  /** Secrets to scrub from anything the server echoed back. */
  secrets?: readonly string[];
  cause?: unknown;
}

/**
 * Every failure of the registry client. `status` is undefined for network errors and timeouts;
 * `codes` are the OCI error codes of the body (e.g. MANIFEST_UNKNOWN, DENIED). The message never holds
 * credentials or tokens: it is built from the method, origin + path, status and scrubbed server text.
 */
export class RegistryError extends Error {
  override name = 'RegistryError';
  readonly status: number | undefined;
  readonly codes: string[];
  readonly errors: OciErrorEntry[];
  readonly method: string;
  readonly url: string;

  constructor(init: RegistryErrorInit) {
    const u = new URL(String(init.url));
    const where = `${u.origin}${u.pathname}`;
    const secrets = init.secrets ?? [];
    // Server text is scrubbed too: a misbehaving proxy may echo headers back.
    const errors = (init.errors ?? []).map((e) => scrubEntry(e, secrets));
    const detail = errors.map((e) => (e.message ? `${e.code}: ${e.message}` : e.code)).join('; ');
    const parts = [
      `${init.method} ${where}`,
      init.status !== undefined ? `HTTP ${init.status}` : undefined,
      detail || undefined,
      init.reason,
    ].filter(Boolean);
    super(
      redact(parts.join(': '), init.secrets ?? []),
      init.cause === undefined ? undefined : { cause: init.cause },
    );
    this.status = init.status;
    this.errors = errors;
    this.codes = errors.map((e) => e.code);
    this.method = init.method;
    this.url = where;
  }
}

/** Replaces every occurrence of a secret (and its URL-encoded form) by '***'. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    if (s.length < 3) continue;
    for (const form of new Set([s, encodeURIComponent(s)])) out = out.split(form).join('***');
  }
  return out;
}

function scrubEntry(e: OciErrorEntry, secrets: readonly string[]): OciErrorEntry {
  const out: OciErrorEntry = { code: e.code };
  if (e.message !== undefined) out.message = redact(e.message, secrets);
  if (e.detail !== undefined) {
    try {
      out.detail = JSON.parse(redact(JSON.stringify(e.detail), secrets));
    } catch {
      out.detail = '[unparseable detail]';
    }
  }
  return out;
}

/** Parses an error body; anything that is not the OCI shape becomes a single pseudo-entry. */
export function parseErrorBody(text: string): OciErrorEntry[] {
  if (!text.trim()) return [];
  try {
    const parsed = JSON.parse(text) as { errors?: unknown };
    if (Array.isArray(parsed.errors)) {
      return parsed.errors.map((e: { code?: unknown; message?: unknown; detail?: unknown }) => ({
        code: typeof e?.code === 'string' ? e.code : 'UNKNOWN',
        ...(typeof e?.message === 'string' ? { message: e.message } : {}),
        ...(e?.detail !== undefined ? { detail: e.detail } : {}),
      }));
    }
  } catch {}
  return [{ code: 'UNKNOWN', message: text.slice(0, 200).replace(/\s+/g, ' ').trim() }];
}
