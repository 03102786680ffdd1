import { walkTree } from './walk.ts';

/**
 * Bytes under `paths`, hard links counted once. A file counts max(apparent size, allocated blocks): a sparse
 * file costs nothing now but its full size when the layer is exported. Stops counting early once past
 * `stopAbove`, since the caller only needs to know that the limit was crossed.
 */
export async function diskUsage(paths: string[], stopAbove = Number.POSITIVE_INFINITY): Promise<number> {
  const seen = new Set<string>();
  let total = 0;
  for (const root of paths) {
    for await (const { stat } of walkTree(root)) {
      if (stat.nlink > 1n) {
        const key = `${stat.dev}:${stat.ino}`;
        if (seen.has(key)) continue;
        seen.add(key);
      }
      const allocated = Number(stat.blocks) * 512;
      total += stat.isFile() ? Math.max(Number(stat.size), allocated) : allocated;
      if (total > stopAbove) return total;
    }
  }
  return total;
}

/**
 * Polls diskUsage about every `intervalMs` (never more often than twice the time a walk takes, so a huge tree
 * does not keep the service busy) and calls `onExceeded` once when the usage is above `bytes`.
 */
export function watchDiskUsage(
  paths: string[],
  bytes: number,
  onExceeded: (usedBytes: number) => void,
  intervalMs = 1000,
): { stop(): Promise<void>; check(): Promise<boolean> } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<boolean> = Promise.resolve(false);
  let fired = false;
  const check = async (): Promise<boolean> => {
    if (fired) return true;
    const used = await diskUsage(paths, bytes);
    if (used > bytes && !fired) {
      fired = true;
      onExceeded(used);
    }
    return fired;
  };
  const tick = () => {
    const started = performance.now();
    running = check()
      .catch(() => false)
      .finally(() => {
        if (stopped || fired) return;
        const took = performance.now() - started;
        timer = setTimeout(tick, Math.max(intervalMs, 2 * took));
      });
  };
  timer = setTimeout(tick, intervalMs);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
    // A last look after the run: a filler that finishes between two polls is still caught.
    async check() {
      await running;
      return check().catch(() => false);
    },
  };
}
