import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Digester, digestFile } from '../digest.ts';

/** A blob to push: its identity and a way to read any byte range of it (again, for retries and chunks). */
export interface BlobToPush {
  digest: string;
  size: number;
  /** Reads bytes [start, end). */
  open(start: number, end: number): AsyncIterable<Uint8Array>;
}

export function blobFromBuffer(data: Uint8Array, digest?: string): BlobToPush {
  let d = digest;
  if (d === undefined) {
    const h = new Digester();
    h.update(data);
    d = h.digest();
  }
  return {
    digest: d,
    size: data.length,
    async *open(start, end) {
      if (end > start) yield data.subarray(start, end);
    },
  };
}

/** A blob backed by a file; the digest is computed when not given. */
export async function blobFromFile(path: string, digest?: string): Promise<BlobToPush> {
  const info = digest === undefined ? await digestFile(path) : { digest, size: (await stat(path)).size };
  return {
    digest: info.digest,
    size: info.size,
    open(start, end) {
      if (end <= start) return (async function* () {})();
      return createReadStream(path, { start, end: end - 1, highWaterMark: 1 << 20 });
    },
  };
}
