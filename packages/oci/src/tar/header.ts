/**
 * ustar header layout, numeric field codecs and PAX records shared by the writer and the reader.
 * Offsets follow POSIX pax(1) "ustar Interchange Format".
 */

export const BLOCK = 512;

export type TarEntryType =
  | 'file'
  | 'directory'
  | 'symlink'
  | 'hardlink'
  | 'fifo'
  | 'char-device'
  | 'block-device'
  | 'unknown';

export const TYPEFLAGS: Record<Exclude<TarEntryType, 'unknown'>, string> = {
  file: '0',
  hardlink: '1',
  symlink: '2',
  'char-device': '3',
  'block-device': '4',
  directory: '5',
  fifo: '6',
};

export function typeFromFlag(flag: string): TarEntryType {
  switch (flag) {
    case '0':
    case '\0':
    case '7': // contiguous file: a regular file everywhere that matters
      return 'file';
    case '1':
      return 'hardlink';
    case '2':
      return 'symlink';
    case '3':
      return 'char-device';
    case '4':
      return 'block-device';
    case '5':
      return 'directory';
    case '6':
      return 'fifo';
    default:
      return 'unknown';
  }
}

export const F = {
  name: [0, 100],
  mode: [100, 8],
  uid: [108, 8],
  gid: [116, 8],
  size: [124, 12],
  mtime: [136, 12],
  chksum: [148, 8],
  typeflag: [156, 1],
  linkname: [157, 100],
  magic: [257, 6],
  version: [263, 2],
  uname: [265, 32],
  gname: [297, 32],
  devmajor: [329, 8],
  devminor: [337, 8],
  prefix: [345, 155],
} as const;

/** Largest value an octal field of `len` bytes holds (len-1 digits plus a NUL terminator). */
export function octalMax(len: number): number {
  return 8 ** (len - 1) - 1;
}

export function writeOctal(buf: Buffer, off: number, len: number, value: number): void {
  const digits = value.toString(8);
  const padded = digits.length < len - 1 ? '0'.repeat(len - 1 - digits.length) + digits : digits;
  buf.write(padded, off, len - 1, 'latin1');
  buf[off + len - 1] = 0;
}

export function checksum(block: Uint8Array, off = 0): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) {
    sum += i >= 148 && i < 156 ? 0x20 : block[off + i]!;
  }
  return sum;
}

/** Writes the checksum field of the header at `off` (6 octal digits, NUL, space, as GNU and Go do). */
export function sealHeader(buf: Buffer, off: number): void {
  const sum = checksum(buf, off);
  buf.write(sum.toString(8).padStart(6, '0'), off + 148, 6, 'latin1');
  buf[off + 154] = 0;
  buf[off + 155] = 0x20;
}

/** Reads an octal field, or a GNU base-256 field (high bit set) used for large sizes and ids. */
export function readNumber(buf: Uint8Array, off: number, len: number): number {
  const first = buf[off]!;
  if (first & 0x80) {
    let value = first === 0xff ? -1 : first & 0x7f;
    for (let i = 1; i < len; i++) value = value * 256 + buf[off + i]!;
    return value;
  }
  let value = 0;
  let seen = false;
  for (let i = 0; i < len; i++) {
    const c = buf[off + i]!;
    if (c === 0 || (c === 0x20 && seen)) break;
    if (c === 0x20) continue;
    if (c < 0x30 || c > 0x37) throw new Error(`invalid octal digit in tar header at byte ${i}`);
    value = value * 8 + (c - 0x30);
    seen = true;
  }
  return value;
}

export function readString(buf: Uint8Array, off: number, len: number): string {
  let end = off;
  while (end < off + len && buf[end] !== 0) end++;
  return Buffer.from(buf.buffer, buf.byteOffset + off, end - off).toString('utf8');
}

/** One PAX record: "<len> <key>=<value>\n" where <len> counts the whole record in bytes. */
export function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyLen = Buffer.byteLength(body);
  let len = bodyLen + String(bodyLen).length;
  if (String(len).length + bodyLen !== len) len = bodyLen + String(len).length;
  return `${len}${body}`;
}

export function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < data.length) {
    if (data[pos] === 0) break; // NUL padding some writers leave at the end
    const space = data.indexOf(0x20, pos);
    if (space < 0) throw new Error('malformed PAX record (no length)');
    const len = Number(data.toString('latin1', pos, space));
    if (!Number.isSafeInteger(len) || len <= space - pos || pos + len > data.length) {
      throw new Error('malformed PAX record length');
    }
    const record = data.toString('utf8', space + 1, pos + len - 1);
    const eq = record.indexOf('=');
    if (eq <= 0) throw new Error('malformed PAX record (no key)');
    out[record.slice(0, eq)] = record.slice(eq + 1);
    pos += len;
  }
  return out;
}
