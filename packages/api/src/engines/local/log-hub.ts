import { EventEmitter } from 'node:events';
import type { BuildLog } from '../../contract/index.ts';
import type { BuildsRepo } from '../../store/builds-repo.ts';

/**
 * Durable build logs with live followers: lines are written to the store first, then announced, so a
 * follower that replays from the store and then waits never misses or repeats a line.
 */
export class LogHub {
  private readonly repo: BuildsRepo;
  private readonly events = new EventEmitter();
  private readonly pending = new Map<string, string[]>();
  private timer: NodeJS.Timeout | undefined;
  followers = 0;
  constructor(repo: BuildsRepo) {
    this.repo = repo;
    this.events.setMaxListeners(0);
  }

  /** `[<step>] <RFC 3339 timestamp> <text>`, the reference's line shape. */
  static format(step: string, text: string, at = new Date()): string {
    return `[${step}] ${at.toISOString()} ${text}`;
  }

  /** Queue a line; lines are flushed in batches (every 100 ms, or at once when ended). */
  append(buildId: string, step: string, text: string): void {
    let list = this.pending.get(buildId);
    if (!list) {
      list = [];
      this.pending.set(buildId, list);
    }
    list.push(LogHub.format(step, text));
    this.timer ??= setTimeout(() => this.flush(), 100);
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const [id, lines] of this.pending) {
      this.pending.delete(id);
      try {
        this.repo.appendLogs(id, lines);
      } catch {
        continue; // the build was deleted meanwhile
      }
      this.events.emit(id);
    }
  }

  /** Tell followers the build ended (after its last lines were flushed). */
  ended(buildId: string): void {
    this.flush();
    this.events.emit(buildId);
    this.events.emit(`${buildId}:end`);
  }

  /**
   * Replay and (optionally) follow. `isDone` is checked after each drained batch so a follow ends once the
   * build has ended and every line was sent; `exists` turns a deletion mid-follow into an end.
   */
  async *read(
    buildId: string,
    opts: { follow: boolean; signal: AbortSignal; isDone: () => boolean; exists: () => boolean },
  ): AsyncGenerator<BuildLog> {
    let seq = 0;
    if (opts.follow) this.followers++;
    try {
      for (;;) {
        const rows = this.repo.readLogs(buildId, seq, 500);
        for (const r of rows) {
          seq = r.seq;
          yield { line: r.line };
        }
        if (rows.length === 500) continue;
        if (!opts.follow || opts.signal.aborted || !opts.exists()) return;
        if (opts.isDone()) {
          if (this.repo.readLogs(buildId, seq, 1).length) continue;
          return;
        }
        await new Promise<void>((resolve) => {
          const wake = () => {
            this.events.off(buildId, wake);
            opts.signal.removeEventListener('abort', wake);
            resolve();
          };
          this.events.on(buildId, wake);
          opts.signal.addEventListener('abort', wake);
          // A safety net against a missed wake-up (e.g. another process wrote the line).
          setTimeout(wake, 2000).unref();
        });
      }
    } finally {
      if (opts.follow) this.followers--;
    }
  }
}
