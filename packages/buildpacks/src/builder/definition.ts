import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { OrderSchema } from '../platform/descriptor.ts';
import { parseToml } from '../platform/toml.ts';

/**
 * A builder definition (pack's builder.toml shape). It describes both our embedded builder (build and run
 * images from the local stack store, buildpacks from folders) and an operator's builder for the cluster
 * engine (e.g. heroku-builder 24 from a registry plus our buildpacks as OCI buildpack images).
 */
export const BuilderDefinitionSchema = z.object({
  description: z.string().default(''),
  build: z.object({ image: z.string().min(1) }),
  run: z.object({
    images: z.array(z.object({ image: z.string().min(1), mirrors: z.array(z.string()).default([]) })).min(1),
  }),
  buildpacks: z
    .array(
      z.object({
        /** A folder (relative to the definition), or `docker://<ref>` for a buildpack image (cluster only). */
        uri: z.string().min(1),
      }),
    )
    .default([]),
  order: OrderSchema.min(1, 'a builder needs at least one order group'),
  /** Operator env for every build (CNB build-config: unsuffixed files are defaults). */
  'build-config-env': z.record(z.string(), z.string()).default({}),
  lifecycle: z.object({ version: z.string().optional(), image: z.string().optional() }).optional(),
});
export type BuilderDefinition = z.infer<typeof BuilderDefinitionSchema>;

export interface LoadedDefinition {
  name: string;
  file: string;
  definition: BuilderDefinition;
  /** Local buildpack folders, resolved to absolute paths (image URIs are left out). */
  buildpackDirs: string[];
}

export async function loadBuilderDefinition(file: string): Promise<LoadedDefinition> {
  const definition = parseToml(await readFile(file, 'utf8'), BuilderDefinitionSchema, file);
  const base = path.dirname(file);
  return {
    name: path.basename(base),
    file,
    definition,
    buildpackDirs: definition.buildpacks
      .filter((b) => !b.uri.includes('://'))
      .map((b) => path.resolve(base, b.uri)),
  };
}

/** The builders shipped with the project. */
export const BUILTIN_BUILDERS_DIR = new URL('../../builders/', import.meta.url).pathname;
