import { readFileSync } from 'node:fs';
import { link, rm } from 'node:fs/promises';
import {
  type Descriptor,
  type HistoryEntry,
  type ImageConfig,
  type ImageLayer,
  type LayerResult,
  layerFromDirectory,
  layerFromEntries,
  mapLimit,
  type OciLayout,
  writeImage,
} from '@toolforge/oci';
import type { BuiltBuildpack } from './build-phase.ts';
import type { CachedLayer } from './cache.ts';
import type { BuildRequest, PreviousImage } from './context.ts';
import { bpId, bpVersion, escapeId, PLATFORM_API } from './descriptor.ts';
import { PATHS } from './exec.ts';
import { BuildFailure } from './failure.ts';
import { BUILD_METADATA, LIFECYCLE_METADATA, type LifecycleMetadata, PROJECT_METADATA } from './labels.ts';
import {
  configLayerEntries,
  launcherLayerEntries,
  metadataToml,
  processTypesLayerEntries,
} from './launch-config.ts';
import { mergeProcesses } from './processes.ts';

export const CREATED = '1980-01-01T00:00:01Z';
export const LAUNCHER_VERSION = 'toolforge-launcher 0.1.0';
const LAUNCHER_SCRIPT = readFileSync(new URL('../launcher/launcher.sh', import.meta.url), 'utf8');

export interface Exported {
  manifest: Descriptor;
  processes: { type: string; command: string[] }[];
  defaultType: string | undefined;
  reusedLayers: number;
  /** Launch layers that are also cache layers, for saving the cache. */
  layers: CachedLayer[];
}

type Job =
  | { history: string; make: (file: string) => Promise<LayerResult> }
  | { history: string; reuse: ImageLayer };

/** Make sure a blob of another layout (the stack store) is in the output layout: a hard link, else a copy. */
async function ensureBlob(from: OciLayout, to: OciLayout, d: Descriptor): Promise<void> {
  if (await to.hasBlob(d.digest)) return;
  const tmp = to.tempPath('.link');
  try {
    await link(from.blobPath(d.digest), tmp);
    await to.putBlobFile(tmp, { move: true, trusted: true, digest: d.digest, size: d.size });
  } catch {
    await rm(tmp, { force: true });
    await to.putBlob(from.openBlob(d.digest), { digest: d.digest, size: d.size });
  }
}

function previousLayer(previous: PreviousImage | undefined, diffID: string): ImageLayer | undefined {
  if (!previous) return undefined;
  const i = previous.config.rootfs.diff_ids.indexOf(diffID);
  const d = previous.manifest.layers[i];
  return i >= 0 && d ? { ...d, diffID } : undefined;
}

/**
 * Write the app image: the run image's layers, then buildpack launch layers (group order, layers by
 * name), the app, the launcher, its config and the process-type symlinks, with the lifecycle's labels.
 * Every layer is normalised (sorted entries, 1980 timestamps, CNB uid/gid), so the digest only depends on
 * the inputs.
 */
export async function exportPhase(
  req: BuildRequest,
  built: BuiltBuildpack[],
  previousMeta: LifecycleMetadata,
): Promise<Exported> {
  const layout = req.output.layout;
  const { uid, gid } = req.builder;
  const merged = mergeProcesses(
    built.map((b) => ({ buildpackId: bpId(b.buildpack), processes: b.outputs.launch.processes })),
    PATHS.app,
  );
  let defaultType = merged.defaultType;
  if (req.processType) {
    if (!merged.processes.some((p) => p.type === req.processType)) {
      throw new BuildFailure(
        'export',
        'EXPORT_FAILED',
        `process type "${req.processType}" is not defined by any buildpack`,
        {
          hint: `Known process types: ${merged.processes.map((p) => p.type).join(', ') || 'none'}.`,
        },
      );
    }
    defaultType = req.processType;
  }
  const labels = new Map<string, string>();
  for (const b of built) for (const l of b.outputs.launch.labels) labels.set(l.key, l.value);

  const jobs: Job[] = [];
  const bpMeta: LifecycleMetadata['buildpacks'] & { store?: unknown }[] = [];
  const launchLayers: string[] = [];
  const cacheLayers: Exported['layers'] = [];
  const shaSetters: ((diffID: string) => void)[] = [];
  const parents = (esc: string) => [
    { name: PATHS.layers, uid, gid, mode: 0o755 },
    { name: `${PATHS.layers}/${esc}`, uid, gid, mode: 0o755 },
  ];
  for (const b of built) {
    const id = bpId(b.buildpack);
    const esc = escapeId(id);
    const meta: LifecycleMetadata['buildpacks'][number] = {
      key: id,
      version: bpVersion(b.buildpack),
      layers: {},
    };
    if (b.outputs.store) meta.store = { metadata: b.outputs.store };
    bpMeta.push(meta);
    for (const layer of [...b.outputs.layers].sort((x, y) => (x.name < y.name ? -1 : 1))) {
      const types = layer.toml.types;
      if (types.cache && layer.hasContents) {
        cacheLayers.push({
          bpId: id,
          version: bpVersion(b.buildpack),
          name: layer.name,
          dir: layer.dir,
          types,
          data: layer.toml.metadata,
        });
      }
      if (!types.launch) continue;
      launchLayers.push(`${esc}/${layer.name}`);
      const entry = {
        sha: '',
        data: layer.toml.metadata,
        build: types.build,
        launch: true,
        cache: types.cache,
      };
      meta.layers[layer.name] = entry;
      const history = `Layer: '${layer.name}', Created by buildpack: ${id}@${bpVersion(b.buildpack)}`;
      if (layer.hasContents) {
        jobs.push({
          history,
          make: (file) =>
            layerFromDirectory(
              {
                root: layer.dir,
                prefix: `${PATHS.layers}/${esc}/${layer.name}`,
                parents: parents(esc),
                uid,
                gid,
              },
              file,
            ),
        });
        shaSetters.push((d) => (entry.sha = d));
      } else {
        const prevSha = previousMeta.buildpacks.find((p) => p.key === id)?.layers[layer.name]?.sha ?? '';
        const reuse = previousLayer(req.previous, prevSha);
        if (!reuse) {
          throw new BuildFailure(
            'export',
            'EXPORT_FAILED',
            `${id}: layer "${layer.name}" cannot be reused: the previous image does not have it`,
            { buildpack: id },
          );
        }
        entry.sha = prevSha;
        jobs.push({ history, reuse });
        shaSetters.push(() => {});
      }
    }
  }
  const appIndex = jobs.length;
  jobs.push({
    history: 'Application Layer',
    make: (file) => layerFromDirectory({ root: req.appDir, prefix: PATHS.app, uid, gid }, file),
  });
  jobs.push({
    history: 'Buildpacks Application Launcher',
    make: (file) => layerFromEntries(launcherLayerEntries(LAUNCHER_SCRIPT), file),
  });
  const group = built.map((b) => ({
    id: bpId(b.buildpack),
    version: bpVersion(b.buildpack),
    api: b.buildpack.descriptor.api,
  }));
  const toml = metadataToml({
    buildpacks: group,
    processes: merged.processes,
    defaultType,
    labels: [...labels].map(([key, value]) => ({ key, value })),
  });
  jobs.push({
    history: 'Buildpacks Launcher Config',
    make: (file) =>
      layerFromEntries(
        configLayerEntries({
          layersDir: PATHS.layers,
          uid,
          gid,
          metadataToml: toml,
          processes: merged.processes,
          defaultType,
          launchLayers,
        }),
        file,
      ),
  });
  if (merged.processes.length) {
    jobs.push({
      history: 'Buildpacks Process Types',
      make: (file) => layerFromEntries(processTypesLayerEntries(merged.processes.map((p) => p.type)), file),
    });
  }

  let reused = 0;
  const results = await mapLimit(jobs, 3, async (job): Promise<ImageLayer> => {
    if ('reuse' in job) {
      reused++;
      return job.reuse;
    }
    const file = layout.tempPath('.layer');
    try {
      const r = await job.make(file);
      await layout.putBlobFile(file, { move: true, trusted: true, digest: r.digest, size: r.size });
      return { mediaType: r.mediaType, digest: r.digest, size: r.size, diffID: r.diffID };
    } catch (err) {
      await rm(file, { force: true });
      throw new BuildFailure(
        'export',
        'EXPORT_FAILED',
        `could not write the image layer "${job.history}": ${(err as Error).message}`,
        { cause: err },
      );
    }
  });
  for (const [i, r] of results.slice(0, appIndex).entries()) shaSetters[i]?.(r.diffID ?? '');
  const diff = (i: number) => results[i]?.diffID ?? '';

  const run = req.runImage;
  for (const d of run.manifest.layers) await ensureBlob(run.layout, layout, d);
  const runConfig = run.config.config ?? {};
  const runEnv = (runConfig.Env ?? []).filter((e) => !e.startsWith('PATH='));
  const runPath =
    (runConfig.Env ?? []).find((e) => e.startsWith('PATH='))?.slice(5) ?? '/usr/local/bin:/usr/bin:/bin';
  const lifecycleMeta = {
    app: [{ sha: diff(appIndex) }],
    config: { sha: diff(appIndex + 2) },
    launcher: { sha: diff(appIndex + 1) },
    ...(merged.processes.length ? { 'process-types': { sha: diff(appIndex + 3) } } : {}),
    buildpacks: bpMeta,
    runImage: {
      topLayer: run.config.rootfs.diff_ids.at(-1) ?? '',
      reference: run.reference,
      image: run.image,
    },
    stack: { runImage: { image: run.image } },
  };
  const buildMeta = {
    buildpacks: built.map((b) => ({
      id: bpId(b.buildpack),
      version: bpVersion(b.buildpack),
      api: b.buildpack.descriptor.api,
      ...(b.buildpack.descriptor.buildpack.homepage
        ? { homepage: b.buildpack.descriptor.buildpack.homepage }
        : {}),
    })),
    extensions: [],
    processes: merged.processes.map((p) => ({
      type: p.type,
      command: p.command,
      args: p.args,
      direct: p.direct,
      buildpackID: p.buildpackId,
      'working-dir': p.workingDir,
    })),
    ...(defaultType ? { 'buildpack-default-process-type': defaultType } : {}),
    launcher: { version: LAUNCHER_VERSION },
  };
  const project = req.project?.commit
    ? {
        source: {
          type: 'git',
          version: { commit: req.project.commit },
          metadata: { repository: req.project.repository ?? '' },
        },
      }
    : {};
  const runHistory: HistoryEntry[] = run.config.history?.length
    ? run.config.history
    : run.manifest.layers.map(() => ({ created: CREATED, created_by: 'run image layer' }));
  const config: Omit<ImageConfig, 'rootfs'> = {
    created: CREATED,
    architecture: run.config.architecture,
    os: run.config.os,
    ...(run.config.variant ? { variant: run.config.variant } : {}),
    config: {
      ...runConfig,
      Env: [
        ...runEnv,
        `CNB_LAYERS_DIR=${PATHS.layers}`,
        `CNB_APP_DIR=${PATHS.app}`,
        `CNB_PLATFORM_API=${PLATFORM_API}`,
        'CNB_DEPRECATION_MODE=quiet',
        `PATH=/cnb/process:/cnb/lifecycle:${runPath}`,
      ],
      Entrypoint: defaultType ? [`/cnb/process/${defaultType}`] : ['/cnb/lifecycle/launcher'],
      WorkingDir: PATHS.app,
      Labels: {
        ...(runConfig.Labels ?? {}),
        ...Object.fromEntries(labels),
        [LIFECYCLE_METADATA]: JSON.stringify(lifecycleMeta),
        [BUILD_METADATA]: JSON.stringify(buildMeta),
        [PROJECT_METADATA]: JSON.stringify(project),
      },
    },
    history: [...runHistory, ...jobs.map((j) => ({ created: CREATED, created_by: j.history }))],
  };
  delete (config.config as { Cmd?: unknown }).Cmd;
  const runLayers: ImageLayer[] = run.manifest.layers.map((d, i) => ({
    ...d,
    diffID: run.config.rootfs.diff_ids[i] ?? '',
  }));
  const written = await writeImage(layout, {
    config,
    layers: [...runLayers, ...results],
    format: run.manifest.mediaType?.includes('docker') ? 'docker' : 'oci',
    ref: req.output.refName,
  });
  return {
    manifest: written.manifest,
    processes: merged.processes.map((p) => ({ type: p.type, command: [...p.command, ...p.args] })),
    defaultType,
    reusedLayers: reused,
    layers: cacheLayers,
  };
}
