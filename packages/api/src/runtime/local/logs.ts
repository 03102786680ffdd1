import { EventEmitter } from 'node:events';
import { type FileHandle, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';

/** Bytes per file; one rotated file (`.1`) is kept, so a workload keeps up to twice this. */
export const DEFAULT_LOG_BYTES = 5 * 2 ** 20;
/** An output line longer than this (no newline in sight) is cut: a runaway line must not grow memory. */
const MAX_LINE = 16 * 1024;
/** Reading back: stored lines are at most MAX_LINE plus the timestamp, far below this. */
const MAX_STORED_LINE = 1024 * 1024;
const NEWLINE = 0x0a;

/**
 * One workload's log: `<ISO timestamp> <line>` per line, appended to `<name>.log`, moved to `<name>.log.1`
 * when it would grow over the cap. Writes are serialised; followers read the files (by inode, so a
 * rotation between two reads loses nothing) and are woken by an event after each write.
 */
export class LogFile {
  readonly file: string;
  private readonly maxBytes: number;
  private readonly now: () => Date;
  private readonly log: Logger;
  private readonly events = new EventEmitter();
  private fh: FileHandle | undefined;
  private size = 0;
  private chain: Promise<void> = Promise.resolve();
  private failed = false;
  deleted = false;

  constructor(file: string, opts: { maxBytes: number; now: () => Date; log: Logger }) {
    this.file = file;
    this.maxBytes = opts.maxBytes;
    this.now = opts.now;
    this.log = opts.log;
    this.events.setMaxListeners(0);
  }

  /** Append lines (stamped now). Never rejects: a log that cannot be written must not stop a workload. */
  append(lines: string[]): Promise<void> {
    if (!lines.length || this.deleted) return this.chain;
    const at = this.now().toISOString();
    const data = Buffer.from(lines.map((l) => `${at} ${l}\n`).join(''));
    this.chain = this.chain.then(() => this.write(data));
    return this.chain;
  }

  private async write(data: Buffer): Promise<void> {
    if (this.deleted) return;
    try {
      if (this.fh && this.size > 0 && this.size + data.length > this.maxBytes) {
        await this.fh.close();
        this.fh = undefined;
        await rename(this.file, `${this.file}.1`);
      }
      if (!this.fh) {
        await mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
        this.fh = await open(this.file, 'a', 0o600);
        this.size = (await this.fh.stat()).size;
      }
      await this.fh.write(data);
      this.size += data.length;
      this.failed = false;
    } catch (err) {
      if (!this.failed) this.log.warn({ err, file: this.file }, 'cannot write a workload log');
      this.failed = true;
    }
    this.events.emit('change');
  }

  /** Wait for pending writes. */
  flush(): Promise<void> {
    return this.chain;
  }

  async close(): Promise<void> {
    await this.chain;
    await this.fh?.close().catch(() => {});
    this.fh = undefined;
  }

  /** Remove the files; followers drain what they have and end. */
  async remove(): Promise<void> {
    await this.close();
    this.deleted = true;
    await rm(this.file, { force: true });
    await rm(`${this.file}.1`, { force: true });
    this.events.emit('change');
  }

  /** Replay (the rotated file, then the current one) and, with follow, wait for more until removed or aborted. */
  async *read(opts: { follow: boolean; signal: AbortSignal }): AsyncGenerator<string> {
    // The current file first: if it rotates before the older one is opened, that one is the same inode.
    let cur = await openIfExists(this.file);
    let curIno = cur ? (await cur.stat()).ino : undefined;
    const prev = await openIfExists(`${this.file}.1`);
    try {
      if (prev && (await prev.stat()).ino !== curIno) yield* drain(prev, new Lines(), 0);
    } finally {
      await prev?.close();
    }
    let lines = new Lines();
    let pos = 0;
    try {
      for (;;) {
        if (!cur && !this.deleted) {
          cur = await openIfExists(this.file);
          curIno = cur ? (await cur.stat()).ino : undefined;
          lines = new Lines();
          pos = 0;
        }
        if (cur) pos = yield* drain(cur, lines, pos);
        if (!opts.follow || opts.signal.aborted) return;
        const now = await stat(this.file).catch(() => undefined);
        if (cur && now?.ino !== curIno) {
          // Rotated (or removed): what was written to the old inode is all there now.
          pos = yield* drain(cur, lines, pos);
          await cur.close();
          cur = undefined;
          // Rotated twice since the last read: the middle file is `.1` now.
          const middle = await openIfExists(`${this.file}.1`);
          try {
            if (middle && !this.deleted) {
              const ino = (await middle.stat()).ino;
              if (ino !== curIno && ino !== now?.ino) yield* drain(middle, new Lines(), 0);
            }
          } finally {
            await middle?.close();
          }
          continue;
        }
        if (this.deleted) return;
        await this.changed(opts.signal);
      }
    } finally {
      await cur?.close();
    }
  }

  private changed(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.events.off('change', wake);
        signal.removeEventListener('abort', wake);
        resolve();
      };
      this.events.on('change', wake);
      signal.addEventListener('abort', wake);
      // A safety net against a missed wake-up.
      const timer = setTimeout(wake, 2000);
    });
  }
}

async function openIfExists(file: string): Promise<FileHandle | undefined> {
  try {
    return await open(file, 'r');
  } catch {
    return undefined;
  }
}

/** Yield the complete lines of `fh` from `pos` on; returns the new position (a partial line is kept). */
async function* drain(fh: FileHandle, lines: Lines, pos: number): AsyncGenerator<string, number> {
  const buf = Buffer.alloc(64 * 1024);
  for (;;) {
    const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
    if (bytesRead === 0) return pos;
    pos += bytesRead;
    yield* lines.push(buf.subarray(0, bytesRead));
  }
}

/** Splits a byte stream into lines (without the newline); bytes of an unfinished line wait for the rest. */
export class Lines {
  private partial: Buffer = Buffer.alloc(0);
  private readonly max: number;
  constructor(max = MAX_STORED_LINE) {
    this.max = max;
  }

  *push(chunk: Buffer): Generator<string> {
    let data = this.partial.length ? Buffer.concat([this.partial, chunk]) : chunk;
    for (let nl = data.indexOf(NEWLINE); nl >= 0; nl = data.indexOf(NEWLINE)) {
      yield data.subarray(0, nl).toString('utf8');
      data = data.subarray(nl + 1);
    }
    while (data.length > this.max) {
      yield data.subarray(0, this.max).toString('utf8');
      data = data.subarray(this.max);
    }
    this.partial = Buffer.from(data);
  }

  /** What is left of an unfinished last line. */
  *end(): Generator<string> {
    if (this.partial.length) yield this.partial.toString('utf8');
    this.partial = Buffer.alloc(0);
  }
}

/** A run's stdout and stderr, line by line into the log (a returned promise holds the sandbox's writer). */
export class RunOutput {
  private readonly file: LogFile;
  private readonly streams = { stdout: new Lines(MAX_LINE), stderr: new Lines(MAX_LINE) };
  constructor(file: LogFile) {
    this.file = file;
  }

  readonly onOutput = (chunk: Buffer, stream: 'stdout' | 'stderr'): Promise<void> =>
    this.file.append([...this.streams[stream].push(chunk)]);

  /** Unfinished last lines, written once the run is over. */
  end(): Promise<void> {
    return this.file.append([...this.streams.stdout.end(), ...this.streams.stderr.end()]);
  }
}
