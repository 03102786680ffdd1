import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { PreviousLayers } from './build-phase.ts';
import type { BuildCache } from './cache.ts';
import { bpId, escapeId } from './descriptor.ts';
import type { LifecycleMetadata } from './labels.ts';
import type { GroupElement } from './order.ts';
import { toToml } from './toml.ts';

/**
 * Before build: for each buildpack of the group, bring back its cached layers (contents + metadata), the
 * metadata of its launch-only layers from the previous image (contents stay in that image and are reused by
 * the exporter), and its store.toml. Restored `<layer>.toml` files carry only [metadata]: a buildpack must
 * set [types] again to keep a layer.
 */
export async function restorePhase(
  group: GroupElement[],
  layersDir: string,
  previous: LifecycleMetadata,
  cache: BuildCache | undefined,
  log: (text: string) => void,
): Promise<PreviousLayers> {
  const reusable: PreviousLayers = new Map();
  const cached = cache?.metadata() ?? { buildpacks: [] };
  for (const { buildpack } of group) {
    const id = bpId(buildpack);
    const dir = path.join(layersDir, escapeId(id));
    mkdirSync(dir, { recursive: true });
    const prev = previous.buildpacks.find((b) => b.key === id);
    if (prev?.store) writeFileSync(path.join(dir, 'store.toml'), toToml({ metadata: prev.store.metadata }));
    const launchOnly = new Set<string>();
    for (const [name, layer] of Object.entries(prev?.layers ?? {})) {
      if (!layer.launch || layer.cache || layer.build) continue;
      writeFileSync(path.join(dir, `${name}.toml`), toToml({ metadata: layer.data }));
      launchOnly.add(name);
    }
    reusable.set(id, launchOnly);
    for (const [name, layer] of Object.entries(cached.buildpacks.find((b) => b.key === id)?.layers ?? {})) {
      if (!layer.cache || existsSync(path.join(dir, name))) continue;
      if (await cache?.restoreLayer(id, name, path.join(dir, name))) {
        writeFileSync(path.join(dir, `${name}.toml`), toToml({ metadata: layer.data }));
        log(`Restored cached layer ${id}:${name}`);
      }
    }
    // A previous launch layer that is also cached came back with contents: the cache version wins.
    for (const name of [...launchOnly]) if (existsSync(path.join(dir, name))) launchOnly.delete(name);
  }
  return reusable;
}
