/**
 * Aborts a request when nothing moves for `ms` (no headers, no body chunk either way): a per-request
 * timeout that does not kill a large but progressing blob transfer.
 */
export class Watchdog {
  readonly #ctl = new AbortController();
  readonly #ms: number;
  #timer: NodeJS.Timeout | undefined;
  fired = false;

  constructor(ms: number) {
    this.#ms = ms;
    this.kick();
  }

  get signal(): AbortSignal {
    return this.#ctl.signal;
  }

  kick(): void {
    clearTimeout(this.#timer);
    if (this.#ms <= 0 || !Number.isFinite(this.#ms)) return;
    this.#timer = setTimeout(() => {
      this.fired = true;
      this.#ctl.abort(new Error(`no progress for ${this.#ms} ms`));
    }, this.#ms);
    this.#timer.unref();
  }

  clear(): void {
    clearTimeout(this.#timer);
  }
}

/** A fetch Response whose body reads keep the watchdog alive and are counted when asked. */
export class RegistryResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly url: URL;
  readonly #res: Response;
  readonly #watchdog: Watchdog;
  readonly #onBytes: ((n: number) => void) | undefined;
  #used = false;

  constructor(res: Response, url: URL, watchdog: Watchdog, onBytes?: (n: number) => void) {
    this.#res = res;
    this.status = res.status;
    this.headers = res.headers;
    this.url = url;
    this.#watchdog = watchdog;
    this.#onBytes = onBytes;
    if (!res.body) watchdog.clear();
  }

  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  /** Absolute URL of the Location header, resolved against this response's URL (it may be relative). */
  location(): URL | undefined {
    const loc = this.headers.get('location');
    return loc ? new URL(loc, this.url) : undefined;
  }

  /** Streams the body once; `limit` guards against huge bodies where only small ones make sense. */
  async *body(limit = Number.POSITIVE_INFINITY): AsyncGenerator<Buffer, void, undefined> {
    if (this.#used) throw new Error('response body already used');
    this.#used = true;
    const stream = this.#res.body;
    if (!stream) return;
    let total = 0;
    try {
      for await (const chunk of stream) {
        this.#watchdog.kick();
        total += chunk.byteLength;
        if (total > limit) throw new Error(`response body larger than ${limit} bytes`);
        this.#onBytes?.(chunk.byteLength);
        yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      }
    } catch (err) {
      if (this.#watchdog.fired)
        throw new Error(`timed out reading response: ${(err as Error).message}`, { cause: err });
      throw err;
    } finally {
      this.#watchdog.clear();
      await stream.cancel().catch(() => {}); // no-op after a full read; frees the socket otherwise
    }
  }

  async bytes(limit?: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const c of this.body(limit)) parts.push(c);
    return Buffer.concat(parts);
  }

  async text(limit?: number): Promise<string> {
    return (await this.bytes(limit)).toString('utf8');
  }

  /** Releases the connection without reading the body. */
  async discard(): Promise<void> {
    this.#watchdog.clear();
    if (this.#used) return;
    this.#used = true;
    await this.#res.body?.cancel().catch(() => {});
  }
}
