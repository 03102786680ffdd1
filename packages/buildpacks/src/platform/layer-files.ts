import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { InvalidFileError, parseToml } from './toml.ts';

export const LayerTomlSchema = z.object({
  types: z
    .object({
      launch: z.boolean().default(false),
      build: z.boolean().default(false),
      cache: z.boolean().default(false),
    })
    .default({ launch: false, build: false, cache: false }),
  metadata: z.record(z.string(), z.unknown()).default({}),
});
export type LayerToml = z.infer<typeof LayerTomlSchema>;

const PROCESS_TYPE = /^[A-Za-z0-9._-]+$/;
const ProcessSchema = z.object({
  type: z.string().regex(PROCESS_TYPE, 'process types use letters, digits, ".", "_" and "-"'),
  command: z.array(z.string()).min(1, 'command must name an executable'),
  args: z.array(z.string()).default([]),
  default: z.boolean().default(false),
  'working-dir': z.string().optional(),
});
export type ProcessDef = z.infer<typeof ProcessSchema>;

/** `<layers>/<bp>/launch.toml` (Buildpack API ≥ 0.9: command is an array, processes are direct). */
export const LaunchTomlSchema = z.object({
  processes: z.array(ProcessSchema).default([]),
  labels: z.array(z.object({ key: z.string().min(1), value: z.string() })).default([]),
  slices: z.array(z.object({ paths: z.array(z.string()).default([]) })).default([]),
});
export type LaunchToml = z.infer<typeof LaunchTomlSchema>;

export const BuildTomlSchema = z.object({ unmet: z.array(z.object({ name: z.string() })).default([]) });
export const StoreTomlSchema = z.object({ metadata: z.record(z.string(), z.unknown()).default({}) });

const RESERVED_LAYER_NAMES = new Set(['build', 'launch', 'store']);

export interface LayerInfo {
  name: string;
  /** host directory of the layer contents (may not exist: a launch layer reused from the previous image) */
  dir: string;
  toml: LayerToml;
  hasContents: boolean;
}

function readToml<T>(file: string, schema: z.ZodType<T>, fallback: T): T {
  if (!existsSync(file)) return fallback;
  return parseToml(readFileSync(file, 'utf8'), schema, path.basename(file));
}

/** Everything one buildpack wrote into its layers directory, validated. */
export interface BuildpackOutputs {
  layers: LayerInfo[];
  launch: LaunchToml;
  unmet: string[];
  store: Record<string, unknown> | undefined;
}

/** Read a buildpack's layers dir the way the lifecycle does: layers are found by their `<name>.toml`. */
export function readBuildpackOutputs(bpLayersDir: string): BuildpackOutputs {
  const layers: LayerInfo[] = [];
  const entries = existsSync(bpLayersDir) ? readdirSync(bpLayersDir).sort() : [];
  for (const f of entries) {
    if (!f.endsWith('.toml') || f === 'launch.toml' || f === 'build.toml' || f === 'store.toml') continue;
    const name = f.slice(0, -'.toml'.length);
    if (RESERVED_LAYER_NAMES.has(name)) throw new InvalidFileError(f, `"${name}" is a reserved layer name`);
    const file = path.join(bpLayersDir, f);
    if (!statSync(file).isFile()) continue;
    const toml = parseToml(readFileSync(file, 'utf8'), LayerTomlSchema, `layer ${f}`);
    const dir = path.join(bpLayersDir, name);
    layers.push({ name, dir, toml, hasContents: existsSync(dir) && statSync(dir).isDirectory() });
  }
  return {
    layers,
    launch: readToml(path.join(bpLayersDir, 'launch.toml'), LaunchTomlSchema, {
      processes: [],
      labels: [],
      slices: [],
    }),
    unmet: readToml(path.join(bpLayersDir, 'build.toml'), BuildTomlSchema, { unmet: [] }).unmet.map(
      (u) => u.name,
    ),
    store: existsSync(path.join(bpLayersDir, 'store.toml'))
      ? readToml(path.join(bpLayersDir, 'store.toml'), StoreTomlSchema, { metadata: {} }).metadata
      : undefined,
  };
}
