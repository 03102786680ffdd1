import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireHostId, HOST_ID_BASE, serviceIsRoot } from './host-identity.ts';

let lockDir: string;
beforeEach(async () => {
  lockDir = await mkdtemp(path.join(tmpdir(), 'host-ids-'));
});
afterEach(async () => {
  await rm(lockDir, { recursive: true, force: true });
});

describe.runIf(serviceIsRoot())('acquireHostId (as root)', () => {
  it('hands out distinct unprivileged ids to concurrent runs and reuses released ones', async () => {
    const leases = await Promise.all([1, 2, 3].map(() => acquireHostId({ lockDir })));
    const ids = leases.map((l) => l.id).sort();
    expect(new Set(ids).size).toBe(3);
    for (const id of ids) expect(id).toBeGreaterThanOrEqual(HOST_ID_BASE);
    await leases[0]!.release();
    const again = await acquireHostId({ lockDir });
    expect(again.id).toBe(leases[0]!.id);
    for (const l of [again, ...leases.slice(1)]) await l.release();
    expect(await readdir(lockDir)).toEqual([]);
  });

  it('skips a slot held by another live process and takes over one left by a dead process', async () => {
    // The first slot is held by a live process (this one, as another process would be); the second by a
    // pid that does not exist.
    const self = await import('node:fs/promises').then((fs) => fs.readFile('/proc/self/stat', 'utf8'));
    const start = self.slice(self.lastIndexOf(')') + 2).split(' ')[19];
    await writeFile(path.join(lockDir, String(HOST_ID_BASE)), `${process.pid} ${start}`);
    await writeFile(path.join(lockDir, String(HOST_ID_BASE + 1)), '999999999 1');
    const lease = await acquireHostId({ lockDir });
    expect(lease.id).toBe(HOST_ID_BASE + 1);
    await lease.release();
  });
});

describe('acquireHostId (not root)', () => {
  it('is the service user itself', async () => {
    if (!serviceIsRoot()) {
      const lease = await acquireHostId({ lockDir });
      expect(lease.id).toBe(process.getuid?.());
      return;
    }
    // As root (CI), check the non-root path in a child process that drops to nobody.
    const module = new URL('./host-identity.ts', import.meta.url).pathname;
    const script = `import(${JSON.stringify(module)}).then(async (m) => { const l = await m.acquireHostId(); console.log(l.id, process.getuid()); })`;
    const { stdout } = await promisify(execFile)('setpriv', [
      '--reuid=65534',
      '--regid=65534',
      '--clear-groups',
      process.execPath,
      '-e',
      script,
    ]);
    expect(stdout.trim()).toBe('65534 65534');
  });
});
