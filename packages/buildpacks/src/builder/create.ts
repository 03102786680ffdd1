import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  type Descriptor,
  decompress,
  type ImageLayer,
  type LayerEntry,
  layerFromEntries,
  type OciLayout,
  readImage,
  readTar,
  writeImage,
} from '@toolforge/oci';
import { toToml } from '../platform/toml.ts';
import { BUILDPACKS_HASH_LABEL } from '../stack-store/labels.ts';
import { buildpackLayer, existsDir, SHARED_LIB_DIR } from './buildpack-layer.ts';
import type { LoadedDefinition } from './definition.ts';

const _run = promisify(execFile);
const CREATED = '1980-01-01T00:00:01Z';

function walkFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) walkFiles(p, out);
    else out.push(p);
  }
  return out;
}

/** A fingerprint of everything a builder is made of, so `ensure` rebuilds it only when something changed. */
export function definitionHash(def: LoadedDefinition, baseDigest: string): string {
  const h = createHash('sha256').update(baseDigest).update(readFileSync(def.file));
  const files = [
    ...def.buildpackDirs.flatMap((d) => walkFiles(d)),
    ...(existsDir(SHARED_LIB_DIR) ? walkFiles(SHARED_LIB_DIR) : []),
  ];
  for (const f of files)
    h.update(f)
      .update(String(statSync(f).mode & 0o111))
      .update(readFileSync(f));
  return h.digest('hex');
}

export const builderRepo = (name: string) => `toolforge/${name}-builder`;

/**
 * The run image's dpkg status, inside the builder: buildpacks that install Debian packages into launch
 * layers (apt, python, php) resolve against it, so they add exactly what the run image lacks.
 */
export const RUN_IMAGE_STATUS = '/cnb/toolforge/run-image-dpkg-status';

async function runImageDpkgStatus(layout: OciLayout, ref: string): Promise<string | undefined> {
  const image = await readImage(layout, ref);
  let status: string | undefined;
  for (const layer of image.manifest.layers) {
    for await (const entry of readTar(decompress(layout.openBlob(layer.digest)))) {
      const name = entry.header.name.replace(/^\.?\//, '');
      if (name === 'var/lib/dpkg/status' && entry.header.type === 'file')
        status = (await entry.buffer()).toString('utf8');
    }
  }
  return status;
}

/**
 * Make a builder image: the build image, one layer per buildpack at /cnb/buildpacks/<id>/<version>
 * (CNB distribution spec), and a layer with /cnb/order.toml, /cnb/run.toml and the platform folders, with
 * the builder labels. Tagged `<tag>` and `latest` in the stack store.
 */
export async function createBuilder(
  layout: OciLayout,
  def: LoadedDefinition,
  opts: { tag: string; buildImage: string; runImage: string },
): Promise<{ ref: string; descriptor: Descriptor }> {
  const base = await readImage(layout, opts.buildImage);
  const uid = Number(
    base.config.config?.Env?.find((e) => e.startsWith('CNB_USER_ID='))?.split('=')[1] ?? 1000,
  );
  const gid = Number(
    base.config.config?.Env?.find((e) => e.startsWith('CNB_GROUP_ID='))?.split('=')[1] ?? 1000,
  );
  const stage = await mkdtemp(path.join(os.tmpdir(), 'tf-builder-'));
  try {
    const layers: ImageLayer[] = [];
    const layerInfo: Record<string, Record<string, unknown>> = {};
    const history: { created: string; created_by: string }[] = [];
    const bpList: { id: string; version: string; homepage?: string }[] = [];
    for (const dir of def.buildpackDirs) {
      const { descriptor, layer } = await buildpackLayer(layout, dir, stage);
      const { id, version } = descriptor.buildpack;
      layers.push(layer);
      layerInfo[id] = {
        [version]: {
          api: descriptor.api,
          layerDiffID: layer.diffID,
          ...(descriptor.targets ? { targets: descriptor.targets } : {}),
        },
      };
      history.push({ created: CREATED, created_by: `buildpack ${id}@${version}` });
      bpList.push({
        id,
        version,
        ...(descriptor.buildpack.homepage ? { homepage: descriptor.buildpack.homepage } : {}),
      });
    }
    const order = def.definition.order.map((o) => ({
      group: o.group.map((g) => ({
        id: g.id,
        ...(g.version ? { version: g.version } : {}),
        optional: g.optional,
      })),
    }));
    const own = { uid, gid, mode: 0o755 };
    const runStatus = await runImageDpkgStatus(layout, opts.runImage);
    const entries: LayerEntry[] = [
      { name: '/cnb', type: 'directory', mode: 0o755, uid: 0, gid: 0 },
      ...(runStatus
        ? ([
            { name: '/cnb/toolforge', type: 'directory', mode: 0o755, uid: 0, gid: 0 },
            { name: RUN_IMAGE_STATUS, type: 'file', mode: 0o644, uid: 0, gid: 0, data: runStatus },
          ] as LayerEntry[])
        : []),
      { name: '/cnb/order.toml', type: 'file', mode: 0o644, uid: 0, gid: 0, data: toToml({ order }) },
      {
        name: '/cnb/run.toml',
        type: 'file',
        mode: 0o644,
        uid: 0,
        gid: 0,
        data: toToml({ images: [{ image: opts.runImage }] }),
      },
      {
        name: '/cnb/stack.toml',
        type: 'file',
        mode: 0o644,
        uid: 0,
        gid: 0,
        data: toToml({ 'run-image': { image: opts.runImage } }),
      },
      { name: '/workspace', type: 'directory', ...own },
      { name: '/layers', type: 'directory', ...own },
      { name: '/platform', type: 'directory', mode: 0o755, uid: 0, gid: 0 },
    ];
    const configEnv = Object.entries(def.definition['build-config-env']);
    if (configEnv.length) {
      entries.push({ name: '/cnb/build-config', type: 'directory', mode: 0o755, uid: 0, gid: 0 });
      entries.push({ name: '/cnb/build-config/env', type: 'directory', mode: 0o755, uid: 0, gid: 0 });
      for (const [k, v] of configEnv)
        entries.push({
          name: `/cnb/build-config/env/${k}`,
          type: 'file',
          mode: 0o644,
          uid: 0,
          gid: 0,
          data: v,
        });
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : 1));
    const file = layout.tempPath('.layer');
    const r = await layerFromEntries(entries, file);
    await layout.putBlobFile(file, { move: true, trusted: true, digest: r.digest, size: r.size });
    layers.push({ mediaType: r.mediaType, digest: r.digest, size: r.size, diffID: r.diffID });
    history.push({ created: CREATED, created_by: 'builder order and platform folders' });

    const baseLayers: ImageLayer[] = base.manifest.layers.map((d, i) => ({
      ...d,
      diffID: base.config.rootfs.diff_ids[i] ?? '',
    }));
    const cfg = base.config.config ?? {};
    const ref = `${builderRepo(def.name)}:${opts.tag}`;
    const written = await writeImage(layout, {
      config: {
        created: CREATED,
        architecture: base.config.architecture,
        os: base.config.os,
        config: {
          ...cfg,
          Env: [
            ...(cfg.Env ?? []),
            'CNB_APP_DIR=/workspace',
            'CNB_LAYERS_DIR=/layers',
            'CNB_PLATFORM_DIR=/platform',
          ],
          Labels: {
            ...(cfg.Labels ?? {}),
            'io.buildpacks.builder.metadata': JSON.stringify({
              description: def.definition.description,
              stack: { runImage: { image: opts.runImage, mirrors: [] } },
              buildpacks: bpList,
              createdBy: { name: 'Toolforge build service', version: '0.1.0' },
            }),
            'io.buildpacks.buildpack.order': JSON.stringify(order),
            'io.buildpacks.buildpack.layers': JSON.stringify(layerInfo),
            'io.buildpacks.builder.api': '0.2',
            [BUILDPACKS_HASH_LABEL]: definitionHash(
              def,
              `${base.descriptor.digest}+${(await readImage(layout, opts.runImage)).descriptor.digest}`,
            ),
          },
        },
        history: [...(base.config.history ?? []), ...history],
      },
      layers: [...baseLayers, ...layers],
      ref,
    });
    await layout.tag(`${builderRepo(def.name)}:latest`, written.manifest);
    return { ref, descriptor: written.manifest };
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}
