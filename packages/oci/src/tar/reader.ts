import { ByteReader } from './byte-reader.ts';
import {
  BLOCK,
  checksum,
  F,
  parsePax,
  readNumber,
  readString,
  type TarEntryType,
  typeFromFlag,
} from './header.ts';

export interface TarHeader {
  /** Name as archived (after PAX/GNU long-name and ustar prefix handling); not normalised. */
  name: string;
  type: TarEntryType;
  /** Raw typeflag character, useful for reporting 'unknown' types. */
  typeflag: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch (may be fractional when set by PAX). */
  mtime: number;
  linkname: string;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
  /** PAX records that applied to this entry (global and per-entry), e.g. SCHILY.xattr.*. */
  pax: Record<string, string>;
}

export interface TarEntry {
  header: TarHeader;
  /** The entry's content; consume it or not — whatever is left is skipped when iteration continues. */
  body: AsyncIterable<Buffer>;
  /** The whole content in memory (for small entries). */
  buffer(): Promise<Buffer>;
}

export interface ReadTarOptions {
  /** Read input to its end after the end-of-archive marker (default true) so upstream hashes see it all. */
  drain?: boolean;
}

/** Longest GNU long-name / PAX header we accept; real ones are a few KiB at most. */
const MAX_META = 1 << 20;

/** Parses a tar stream (ustar, PAX, GNU long names) into entries, one at a time. */
export async function* readTar(
  source: AsyncIterable<Uint8Array>,
  options: ReadTarOptions = {},
): AsyncGenerator<TarEntry, void, undefined> {
  const r = new ByteReader(source);
  let globalPax: Record<string, string> = {};
  let pax: Record<string, string> | undefined;
  let longName: string | undefined;
  let longLink: string | undefined;
  try {
    for (;;) {
      const block = await r.readExact(BLOCK);
      if (block === null) return; // lenient: input ended at a header boundary without the marker
      if (isZeroBlock(block)) {
        if (options.drain ?? true) await r.drain();
        return;
      }
      const stored = readNumber(block, F.chksum[0], F.chksum[1]);
      if (stored !== checksum(block))
        throw new Error('tar header checksum mismatch (corrupt or not a tar archive)');
      const flag = String.fromCharCode(block[F.typeflag[0]]!);
      const rawSize = readNumber(block, F.size[0], F.size[1]);

      if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
        if (rawSize > MAX_META) throw new Error(`tar metadata entry too large (${rawSize} bytes)`);
        const data = (await r.readExact(rawSize)) ?? Buffer.alloc(0);
        await r.skip(padding(rawSize));
        if (flag === 'x') pax = { ...pax, ...parsePax(data) };
        else if (flag === 'g') globalPax = { ...globalPax, ...parsePax(data) };
        else if (flag === 'L') longName = cString(data);
        else longLink = cString(data);
        continue;
      }

      const records = pax ? { ...globalPax, ...pax } : globalPax;
      const header = decodeHeader(block, flag, rawSize, records, longName, longLink);
      pax = undefined;
      longName = undefined;
      longLink = undefined;

      // Only regular files carry data; links and directories may declare a size that must not be read.
      const dataSize = header.type === 'file' || header.type === 'unknown' ? header.size : 0;
      let remaining = dataSize;
      const body: AsyncIterable<Buffer> = {
        async *[Symbol.asyncIterator]() {
          while (remaining > 0) {
            const chunk = await r.readSome(remaining);
            remaining -= chunk.length;
            yield chunk;
          }
        },
      };
      yield {
        header,
        body,
        async buffer() {
          const parts: Buffer[] = [];
          for await (const c of body) parts.push(c);
          return Buffer.concat(parts);
        },
      };
      await r.skip(remaining + padding(dataSize));
    }
  } finally {
    await r.close();
  }
}

function decodeHeader(
  block: Buffer,
  flag: string,
  rawSize: number,
  pax: Record<string, string>,
  longName: string | undefined,
  longLink: string | undefined,
): TarHeader {
  const magic = block.toString('latin1', F.magic[0], F.magic[0] + 6);
  let name = readString(block, F.name[0], F.name[1]);
  // The prefix field only means "prefix" in POSIX ustar; old GNU archives use those bytes for other data.
  if (magic === 'ustar\0') {
    const prefix = readString(block, F.prefix[0], F.prefix[1]);
    if (prefix) name = `${prefix}/${name}`;
  }
  if (longName !== undefined) name = longName;
  if (pax.path !== undefined) name = pax.path;
  let linkname = longLink ?? readString(block, F.linkname[0], F.linkname[1]);
  if (pax.linkpath !== undefined) linkname = pax.linkpath;

  let type = typeFromFlag(flag);
  // Pre-POSIX archives mark directories only by a trailing slash on a regular-file entry.
  if (type === 'file' && flag !== '7' && name.endsWith('/')) type = 'directory';

  const num = (key: string, fallback: number) => {
    const v = pax[key];
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n)) throw new Error(`invalid PAX ${key} ${JSON.stringify(v)}`);
    return n;
  };
  const size = num('size', rawSize);
  if (!Number.isSafeInteger(size) || size < 0) throw new Error(`invalid tar entry size ${size}`);
  return {
    name,
    type,
    typeflag: flag,
    mode: readNumber(block, F.mode[0], F.mode[1]),
    uid: num('uid', readNumber(block, F.uid[0], F.uid[1])),
    gid: num('gid', readNumber(block, F.gid[0], F.gid[1])),
    size,
    mtime: num('mtime', readNumber(block, F.mtime[0], F.mtime[1])),
    linkname,
    uname: pax.uname ?? readString(block, F.uname[0], F.uname[1]),
    gname: pax.gname ?? readString(block, F.gname[0], F.gname[1]),
    devmajor: readNumber(block, F.devmajor[0], F.devmajor[1]),
    devminor: readNumber(block, F.devminor[0], F.devminor[1]),
    pax,
  };
}

function padding(size: number): number {
  const rem = size % BLOCK;
  return rem === 0 ? 0 : BLOCK - rem;
}

function isZeroBlock(b: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (b[i] !== 0) return false;
  return true;
}

function cString(data: Buffer): string {
  const nul = data.indexOf(0);
  return data.toString('utf8', 0, nul < 0 ? data.length : nul);
}
