import { describe, expect, it } from 'vitest';
import { limiter, mapConcurrent } from './concurrency.ts';

/** A task that records how many run at once, finishing in an order unlike the input's. */
function tracked() {
  let active = 0;
  let most = 0;
  const run = async <T>(value: T, ms: number): Promise<T> => {
    active++;
    most = Math.max(most, active);
    await new Promise((r) => setTimeout(r, ms));
    active--;
    return value;
  };
  return { run, most: () => most };
}

describe('bounded concurrency (the matrix build and package fetches)', () => {
  it('mapConcurrent never has more than the limit in flight, and keeps the input order', async () => {
    const t = tracked();
    const items = [5, 1, 4, 2, 3, 1, 5, 2];
    expect(await mapConcurrent(items, 3, (x) => t.run(x * 10, x * 3))).toEqual(items.map((x) => x * 10));
    expect(t.most()).toBe(3);
  });

  it('mapConcurrent runs one at a time for a limit below 1, and handles no items', async () => {
    const t = tracked();
    expect(await mapConcurrent([1, 2, 3], 0, (x) => t.run(x, 1))).toEqual([1, 2, 3]);
    expect(t.most()).toBe(1);
    expect(await mapConcurrent([], 4, async () => 1)).toEqual([]);
  });

  it('limiter bounds calls made from anywhere, and a failing call frees its slot', async () => {
    const t = tracked();
    const limit = limiter(2);
    const calls = [3, 1, 2, 4, 1].map((ms, i) =>
      limit(() => (i === 1 ? Promise.reject(new Error('boom')) : t.run(ms, ms))),
    );
    const settled = await Promise.allSettled(calls);
    expect(settled.map((s) => s.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
      'fulfilled',
    ]);
    expect(t.most()).toBe(2);
  });
});
