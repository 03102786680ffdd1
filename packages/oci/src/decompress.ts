import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createZstdDecompress } from 'node:zlib';
import type { LayerCompression } from './media-types.ts';

const GZIP_MAGIC = [0x1f, 0x8b];
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];

/**
 * Decompresses a layer stream. 'auto' sniffs the magic bytes, so a blob labelled gzip but stored plain
 * (or the other way round) is still read correctly; the caller verifies digests on the raw bytes.
 */
export async function* decompress(
  source: AsyncIterable<Uint8Array>,
  compression: LayerCompression | 'auto' = 'auto',
): AsyncGenerator<Buffer, void, undefined> {
  const it = source[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headLen = 0;
  let ended = false;
  if (compression === 'auto') {
    while (headLen < 4) {
      const r = await it.next();
      if (r.done) {
        ended = true;
        break;
      }
      head.push(Buffer.from(r.value));
      headLen += r.value.length;
    }
    const first = Buffer.concat(head);
    compression = startsWith(first, ZSTD_MAGIC) ? 'zstd' : startsWith(first, GZIP_MAGIC) ? 'gzip' : 'none';
  }
  const rest: AsyncIterable<Uint8Array> = {
    async *[Symbol.asyncIterator]() {
      yield* head;
      if (ended) return;
      try {
        for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
      } finally {
        await it.return?.(); // stops the source (e.g. closes a file) when the consumer stops early
      }
    },
  };
  if (compression === 'none') {
    for await (const c of rest) yield Buffer.isBuffer(c) ? c : Buffer.from(c);
    return;
  }
  const inflater = compression === 'zstd' ? createZstdDecompress() : createGunzip({ chunkSize: 256 * 1024 });
  const done = pipeline(Readable.from(rest), inflater);
  done.catch(() => {}); // errors also surface through the iteration below
  try {
    for await (const chunk of inflater) yield chunk as Buffer;
    await done;
  } finally {
    inflater.destroy();
  }
}

function startsWith(buf: Buffer, magic: number[]): boolean {
  return buf.length >= magic.length && magic.every((b, i) => buf[i] === b);
}
