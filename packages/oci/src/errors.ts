/** Malformed OCI JSON (manifest, index, config, descriptor) or content that does not match its descriptor. */
export class OciFormatError extends Error {
  override name = 'OciFormatError';
}

/** Content whose digest or size differs from what was expected (blob, manifest, layer). */
export class DigestMismatchError extends Error {
  override name = 'DigestMismatchError';
  readonly expected: string;
  readonly actual: string;

  constructor(what: string, expected: string, actual: string) {
    super(`${what}: expected ${expected}, got ${actual}`);
    this.expected = expected;
    this.actual = actual;
  }
}

/** Why an archive entry was refused by unpack. */
export type UnsafeReason =
  | 'dotdot'
  | 'invalid-name'
  | 'escapes-root'
  | 'absolute-symlink'
  | 'symlink-escapes-root'
  | 'symlink-parent'
  | 'hardlink-outside-root'
  | 'hardlink-missing'
  | 'hardlink-to-directory'
  | 'device'
  | 'fifo'
  | 'unsupported-type'
  | 'bad-whiteout';

/** A layer entry refused by unpack; nothing is ever written outside the destination for it. */
export class UnsafeArchiveError extends Error {
  override name = 'UnsafeArchiveError';
  readonly entry: string;
  readonly reason: UnsafeReason;

  constructor(entry: string, reason: UnsafeReason, detail?: string) {
    super(`unsafe archive entry ${JSON.stringify(entry)}: ${reason}${detail ? ` (${detail})` : ''}`);
    this.entry = entry;
    this.reason = reason;
  }
}
