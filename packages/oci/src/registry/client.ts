import { Digester, isDigest, sha256 } from '../digest.ts';
import { DigestMismatchError } from '../errors.ts';
import { isIndexType, isManifestType, MANIFEST_ACCEPT } from '../media-types.ts';
import { type Descriptor, parseManifestOrIndex } from '../types.ts';
import type { RegistryCredentials } from './auth.ts';
import type { BlobToPush } from './blob-source.ts';
import { RegistryError } from './errors.ts';
import type { RegistryResponse } from './response.ts';
import { type ResolvedRetry, type RetryOptions, resolveRetry } from './retry.ts';
import { type RegistryStats, Transport } from './transport.ts';
import { type PushBlobResult, pushBlob } from './upload.ts';

export interface RegistryClientOptions {
  /** Registry base URL, e.g. 'https://harbor.example.org' or 'http://127.0.0.1:5000'. */
  url: string;
  credentials?: RegistryCredentials;
  /** Abort a request when no bytes move for this long (default 60 s). */
  timeoutMs?: number;
  retry?: RetryOptions;
  /** Blobs above this size are uploaded in chunks (default 64 MiB). */
  chunkedThreshold?: number;
  /** PATCH chunk size (default 16 MiB; raised to the registry's OCI-Chunk-Min-Length). */
  chunkSize?: number;
  /** For tests: a fetch to use instead of the global one. */
  fetch?: typeof fetch;
  userAgent?: string;
}

/** distribution-spec repository name (Harbor: '<project>/<repo...>'). */
const REPO_RE = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const MAX_MANIFEST = 8 << 20;

export interface ManifestResult {
  descriptor: Descriptor;
  /** Exact bytes as served (their sha256 is the digest). */
  bytes: Buffer;
}

/** OCI distribution-spec client (push/pull/tags) on Node's fetch. One instance per registry. */
export class RegistryClient {
  readonly url: URL;
  readonly #t: Transport;
  readonly #upload: { chunkedThreshold: number; chunkSize: number };

  constructor(options: RegistryClientOptions) {
    this.url = new URL(options.url);
    if (this.url.username || this.url.password)
      throw new TypeError('pass credentials separately, not in the URL');
    const retry: ResolvedRetry = resolveRetry(options.retry);
    this.#t = new Transport({
      baseUrl: this.url,
      credentials: options.credentials,
      timeoutMs: options.timeoutMs ?? 60_000,
      retry,
      fetch: options.fetch ?? globalThis.fetch,
      userAgent: options.userAgent ?? 'toolforge-oci',
    });
    this.#upload = {
      chunkedThreshold: options.chunkedThreshold ?? 64 << 20,
      chunkSize: Math.max(1, options.chunkSize ?? 16 << 20),
    };
  }

  /** Counters for assertions and logs (e.g. a second push uploads 0 blob bytes). */
  get stats(): RegistryStats {
    return this.#t.stats;
  }

  /** Whether an error from this client is transient (network, timeout, 5xx, 429). */
  isRetryable(err: unknown): boolean {
    return this.#t.isRetryable(err);
  }

  /** Sleeps per the client's retry policy before retry number `attempt` (for operation-level retries). */
  backoff(attempt: number): Promise<void> {
    return this.#t.backoff(attempt);
  }

  /** GET /v2/: checks reachability and credentials. */
  async ping(): Promise<void> {
    await (await this.#t.request({ method: 'GET', url: '/v2/', scopes: [] })).discard();
  }

  async hasBlob(repo: string, digest: string): Promise<boolean> {
    const res = await this.#t.request({
      method: 'HEAD',
      url: `/v2/${checkRepo(repo)}/blobs/${checkDigest(digest)}`,
      scopes: [pull(repo)],
      allow: [404],
    });
    await res.discard();
    return res.ok;
  }

  /**
   * Streams a blob, verifying size (when given) and digest: the iteration throws a RegistryError
   * (code DIGEST_INVALID or SIZE_INVALID) at the end if they differ, so consumers must treat what they wrote as void on error.
   */
  async getBlob(repo: string, blob: { digest: string; size?: number }): Promise<AsyncIterable<Buffer>> {
    const res = await this.#t.request({
      method: 'GET',
      url: `/v2/${checkRepo(repo)}/blobs/${checkDigest(blob.digest)}`,
      scopes: [pull(repo)],
      headers: { 'accept-encoding': 'identity' },
      blobTransfer: true,
    });
    const length = res.headers.get('content-length');
    if (blob.size !== undefined && length !== null && Number(length) !== blob.size) {
      await res.discard();
      throw mismatch('GET', res, 'SIZE_INVALID', `blob ${blob.digest} size`, String(blob.size), length);
    }
    return verified(res, blob);
  }

  async getBlobBytes(repo: string, blob: { digest: string; size?: number }): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const c of await this.getBlob(repo, blob)) parts.push(c);
    return Buffer.concat(parts);
  }

  /** Uploads a blob unless present; `mountFrom` names a repository of this registry that has it. */
  pushBlob(repo: string, blob: BlobToPush, options: { mountFrom?: string } = {}): Promise<PushBlobResult> {
    checkRepo(repo);
    checkDigest(blob.digest);
    if (options.mountFrom) checkRepo(options.mountFrom);
    return pushBlob(this.#t, repo, blob, this.#upload, options.mountFrom);
  }

  /** Descriptor of a manifest by tag or digest, or undefined if it does not exist. */
  async headManifest(repo: string, ref: string): Promise<Descriptor | undefined> {
    const res = await this.#t.request({
      method: 'HEAD',
      url: `/v2/${checkRepo(repo)}/manifests/${checkRef(ref)}`,
      scopes: [pull(repo)],
      headers: { accept: MANIFEST_ACCEPT },
      allow: [404],
    });
    await res.discard();
    if (res.status === 404) return undefined;
    const digest = res.headers.get('docker-content-digest');
    const mediaType = contentType(res.headers);
    const size = Number(res.headers.get('content-length'));
    if (!isDigest(digest) || !mediaType || !Number.isSafeInteger(size)) {
      return (await this.getManifest(repo, ref)).descriptor; // registry without usable HEAD headers
    }
    return { mediaType, digest, size };
  }

  /** Fetches a manifest or index; its digest is checked against the ref (or the served digest header). */
  async getManifest(repo: string, ref: string): Promise<ManifestResult> {
    const res = await this.#t.request({
      method: 'GET',
      url: `/v2/${checkRepo(repo)}/manifests/${checkRef(ref)}`,
      scopes: [pull(repo)],
      headers: { accept: MANIFEST_ACCEPT },
    });
    const bytes = await res.bytes(MAX_MANIFEST);
    const digest = sha256(bytes);
    const served = res.headers.get('docker-content-digest');
    const expected = isDigest(ref) ? ref : isDigest(served) ? served : undefined;
    if (expected !== undefined && expected !== digest) {
      throw mismatch('GET', res, 'DIGEST_INVALID', `manifest ${repo}@${ref}`, expected, digest);
    }
    const type = contentType(res.headers);
    const hint = isManifestType(type) || isIndexType(type) ? type : undefined;
    const parsed = parseManifestOrIndex(bytes, hint);
    return { descriptor: { mediaType: parsed.mediaType, digest, size: bytes.length }, bytes };
  }

  /** Pushes manifest bytes as-is under a tag (or digest); returns the digest. Blobs must be pushed first. */
  async putManifest(repo: string, ref: string, bytes: Uint8Array, mediaType: string): Promise<string> {
    parseManifestOrIndex(bytes, mediaType);
    const digest = sha256(bytes);
    if (isDigest(ref) && ref !== digest)
      throw new TypeError(`manifest bytes have digest ${digest}, not ${ref}`);
    const res = await this.#t.request({
      method: 'PUT',
      url: `/v2/${checkRepo(repo)}/manifests/${checkRef(ref)}`,
      scopes: [`repository:${repo}:pull,push`],
      headers: { 'content-type': mediaType },
      body: bytes,
    });
    await res.discard();
    const served = res.headers.get('docker-content-digest');
    if (isDigest(served) && served !== digest)
      throw mismatch('PUT', res, 'DIGEST_INVALID', 'digest reported for the pushed manifest', digest, served);
    return digest;
  }

  /** Deletes a manifest by digest (all its tags go) or a tag (registries may refuse: 405 UNSUPPORTED). */
  async deleteManifest(repo: string, ref: string): Promise<void> {
    const res = await this.#t.request({
      method: 'DELETE',
      url: `/v2/${checkRepo(repo)}/manifests/${checkRef(ref)}`,
      scopes: [`repository:${repo}:delete`],
    });
    await res.discard();
  }

  /** All tags of a repository, following `Link: <...>; rel="next"` pagination. */
  async listTags(repo: string, options: { pageSize?: number } = {}): Promise<string[]> {
    const tags: string[] = [];
    let url: URL | undefined = new URL(
      `/v2/${checkRepo(repo)}/tags/list?n=${options.pageSize ?? 1000}`,
      this.url,
    );
    for (let page = 0; url && page < 100_000; page++) {
      const res = await this.#t.request({ method: 'GET', url, scopes: [pull(repo)] });
      const body = JSON.parse(await res.text(MAX_MANIFEST)) as { tags?: unknown };
      if (Array.isArray(body.tags)) tags.push(...body.tags.filter((t): t is string => typeof t === 'string'));
      const next = /<([^>]+)>\s*;\s*rel="?next"?/.exec(res.headers.get('link') ?? '')?.[1];
      url = next ? new URL(next, res.url) : undefined;
    }
    return tags;
  }

  /** Repositories of the registry (`/v2/_catalog`, following `Link` pages), optionally only those under a prefix. */
  async listRepositories(options: { prefix?: string; pageSize?: number } = {}): Promise<string[]> {
    const repos: string[] = [];
    let url: URL | undefined = new URL(`/v2/_catalog?n=${options.pageSize ?? 1000}`, this.url);
    for (let page = 0; url && page < 100_000; page++) {
      const res = await this.#t.request({ method: 'GET', url, scopes: ['registry:catalog:*'] });
      const body = JSON.parse(await res.text(MAX_MANIFEST)) as { repositories?: unknown };
      if (Array.isArray(body.repositories)) {
        repos.push(
          ...body.repositories.filter(
            (r): r is string => typeof r === 'string' && r.startsWith(options.prefix ?? ''),
          ),
        );
      }
      const next = /<([^>]+)>\s*;\s*rel="?next"?/.exec(res.headers.get('link') ?? '')?.[1];
      url = next ? new URL(next, res.url) : undefined;
    }
    return repos;
  }
}

function pull(repo: string): string {
  return `repository:${repo}:pull`;
}

function checkRepo(repo: string): string {
  if (!REPO_RE.test(repo)) throw new TypeError(`invalid repository name ${JSON.stringify(repo)}`);
  return repo;
}

function checkRef(ref: string): string {
  if (!isDigest(ref) && !TAG_RE.test(ref))
    throw new TypeError(`invalid tag or digest ${JSON.stringify(ref)}`);
  return ref;
}

function checkDigest(digest: string): string {
  if (!isDigest(digest)) throw new TypeError(`invalid digest ${JSON.stringify(digest)}`);
  return digest;
}

function contentType(headers: Headers): string | undefined {
  return headers.get('content-type')?.split(';')[0]?.trim() || undefined;
}

async function* verified(res: RegistryResponse, blob: { digest: string; size?: number }) {
  const d = new Digester();
  const it = res.body()[Symbol.asyncIterator]();
  try {
    for (;;) {
      let r: IteratorResult<Buffer>;
      try {
        r = await it.next();
      } catch (err) {
        // A connection dying midway is transient: report it as a network RegistryError (retryable).
        const reason = `reading body failed (${bodyFailure(err)})`;
        throw new RegistryError({ method: 'GET', url: res.url, reason, cause: err });
      }
      if (r.done) break;
      d.update(r.value);
      if (blob.size !== undefined && d.size > blob.size) {
        throw mismatch(
          'GET',
          res,
          'SIZE_INVALID',
          `blob ${blob.digest} size`,
          String(blob.size),
          `> ${blob.size}`,
        );
      }
      yield r.value;
    }
  } finally {
    await it.return?.(); // releases the connection when the consumer stops early
  }
  if (blob.size !== undefined && d.size !== blob.size) {
    throw mismatch('GET', res, 'SIZE_INVALID', `blob ${blob.digest} size`, String(blob.size), String(d.size));
  }
  const actual = d.digest();
  if (actual !== blob.digest) throw mismatch('GET', res, 'DIGEST_INVALID', `blob`, blob.digest, actual);
}

/** Content that does not match what was asked for: a RegistryError (not retried) caused by a DigestMismatchError. */
function mismatch(
  method: string,
  res: RegistryResponse,
  code: 'DIGEST_INVALID' | 'SIZE_INVALID',
  what: string,
  expected: string,
  actual: string,
): RegistryError {
  const cause = new DigestMismatchError(what, expected, actual);
  return new RegistryError({
    method,
    url: res.url,
    status: res.status,
    errors: [{ code, message: cause.message }],
    cause,
  });
}

function bodyFailure(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (err as Error)?.message ?? String(err);
}
