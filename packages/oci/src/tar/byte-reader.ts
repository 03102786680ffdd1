/** Pulls exact byte counts out of an async iterable of chunks without copying when it can. */
export class ByteReader {
  readonly #it: AsyncIterator<Uint8Array>;
  #cur: Buffer = Buffer.alloc(0);
  #off = 0;
  #done = false;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.#it = source[Symbol.asyncIterator]();
  }

  /** Makes bytes available; false at end of input. */
  async #fill(): Promise<boolean> {
    while (this.#off >= this.#cur.length) {
      if (this.#done) return false;
      const r = await this.#it.next();
      if (r.done) {
        this.#done = true;
        return false;
      }
      const v = r.value;
      this.#cur = Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      this.#off = 0;
    }
    return true;
  }

  /** Exactly n bytes, or null if the input ended before the first byte; throws if it ends midway. */
  async readExact(n: number): Promise<Buffer | null> {
    if (!(await this.#fill())) return null;
    if (this.#cur.length - this.#off >= n) {
      const out = this.#cur.subarray(this.#off, this.#off + n);
      this.#off += n;
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let got = 0;
    while (got < n) {
      if (!(await this.#fill())) throw new Error('unexpected end of tar archive');
      const k = Math.min(n - got, this.#cur.length - this.#off);
      this.#cur.copy(out, got, this.#off, this.#off + k);
      this.#off += k;
      got += k;
    }
    return out;
  }

  /** Up to `max` bytes (at least one); throws at end of input. */
  async readSome(max: number): Promise<Buffer> {
    if (!(await this.#fill())) throw new Error('unexpected end of tar archive');
    const k = Math.min(max, this.#cur.length - this.#off);
    const out = this.#cur.subarray(this.#off, this.#off + k);
    this.#off += k;
    return out;
  }

  async skip(n: number): Promise<void> {
    let left = n;
    while (left > 0) left -= (await this.readSome(left)).length;
  }

  /** Reads and discards everything left (e.g. the zero padding after the end-of-archive marker). */
  async drain(): Promise<void> {
    this.#off = this.#cur.length;
    while (await this.#fill()) this.#off = this.#cur.length;
  }

  async close(): Promise<void> {
    if (!this.#done) {
      this.#done = true;
      await this.#it.return?.();
    }
  }
}
