import { open, readFile, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';

export interface LockOptions {
  /** Give up after this long (default 60 s). */
  timeoutMs?: number;
  /** A lock older than this is considered left behind by a crashed process (default 120 s). */
  staleMs?: number;
}

const chains = new Map<string, Promise<unknown>>();

/**
 * Runs `fn` while holding `lockPath`: serialised in-process by a promise chain per path (cheap, fair) and
 * across processes by an O_EXCL lock file holding "pid@host". A lock whose owner is dead (same host) or
 * that is older than `staleMs` is broken. Holders must be short: they only read-modify-rename a file.
 */
export function withFileLock<T>(
  lockPath: string,
  fn: () => Promise<T>,
  options: LockOptions = {},
): Promise<T> {
  const prev = chains.get(lockPath) ?? Promise.resolve();
  const run = prev.then(
    () => holdLock(lockPath, fn, options),
    () => holdLock(lockPath, fn, options),
  );
  const tail = run.catch(() => {});
  chains.set(lockPath, tail);
  void tail.then(() => {
    if (chains.get(lockPath) === tail) chains.delete(lockPath);
  });
  return run;
}

async function holdLock<T>(lockPath: string, fn: () => Promise<T>, options: LockOptions): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const staleMs = options.staleMs ?? 120_000;
  const owner = `${process.pid}@${hostname()}`;
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    try {
      const fh = await open(lockPath, 'wx');
      await fh.writeFile(owner);
      await fh.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (await isStale(lockPath, staleMs)) {
      await unlink(lockPath).catch(() => {});
      continue;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for lock ${lockPath}`);
    await new Promise((r) => setTimeout(r, Math.min(100, 2 + attempt * 5) * (0.5 + Math.random())));
  }
  try {
    return await fn();
  } finally {
    await unlink(lockPath).catch(() => {});
  }
}

async function isStale(lockPath: string, staleMs: number): Promise<boolean> {
  try {
    const [content, st] = await Promise.all([readFile(lockPath, 'utf8'), stat(lockPath)]);
    if (Date.now() - st.mtimeMs > staleMs) return true;
    const [pid, host] = content.split('@');
    if (host !== hostname() || !pid) return false;
    try {
      process.kill(Number(pid), 0);
      return false;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'ESRCH';
    }
  } catch {
    return false; // vanished or half-written: just retry
  }
}
