import type { Readable } from 'node:stream';

export type OutputStream = 'stdout' | 'stderr';

/**
 * Delivers a run's stdout and stderr to `onOutput` while counting them against one byte limit. Chunks are
 * pulled one at a time and the next is only read once the handler (and the promise it may return) is done,
 * so a slow consumer stalls the sandbox on a full pipe instead of growing a buffer here. Past the limit the
 * handler gets exactly the bytes up to it, `onLimit` is called once, and the rest is read and dropped
 * (the caller kills the run; draining keeps writers from dying of SIGPIPE first and muddling the outcome).
 */
export class OutputPump {
  bytes = 0;
  private limitHit = false;
  private failed = false;
  private readonly pending: Promise<void>[] = [];
  private readonly limit: number;
  private readonly onOutput: ((chunk: Buffer, stream: OutputStream) => void | Promise<void>) | undefined;
  private readonly onLimit: () => void;
  private readonly onHandlerError: (err: unknown) => void;

  constructor(options: {
    limit: number;
    onOutput?: (chunk: Buffer, stream: OutputStream) => void | Promise<void>;
    onLimit: () => void;
    onHandlerError: (err: unknown) => void;
  }) {
    this.limit = options.limit;
    this.onOutput = options.onOutput;
    this.onLimit = options.onLimit;
    this.onHandlerError = options.onHandlerError;
  }

  attach(stream: Readable, name: OutputStream): void {
    this.pending.push(this.pump(stream, name));
  }

  /** Resolves when every attached stream has ended (or failed). */
  async done(): Promise<void> {
    await Promise.all(this.pending);
  }

  private async pump(stream: Readable, name: OutputStream): Promise<void> {
    try {
      for await (const data of stream) {
        const chunk = data as Buffer;
        if (this.limitHit) continue;
        // Account synchronously, before awaiting the handler: the other stream's pump runs meanwhile.
        const room = this.limit - this.bytes;
        const over = chunk.length > room;
        const deliver = over ? chunk.subarray(0, room) : chunk;
        this.bytes += deliver.length;
        if (over) this.limitHit = true;
        if (deliver.length > 0) await this.deliver(deliver, name);
        if (over) this.onLimit();
      }
    } catch {
      // The stream was destroyed (run torn down): nothing more to deliver.
    }
  }

  private async deliver(chunk: Buffer, name: OutputStream): Promise<void> {
    if (!this.onOutput || this.failed) return;
    try {
      await this.onOutput(chunk, name);
    } catch (err) {
      this.failed = true;
      this.onHandlerError(err);
    }
  }
}
