// HTTP downloads from the Debian archive: retries with exponential backoff on network errors and
// 5xx/429 answers, streaming to a temporary file while hashing, and only renaming it into place once
// size and SHA256 match what a signed index promised. The archive is plain http by design (apt's
// model): integrity comes from the InRelease signature chain, not from TLS.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface RetryOptions {
  /** Attempts in total (default 4). */
  attempts?: number;
  /** First backoff delay in ms, doubled after each failure (default 500). */
  backoffMs?: number;
  /** Per-attempt timeout in ms (default 120 s; large indexes over slow links need it). */
  timeoutMs?: number;
}

export class HttpError extends Error {
  readonly status: number;
  readonly url: string;
  constructor(url: string, status: number) {
    super(`GET ${url}: HTTP ${status}`);
    this.status = status;
    this.url = url;
  }
}

/** Wrong bytes from the archive: not retried, a mirror serving them will keep doing so. */
export class IntegrityError extends Error {}

const retryable = (e: unknown): boolean =>
  !(e instanceof IntegrityError) && (!(e instanceof HttpError) || e.status >= 500 || e.status === 429);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function withRetries<T>(
  what: string,
  opts: RetryOptions,
  attempt: () => Promise<T>,
): Promise<T> {
  const attempts = opts.attempts ?? 4;
  let delay = opts.backoffMs ?? 500;
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (e) {
      if (i >= attempts || !retryable(e)) {
        if (e instanceof Error && i > 1) e.message = `${e.message} (after ${i} attempts: ${what})`;
        throw e;
      }
      await sleep(delay);
      delay *= 2;
    }
  }
}

async function get(url: string, timeoutMs: number): Promise<Response> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    throw new HttpError(url, res.status);
  }
  return res;
}

/** Fetches a small document (an InRelease file) into memory. */
export function fetchBytes(url: string, opts: RetryOptions = {}): Promise<Buffer> {
  return withRetries(url, opts, async () => {
    const res = await get(url, opts.timeoutMs ?? 120_000);
    return Buffer.from(await res.arrayBuffer());
  });
}

export interface Expected {
  sha256: string;
  size: number;
}

/**
 * Downloads `url` to `dest`, which only ever appears complete and verified. `onBytes` is told about
 * bytes as they arrive (a failed attempt's bytes are counted too: they were transferred).
 */
export function downloadVerified(
  url: string,
  dest: string,
  expected: Expected,
  opts: RetryOptions & { onBytes?: (n: number) => void } = {},
): Promise<void> {
  return withRetries(url, opts, async () => {
    await mkdir(dirname(dest), { recursive: true });
    const tmp = `${dest}.${randomBytes(6).toString('hex')}.part`;
    try {
      const res = await get(url, opts.timeoutMs ?? 120_000);
      const hash = createHash('sha256');
      let size = 0;
      const meter = new Transform({
        transform(chunk: Buffer, _enc, done) {
          size += chunk.length;
          if (size > expected.size)
            return done(new IntegrityError(`GET ${url}: more than the expected ${expected.size} bytes`));
          hash.update(chunk);
          opts.onBytes?.(chunk.length);
          done(null, chunk);
        },
      });
      await pipeline(
        Readable.fromWeb(res.body as import('node:stream/web').ReadableStream),
        meter,
        createWriteStream(tmp),
      );
      const sha256 = hash.digest('hex');
      if (size !== expected.size || sha256 !== expected.sha256) {
        throw new IntegrityError(
          `GET ${url}: got ${size} bytes with SHA256 ${sha256}, expected ${expected.size} bytes with SHA256 ${expected.sha256}`,
        );
      }
      await rename(tmp, dest);
    } finally {
      await rm(tmp, { force: true });
    }
  });
}

/** A content-addressed cache entry is trusted only if its bytes still hash to its name; else it goes. */
export async function isCached(path: string, expected: Expected): Promise<boolean> {
  const st = await stat(path).catch(() => undefined);
  if (!st || st.size !== expected.size) return false;
  if (
    createHash('sha256')
      .update(await readFile(path))
      .digest('hex') === expected.sha256
  )
    return true;
  await rm(path, { force: true });
  return false;
}
