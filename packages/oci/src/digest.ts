import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** Only sha256 is produced or accepted: it is what every registry and tool in our path uses. */
const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;

export function isDigest(value: unknown): value is string {
  return typeof value === 'string' && DIGEST_RE.test(value);
}

/** Throws a TypeError naming `what` when `value` is not `sha256:` + 64 lowercase hex. */
export function assertDigest(value: unknown, what = 'digest'): string {
  if (!isDigest(value)) throw new TypeError(`invalid ${what}: ${JSON.stringify(value)?.slice(0, 100)}`);
  return value;
}

export function sha256(data: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** The hex part, e.g. the blob file name in an OCI layout. */
export function digestHex(digest: string): string {
  return assertDigest(digest).slice(7);
}

/** Incremental hasher that also counts bytes (size and digest are always checked together). */
export class Digester {
  readonly #hash = createHash('sha256');
  size = 0;

  update(chunk: Uint8Array): void {
    this.#hash.update(chunk);
    this.size += chunk.length;
  }

  digest(): string {
    return `sha256:${this.#hash.digest('hex')}`;
  }
}

export async function digestFile(path: string): Promise<{ digest: string; size: number }> {
  const d = new Digester();
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) d.update(chunk as Buffer);
  return { digest: d.digest(), size: d.size };
}

/** ChainID per image-spec config.md: ChainID(L0..Ln) = sha256(ChainID(L0..Ln-1) + " " + DiffID(Ln)). */
export function chainId(diffIDs: readonly string[]): string {
  let chain: string | undefined;
  for (const diffID of diffIDs) {
    assertDigest(diffID, 'diffID');
    chain = chain === undefined ? diffID : sha256(`${chain} ${diffID}`);
  }
  if (chain === undefined) throw new TypeError('chainId needs at least one diffID');
  return chain;
}
