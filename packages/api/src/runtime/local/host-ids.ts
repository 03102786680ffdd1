import { mkdir } from 'node:fs/promises';
import { acquireHostId, type HostIdLease, prepareWritable } from '@toolforge/buildpacks/sandbox';

/**
 * One sandbox host id per tool, held while the tool has workloads (as on Toolforge, where all of a tool's
 * pods run as the tool's uid): the files its workloads write in its home stay theirs from run to run.
 */
export class ToolHostIds {
  private readonly leases = new Map<string, Promise<HostIdLease>>();
  /** Homes already handed to the tool's current id (a chown walk once per id, not per run). */
  private readonly prepared = new Map<string, number>();

  id(tool: string): Promise<number> {
    let lease = this.leases.get(tool);
    if (!lease) {
      lease = acquireHostId();
      this.leases.set(tool, lease);
      lease.catch(() => this.leases.delete(tool));
    }
    return lease.then((l) => l.id);
  }

  /** Create the tool's home (0700) and make it the host id's, so the sandbox user can write there. */
  async prepareHome(tool: string, home: string): Promise<void> {
    const id = await this.id(tool);
    await mkdir(home, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
    if (this.prepared.get(tool) === id) return;
    await prepareWritable([home], id);
    this.prepared.set(tool, id);
  }

  async release(tool: string): Promise<void> {
    const lease = this.leases.get(tool);
    this.leases.delete(tool);
    this.prepared.delete(tool);
    await (await lease?.catch(() => undefined))?.release();
  }

  async releaseAll(): Promise<void> {
    await Promise.all([...this.leases.keys()].map((t) => this.release(t)));
  }
}
