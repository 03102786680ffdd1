import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import { escapeId } from './descriptor.ts';

const run = promisify(execFile);

/**
 * The embedded engine's build cache for one tool+image: a directory per cached layer plus a metadata file,
 * swapped in atomically (committed/ ← staging/). The lifecycle's volume cache stores tarballs instead; a
 * directory restores with one copy and saves with one rename, which is what a single machine wants.
 */
const CacheMetadataSchema = z.object({
  buildpacks: z.array(
    z.object({
      key: z.string(),
      version: z.string(),
      layers: z.record(
        z.string(),
        z.object({
          data: z.record(z.string(), z.unknown()).default({}),
          build: z.boolean(),
          launch: z.boolean(),
          cache: z.boolean(),
        }),
      ),
    }),
  ),
});
export type CacheMetadata = z.infer<typeof CacheMetadataSchema>;

/** A layer of a finished build, as export hands it to the cache. */
export interface CachedLayer {
  bpId: string;
  version: string;
  name: string;
  dir: string;
  types: { build: boolean; launch: boolean; cache: boolean };
  data: Record<string, unknown>;
}

export class BuildCache {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = dir;
  }
  private get committed() {
    return path.join(this.dir, 'committed');
  }

  metadata(): CacheMetadata {
    const file = path.join(this.committed, 'metadata.json');
    if (!existsSync(file)) return { buildpacks: [] };
    const parsed = CacheMetadataSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return parsed.success ? parsed.data : { buildpacks: [] };
  }

  /** Host folder of a cached layer, when it is in the cache. */
  layerDir(bpId: string, layer: string): string | undefined {
    const dir = path.join(this.committed, 'layers', escapeId(bpId), layer);
    return existsSync(dir) ? dir : undefined;
  }

  /** Copy a cached layer into a build (a copy, so a failed build cannot damage the cache). */
  async restoreLayer(bpId: string, layer: string, dest: string): Promise<boolean> {
    const src = this.layerDir(bpId, layer);
    if (!src) return false;
    await run('cp', ['-a', '--reflink=auto', '--', src, dest]);
    return true;
  }

  /**
   * Replace the cache with the given layers, moved (not copied) out of a finished build. Runs only after a
   * successful export; a crash halfway leaves the previous cache in place.
   */
  async save(layers: CachedLayer[]): Promise<void> {
    const staging = path.join(this.dir, 'staging');
    await rm(staging, { recursive: true, force: true });
    mkdirSync(path.join(staging, 'layers'), { recursive: true });
    const meta: CacheMetadata = { buildpacks: [] };
    for (const l of layers) {
      const dest = path.join(staging, 'layers', escapeId(l.bpId));
      mkdirSync(dest, { recursive: true });
      await rename(l.dir, path.join(dest, l.name));
      let bp = meta.buildpacks.find((b) => b.key === l.bpId);
      if (!bp) {
        bp = { key: l.bpId, version: l.version, layers: {} };
        meta.buildpacks.push(bp);
      }
      bp.layers[l.name] = { data: l.data, ...l.types };
    }
    writeFileSync(path.join(staging, 'metadata.json'), JSON.stringify(meta));
    const backup = path.join(this.dir, 'committed-backup');
    await rm(backup, { recursive: true, force: true });
    if (existsSync(this.committed)) await rename(this.committed, backup);
    await rename(staging, this.committed);
    await rm(backup, { recursive: true, force: true });
  }

  async clear(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
