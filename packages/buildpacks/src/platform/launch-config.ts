import type { LayerEntry } from '@toolforge/oci';
import type { Process } from './processes.ts';
import { toToml } from './toml.ts';

/** `<layers>/config/metadata.toml` as the lifecycle writes it (Platform API ≥ 0.10: command is an array). */
export function metadataToml(opts: {
  buildpacks: { id: string; version: string; api: string }[];
  processes: Process[];
  defaultType: string | undefined;
  labels: { key: string; value: string }[];
}): string {
  return toToml({
    ...(opts.defaultType ? { 'buildpack-default-process-type': opts.defaultType } : {}),
    buildpacks: opts.buildpacks,
    processes: opts.processes.map((p) => ({
      type: p.type,
      command: p.command,
      args: p.args,
      direct: p.direct,
      'buildpack-id': p.buildpackId,
      'working-dir': p.workingDir,
    })),
    labels: opts.labels,
  });
}

const nul = (items: string[]) => items.map((i) => `${i}\0`).join('');

/**
 * The config layer: metadata.toml plus our launcher's NUL-separated rendering of it (bash cannot parse
 * TOML safely; NUL cannot occur in arguments, so every command line survives byte for byte).
 */
export function configLayerEntries(opts: {
  layersDir: string;
  uid: number;
  gid: number;
  metadataToml: string;
  processes: Process[];
  defaultType: string | undefined;
  /** `<escaped bp id>/<layer>` of every launch layer, buildpacks in group order, layers by name. */
  launchLayers: string[];
}): LayerEntry[] {
  const own = { uid: opts.uid, gid: opts.gid };
  const dir = (name: string): LayerEntry => ({ name, type: 'directory', mode: 0o755, ...own });
  const file = (name: string, data: string): LayerEntry => ({
    name,
    type: 'file',
    mode: 0o644,
    data,
    ...own,
  });
  const base = `${opts.layersDir}/config`;
  const entries: LayerEntry[] = [
    dir(opts.layersDir),
    dir(base),
    file(`${base}/metadata.toml`, opts.metadataToml),
    dir(`${base}/launcher`),
    file(`${base}/launcher/layers`, nul(opts.launchLayers)),
    dir(`${base}/launcher/processes`),
  ];
  if (opts.defaultType) entries.push(file(`${base}/launcher/default`, opts.defaultType));
  for (const p of opts.processes) {
    const d = `${base}/launcher/processes/${p.type}`;
    entries.push(
      dir(d),
      file(`${d}/command`, nul(p.command)),
      file(`${d}/args`, nul(p.args)),
      file(`${d}/working-dir`, p.workingDir),
    );
  }
  return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function launcherLayerEntries(script: string): LayerEntry[] {
  return [
    { name: '/cnb', type: 'directory', mode: 0o755, uid: 0, gid: 0 },
    { name: '/cnb/lifecycle', type: 'directory', mode: 0o755, uid: 0, gid: 0 },
    { name: '/cnb/lifecycle/launcher', type: 'file', mode: 0o755, uid: 0, gid: 0, data: script },
  ];
}

export function processTypesLayerEntries(types: string[]): LayerEntry[] {
  return [
    { name: '/cnb', type: 'directory', mode: 0o755, uid: 0, gid: 0 },
    { name: '/cnb/process', type: 'directory', mode: 0o755, uid: 0, gid: 0 },
    ...[...types].sort().map(
      (t): LayerEntry => ({
        name: `/cnb/process/${t}`,
        type: 'symlink',
        linkname: '/cnb/lifecycle/launcher',
        uid: 0,
        gid: 0,
        mode: 0o777,
      }),
    ),
  ];
}
