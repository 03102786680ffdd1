import { inspect } from 'node:util';

/** Where output goes; tests pass buffers, the real CLI passes process.stdout/stderr. */
export interface Streams {
  stdout: { write(s: string): unknown; isTTY?: boolean };
  stderr: { write(s: string): unknown; isTTY?: boolean };
}

export interface OutputOptions {
  json: boolean;
  verbose: boolean;
  debug: boolean;
  color?: boolean;
}

const STYLES = { red: 31, green: 32, yellow: 33, blue: 34, bold: 1, dim: 2 } as const;
export type Style = keyof typeof STYLES;

/**
 * The only place that writes to the terminal. Results go to stdout (JSON under --json); progress,
 * info, warnings and human-readable errors go to stderr so `--json` output can always be piped.
 */
export class Output {
  readonly opts: OutputOptions;
  private readonly streams: Streams;
  constructor(streams: Streams, opts: OutputOptions) {
    this.streams = streams;
    this.opts = { ...opts, color: opts.color ?? (Boolean(streams.stderr.isTTY) && !process.env.NO_COLOR) };
  }
  style(text: string, style: Style): string {
    return this.opts.color ? `\x1b[${STYLES[style]}m${text}\x1b[0m` : text;
  }
  /** A command's result: JSON under --json, otherwise the human rendering. */
  result<T>(data: T, render: (data: T) => string): void {
    if (this.opts.json) this.streams.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    else {
      const text = render(data);
      if (text) this.streams.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    }
  }
  /** Plain text to stdout (log lines while following a build). */
  line(text: string): void {
    this.streams.stdout.write(`${text}\n`);
  }
  info(text: string): void {
    if (!this.opts.json) this.streams.stderr.write(`${this.style(text, 'blue')}\n`);
  }
  warn(text: string): void {
    if (!this.opts.json) this.streams.stderr.write(`${this.style('Warning:', 'yellow')} ${text}\n`);
  }
  progress(text: string): void {
    if (!this.opts.json) this.streams.stderr.write(`${this.style(text, 'dim')}\n`);
  }
  verbose(text: string): void {
    if (this.opts.verbose || this.opts.debug) this.streams.stderr.write(`${text}\n`);
  }
  debug(label: string, value: unknown): void {
    if (this.opts.debug) this.streams.stderr.write(`debug: ${label}: ${inspect(value, { depth: 6 })}\n`);
  }
  error(err: {
    message: string;
    hint?: string | undefined;
    code?: string | undefined;
    cause?: unknown;
  }): void {
    if (this.opts.json) {
      const body = {
        error: { code: err.code ?? 'ERROR', message: err.message, ...(err.hint ? { hint: err.hint } : {}) },
      };
      this.streams.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
      return;
    }
    this.streams.stderr.write(`${this.style('Error:', 'red')} ${err.message}\n`);
    if (err.hint) this.streams.stderr.write(`hint: ${err.hint}\n`);
    if (this.opts.debug && err.cause)
      this.streams.stderr.write(`cause: ${inspect(err.cause, { depth: 4 })}\n`);
  }
}
