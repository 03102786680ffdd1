import type { BlobToPush } from './blob-source.ts';
import { RegistryError } from './errors.ts';
import type { RegistryResponse } from './response.ts';
import type { Transport } from './transport.ts';

export type PushBlobResult = 'exists' | 'mounted' | 'uploaded';

export interface UploadSettings {
  /** Blobs larger than this go up in PATCH chunks. */
  chunkedThreshold: number;
  chunkSize: number;
}

/**
 * Pushes one blob: HEAD (skip if present), optional cross-repository mount, then a monolithic or chunked
 * upload. Upload sessions cannot be resumed reliably after a failure (the registry may have stored part
 * of a body), so a retryable failure restarts the whole sequence — after a HEAD, since the last PUT may
 * have landed before the connection died. Requests inside run without their own retries to keep the total
 * bounded by the retry policy.
 */
export async function pushBlob(
  t: Transport,
  repo: string,
  blob: BlobToPush,
  settings: UploadSettings,
  mountFrom?: string,
): Promise<PushBlobResult> {
  const from = mountFrom && mountFrom !== repo ? mountFrom : undefined;
  // Mounting needs pull on the source in the same token (distribution token.md).
  const scopes = [`repository:${repo}:pull,push`, ...(from ? [`repository:${from}:pull`] : [])];
  for (let attempt = 0; ; attempt++) {
    let session: URL | undefined;
    try {
      const head = await t.request({
        method: 'HEAD',
        url: `/v2/${repo}/blobs/${blob.digest}`,
        scopes,
        allow: [404],
        retry: false,
      });
      await head.discard();
      if (head.ok) {
        t.stats.blobsSkipped++;
        return 'exists';
      }
      const query = from ? `?mount=${encodeURIComponent(blob.digest)}&from=${encodeURIComponent(from)}` : '';
      const started = await t.request({
        method: 'POST',
        url: `/v2/${repo}/blobs/uploads/${query}`,
        scopes,
        retry: false,
      });
      await started.discard();
      if (started.status === 201) {
        t.stats.blobsMounted++;
        return 'mounted';
      }
      session = requireLocation(started);
      if (blob.size > settings.chunkedThreshold) {
        const min = Number(started.headers.get('oci-chunk-min-length')) || 0;
        await chunked(t, session, blob, scopes, Math.max(settings.chunkSize, min));
        t.stats.chunkedUploads++;
      } else {
        const res = await t.request({
          method: 'PUT',
          url: withDigest(session, blob.digest),
          scopes,
          retry: false,
          blobTransfer: true,
          headers: { 'content-type': 'application/octet-stream', 'content-length': String(blob.size) },
          body: blob.size === 0 ? new Uint8Array(0) : () => blob.open(0, blob.size),
        });
        await res.discard();
      }
      t.stats.blobsUploaded++;
      return 'uploaded';
    } catch (err) {
      if (session) void cancel(t, session, scopes);
      if (!t.isRetryable(err) || attempt >= t.options.retry.retries) throw err;
      await t.backoff(attempt);
    }
  }
}

async function chunked(t: Transport, start: URL, blob: BlobToPush, scopes: string[], chunkSize: number) {
  let location = start;
  for (let offset = 0; offset < blob.size; ) {
    const from = offset;
    const to = Math.min(blob.size, offset + chunkSize);
    const res = await t.request({
      method: 'PATCH',
      url: location,
      scopes,
      retry: false,
      blobTransfer: true,
      headers: {
        'content-type': 'application/octet-stream',
        // Inclusive range without a "bytes " prefix (distribution-spec); the registry keeps the offset too.
        'content-range': `${from}-${to - 1}`,
        'content-length': String(to - from),
      },
      body: () => blob.open(from, to),
    });
    await res.discard();
    location = requireLocation(res); // always continue from the latest Location
    offset = to;
  }
  const done = await t.request({
    method: 'PUT',
    url: withDigest(location, blob.digest),
    scopes,
    retry: false,
  });
  await done.discard();
}

/** Appends the digest to an upload URL as-is: it may carry opaque state (`_state=`) we must not re-encode. */
export function withDigest(location: URL, digest: string): URL {
  const sep = location.search ? '&' : '?';
  return new URL(`${location.href}${sep}digest=${encodeURIComponent(digest)}`);
}

function requireLocation(res: RegistryResponse): URL {
  const loc = res.location();
  if (!loc) {
    throw new RegistryError({
      method: 'POST',
      url: res.url,
      status: res.status,
      reason: 'upload response without Location',
    });
  }
  return loc;
}

/** Best effort: frees the registry's temporary upload storage. */
async function cancel(t: Transport, session: URL, scopes: string[]): Promise<void> {
  try {
    const res = await t.request({ method: 'DELETE', url: session, scopes, retry: false, allow: [404, 405] });
    await res.discard();
  } catch {}
}
