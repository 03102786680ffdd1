import { link, mkdir, mkdtemp, open, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { diskUsage, watchDiskUsage } from './disk-usage.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'disk-usage-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('diskUsage', () => {
  it('counts files, hard links once, does not follow symlinks', async () => {
    await mkdir(path.join(dir, 'a/b'), { recursive: true });
    await writeFile(path.join(dir, 'a/b/f'), Buffer.alloc(100_000, 1));
    await link(path.join(dir, 'a/b/f'), path.join(dir, 'a/hard'));
    await symlink('/usr', path.join(dir, 'usr'));
    const used = await diskUsage([dir]);
    expect(used).toBeGreaterThanOrEqual(100_000);
    expect(used).toBeLessThan(200_000);
  });

  it('counts a sparse file at its full size', async () => {
    const fh = await open(path.join(dir, 'sparse'), 'w');
    await fh.truncate(1 << 30);
    await fh.close();
    expect(await diskUsage([dir])).toBeGreaterThanOrEqual(1 << 30);
  });

  it('is 0 for missing paths', async () => {
    expect(await diskUsage([path.join(dir, 'nope')])).toBe(0);
  });
});

describe('watchDiskUsage', () => {
  it('fires once when the usage goes over the limit', async () => {
    const onExceeded = vi.fn();
    const watch = watchDiskUsage([dir], 50_000, onExceeded, 20);
    await new Promise((r) => setTimeout(r, 60));
    expect(onExceeded).not.toHaveBeenCalled();
    await writeFile(path.join(dir, 'big'), Buffer.alloc(100_000, 1));
    await vi.waitFor(() => expect(onExceeded).toHaveBeenCalledTimes(1), { timeout: 2000 });
    expect(await watch.check()).toBe(true);
    await watch.stop();
    expect(onExceeded).toHaveBeenCalledTimes(1);
  });
});
