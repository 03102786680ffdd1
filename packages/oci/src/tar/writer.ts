import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import {
  BLOCK,
  F,
  octalMax,
  paxRecord,
  sealHeader,
  type TarEntryType,
  TYPEFLAGS,
  writeOctal,
} from './header.ts';

export type WritableEntryType = Exclude<TarEntryType, 'unknown'>;

export interface TarWriteHeader {
  /** Entry name as stored (we never rewrite it); directories conventionally end with `/`. */
  name: string;
  type: WritableEntryType;
  /** Permission and setuid/setgid/sticky bits (masked to 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch, or a Date (sub-second parts are dropped). */
  mtime: number | Date;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
}

/** Receives archive bytes in large batches; the returned promise is the backpressure. */
export type TarSink = (chunk: Buffer) => void | Promise<void>;

export interface TarWriterOptions {
  /** Size of the batches handed to the sink (default 1 MiB). */
  batchSize?: number;
  /** Files up to this size are read synchronously straight into the batch (default 64 KiB; 0 disables). */
  syncReadMax?: number;
}

const ASCII_RE = /^[\x20-\x7e]*$/;
const O_NOFOLLOW_RDONLY = constants.O_RDONLY | constants.O_NOFOLLOW;

/**
 * Streaming, deterministic tar writer (ustar + PAX). Headers and file bodies are copied into one batch
 * buffer that is handed to the sink only when full, so per-entry cost is a few memcpy's, not a write.
 * Files are read into the batch directly; small ones synchronously, which is much cheaper than a
 * threadpool round trip per file and keeps the event loop blocked only for microseconds at a time.
 */
export class TarWriter {
  readonly #sink: TarSink;
  readonly #batchSize: number;
  readonly #syncReadMax: number;
  #buf: Buffer;
  #pos = 0;
  #finished = false;
  /** Bytes handed to the sink so far plus pending ones: the archive size once finished. */
  #total = 0;

  constructor(sink: TarSink, options: TarWriterOptions = {}) {
    this.#sink = sink;
    this.#batchSize = Math.max(options.batchSize ?? 1 << 20, 4 * BLOCK);
    this.#syncReadMax = Math.min(options.syncReadMax ?? 64 * 1024, this.#batchSize);
    this.#buf = Buffer.allocUnsafe(this.#batchSize);
  }

  get size(): number {
    return this.#total + this.#pos;
  }

  /** Adds a non-file entry (directory, symlink, hardlink, fifo, device). */
  async add(header: TarWriteHeader): Promise<void> {
    if (header.type === 'file') return this.addBuffer(header, Buffer.alloc(0));
    await this.#header(header, 0);
  }

  /** Adds a regular file whose content is in memory. */
  async addBuffer(header: TarWriteHeader, data: Uint8Array | string): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    await this.#header({ ...header, type: 'file' }, bytes.length);
    let off = 0;
    while (off < bytes.length) {
      if (this.#pos === this.#batchSize) await this.#flush();
      const n = Math.min(bytes.length - off, this.#batchSize - this.#pos);
      this.#buf.set(bytes.subarray(off, off + n), this.#pos);
      this.#pos += n;
      off += n;
    }
    await this.#pad(bytes.length);
  }

  /**
   * Adds a regular file read from `path` (symlinks are not followed). The size written is the one
   * fstat reports after opening; a file that shrinks while being read is an error, growth is ignored.
   * `sizeHint` (e.g. from the walker's lstat) only selects the synchronous small-file path.
   */
  async addFile(header: TarWriteHeader, path: string, sizeHint?: number): Promise<void> {
    if (sizeHint !== undefined && sizeHint <= this.#syncReadMax) {
      const fd = openSync(path, O_NOFOLLOW_RDONLY);
      try {
        const size = fstatSync(fd).size;
        if (size <= this.#syncReadMax) {
          await this.#header({ ...header, type: 'file' }, size);
          if (this.#batchSize - this.#pos < size) await this.#flush();
          let got = 0;
          while (got < size) {
            const n = readSync(fd, this.#buf, this.#pos + got, size - got, null);
            if (n === 0) throw new Error(`${path}: file shrank while being archived`);
            got += n;
          }
          this.#pos += size;
          await this.#pad(size);
          return;
        }
      } finally {
        closeSync(fd);
      }
    }
    const fh = await open(path, O_NOFOLLOW_RDONLY);
    try {
      const { size } = await fh.stat();
      await this.#header({ ...header, type: 'file' }, size);
      let remaining = size;
      while (remaining > 0) {
        if (this.#pos === this.#batchSize) await this.#flush();
        const want = Math.min(remaining, this.#batchSize - this.#pos);
        const { bytesRead } = await fh.read(this.#buf, this.#pos, want, null);
        if (bytesRead === 0) throw new Error(`${path}: file shrank while being archived`);
        this.#pos += bytesRead;
        remaining -= bytesRead;
      }
      await this.#pad(size);
    } finally {
      await fh.close();
    }
  }

  /** Writes the end-of-archive marker (two zero blocks) and hands the last batch to the sink. */
  async finish(): Promise<void> {
    if (this.#finished) return;
    await this.#zeros(2 * BLOCK);
    this.#finished = true;
    await this.#flush();
  }

  async #flush(): Promise<void> {
    if (this.#pos === 0) return;
    const chunk = this.#buf.subarray(0, this.#pos);
    // A fresh buffer each time: the sink (zlib, a hash, a file stream) may still hold the previous one.
    this.#buf = Buffer.allocUnsafe(this.#batchSize);
    this.#total += this.#pos;
    this.#pos = 0;
    await this.#sink(chunk);
  }

  async #zeros(n: number): Promise<void> {
    if (this.#finished) throw new Error('tar writer already finished');
    let left = n;
    while (left > 0) {
      if (this.#pos === this.#batchSize) await this.#flush();
      const k = Math.min(left, this.#batchSize - this.#pos);
      this.#buf.fill(0, this.#pos, this.#pos + k);
      this.#pos += k;
      left -= k;
    }
  }

  async #pad(size: number): Promise<void> {
    const rem = size % BLOCK;
    if (rem !== 0) await this.#zeros(BLOCK - rem);
  }

  /** Writes the PAX extended header (when needed) and the ustar header for one entry. */
  async #header(h: TarWriteHeader, size: number): Promise<void> {
    if (this.#finished) throw new Error('tar writer already finished');
    const mtime = typeof h.mtime === 'number' ? Math.floor(h.mtime) : Math.floor(h.mtime.getTime() / 1000);
    const linkname = h.linkname ?? '';
    const pax: string[] = [];
    const split = splitUstarName(h.name);
    if (!split) pax.push(paxRecord('path', h.name));
    if (linkname.length > 100 || !ASCII_RE.test(linkname) || Buffer.byteLength(linkname) > 100) {
      pax.push(paxRecord('linkpath', linkname));
    }
    if (size > octalMax(12)) pax.push(paxRecord('size', String(size)));
    if (h.uid > octalMax(8) || h.uid < 0) pax.push(paxRecord('uid', String(h.uid)));
    if (h.gid > octalMax(8) || h.gid < 0) pax.push(paxRecord('gid', String(h.gid)));
    if (mtime > octalMax(12) || mtime < 0) pax.push(paxRecord('mtime', String(mtime)));

    if (pax.length > 0) {
      const data = Buffer.from(pax.join(''));
      const paxName = paxHeaderName(h.name);
      if (this.#batchSize - this.#pos < BLOCK) await this.#flush();
      this.#ustar(
        paxName,
        'x',
        0o644,
        0,
        0,
        Math.max(0, Math.min(mtime, octalMax(12))),
        data.length,
        '',
        0,
        0,
      );
      await this.#raw(data);
      await this.#pad(data.length);
    }
    const inRange = (v: number, len: number) => (v >= 0 && v <= octalMax(len) ? v : 0);
    const [prefix, name] = split ?? ['', asciiTruncate(h.name, 100)];
    if (this.#batchSize - this.#pos < BLOCK) await this.#flush();
    this.#ustar(
      name,
      TYPEFLAGS[h.type],
      h.mode & 0o7777,
      inRange(h.uid, 8),
      inRange(h.gid, 8),
      inRange(mtime, 12),
      inRange(size, 12),
      linkname.length <= 100 && ASCII_RE.test(linkname) ? linkname : asciiTruncate(linkname, 100),
      h.devmajor ?? 0,
      h.devminor ?? 0,
      prefix,
    );
  }

  async #raw(data: Buffer): Promise<void> {
    let off = 0;
    while (off < data.length) {
      if (this.#pos === this.#batchSize) await this.#flush();
      const n = Math.min(data.length - off, this.#batchSize - this.#pos);
      data.copy(this.#buf, this.#pos, off, off + n);
      this.#pos += n;
      off += n;
    }
  }

  /** Encodes one 512-byte header at the current position; the caller guarantees room for it. */
  #ustar(
    name: string,
    flag: string,
    mode: number,
    uid: number,
    gid: number,
    mtime: number,
    size: number,
    linkname: string,
    devmajor: number,
    devminor: number,
    prefix = '',
  ): void {
    if (this.#batchSize - this.#pos < BLOCK) throw new Error('internal: no room for tar header');
    const b = this.#buf;
    const o = this.#pos;
    b.fill(0, o, o + BLOCK);
    b.write(name, o + F.name[0], F.name[1], 'latin1');
    writeOctal(b, o + F.mode[0], F.mode[1], mode);
    writeOctal(b, o + F.uid[0], F.uid[1], uid);
    writeOctal(b, o + F.gid[0], F.gid[1], gid);
    writeOctal(b, o + F.size[0], F.size[1], size);
    writeOctal(b, o + F.mtime[0], F.mtime[1], mtime);
    b.write(flag, o + F.typeflag[0], 1, 'latin1');
    b.write(linkname, o + F.linkname[0], F.linkname[1], 'latin1');
    b.write('ustar\u000000', o + F.magic[0], 8, 'latin1');
    writeOctal(b, o + F.devmajor[0], F.devmajor[1], devmajor);
    writeOctal(b, o + F.devminor[0], F.devminor[1], devminor);
    b.write(prefix, o + F.prefix[0], F.prefix[1], 'latin1');
    sealHeader(b, o);
    this.#pos += BLOCK;
  }
}

/** Splits an ASCII name into ustar prefix (≤155) and name (≤100), or returns undefined if PAX is needed. */
export function splitUstarName(name: string): [string, string] | undefined {
  if (!ASCII_RE.test(name)) return undefined;
  if (name.length <= 100) return ['', name];
  if (name.length > 256) return undefined;
  // Directories end with '/', which must stay in the name part; search separators before it.
  for (let i = name.indexOf('/'); i >= 0 && i <= 155; i = name.indexOf('/', i + 1)) {
    const rest = name.length - i - 1;
    if (rest <= 100 && rest > 0 && i > 0) return [name.slice(0, i), name.slice(i + 1)];
  }
  return undefined;
}

function asciiTruncate(s: string, max: number): string {
  return s.replace(/[^\x20-\x7e]/g, '_').slice(0, max);
}

/** A stable name for PAX headers (GNU tar puts its pid in it, which would break reproducibility). */
function paxHeaderName(name: string): string {
  const trimmed = name.endsWith('/') ? name.slice(0, -1) : name;
  const base = trimmed.slice(trimmed.lastIndexOf('/') + 1);
  return asciiTruncate(`PaxHeaders.0/${base}`, 100);
}
