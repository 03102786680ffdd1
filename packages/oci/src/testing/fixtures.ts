// Helpers shared by this package's tests (not exported from the package).
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { type TarWriteHeader, TarWriter } from '../tar/writer.ts';

export const run = promisify(execFile);

/** A temp directory removed by the returned disposer (use with `await using`). */
export async function tempDir(prefix = 'oci-test-'): Promise<{ path: string } & AsyncDisposable> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, [Symbol.asyncDispose]: () => rm(path, { recursive: true, force: true }) };
}

export type RawEntry = Partial<TarWriteHeader> & { name: string; data?: string | Buffer };

/** Raw tar bytes from entries, names taken verbatim (so tests can craft hostile archives). */
export async function tarBytes(entries: RawEntry[], options: { gzip?: boolean } = {}): Promise<Buffer> {
  const parts: Buffer[] = [];
  const w = new TarWriter((c) => {
    parts.push(c);
  });
  for (const e of entries) {
    const h: TarWriteHeader = {
      type: e.type ?? 'file',
      mode: e.mode ?? (e.type === 'directory' ? 0o755 : 0o644),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      mtime: e.mtime ?? 1_000_000_000,
      ...e,
    };
    if (h.type === 'file') await w.addBuffer(h, e.data ?? '');
    else await w.add(h);
  }
  await w.finish();
  const tar = Buffer.concat(parts);
  return options.gzip ? gzipSync(tar) : tar;
}

export async function* chunksOf(buf: Buffer, size = 7 * 512 + 13): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}
