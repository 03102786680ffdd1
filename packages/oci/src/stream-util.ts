import type { Writable } from 'node:stream';

/** Writes with backpressure; rejects instead of hanging if the stream errors or closes meanwhile. */
export function writeChunk(stream: Writable, chunk: Uint8Array): Promise<void> | undefined {
  if (stream.destroyed) throw stream.errored ?? new Error('stream closed before all data was written');
  if (stream.write(chunk)) return undefined;
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      stream.off('drain', onDrain);
      stream.off('error', onError);
      stream.off('close', onClose);
    };
    const onDrain = () => {
      cleanup();
      resolve();
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onClose = () => {
      cleanup();
      reject(stream.errored ?? new Error('stream closed before all data was written'));
    };
    stream.on('drain', onDrain);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
}

/** Runs `fn` over `items` with at most `limit` calls in flight; fails fast on the first error. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!, i);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
