import { z } from 'zod';

/** Buildpack APIs this platform runs (the lifecycle supports older ones; we start at 0.10 with targets). */
export const SUPPORTED_BUILDPACK_APIS = ['0.10', '0.11', '0.12'] as const;
export const PLATFORM_API = '0.15';

const RESERVED_IDS = new Set(['app', 'config', 'generated', 'sbom']);

export const BuildpackIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9./-]+$/, 'only letters, digits, ".", "/" and "-"')
  .refine((id) => !RESERVED_IDS.has(id.toLowerCase()), 'reserved id');

const TargetSchema = z.object({
  os: z.string().optional(),
  arch: z.string().optional(),
  variant: z.string().optional(),
  distros: z.array(z.object({ name: z.string(), version: z.string().optional() })).optional(),
});
export type Target = z.infer<typeof TargetSchema>;

export const OrderGroupElementSchema = z.object({
  id: BuildpackIdSchema,
  version: z.string().optional(),
  optional: z.boolean().default(false),
});
export const OrderSchema = z.array(z.object({ group: z.array(OrderGroupElementSchema) }));
export type Order = z.infer<typeof OrderSchema>;

/** `buildpack.toml` (Buildpack API 0.10–0.12). */
export const BuildpackDescriptorSchema = z.object({
  api: z.string().regex(/^\d+\.\d+$/, 'must be "<major>.<minor>"'),
  buildpack: z.object({
    id: BuildpackIdSchema,
    name: z.string().optional(),
    version: z.string().regex(/^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/, 'must be X.Y.Z'),
    homepage: z.string().optional(),
    description: z.string().optional(),
    'clear-env': z.boolean().default(false),
    'sbom-formats': z.array(z.string()).optional(),
  }),
  targets: z.array(TargetSchema).optional(),
  stacks: z.array(z.object({ id: z.string() })).optional(),
  order: OrderSchema.optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});
export type BuildpackDescriptor = z.infer<typeof BuildpackDescriptorSchema>;

/** A buildpack as the platform sees it: its descriptor and where it lives (inside the builder). */
export interface Buildpack {
  descriptor: BuildpackDescriptor;
  /** Directory of the buildpack as seen inside the sandbox, e.g. /cnb/buildpacks/toolforge_nodejs/1.0.0 */
  dir: string;
  /** Same directory on the host. */
  hostDir: string;
}

export const bpId = (b: Buildpack) => b.descriptor.buildpack.id;
export const bpVersion = (b: Buildpack) => b.descriptor.buildpack.version;
export const isComposite = (b: Buildpack) => Boolean(b.descriptor.order?.length);

/** `/` → `_`, as the lifecycle names per-buildpack directories. */
export const escapeId = (id: string) => id.replaceAll('/', '_');

/** The run image's target, read from its labels (io.buildpacks.base.distro.*) and config. */
export interface RunTarget {
  os: string;
  arch: string;
  variant?: string;
  distro?: { name: string; version: string };
}

/** Does a buildpack's `[[targets]]` list allow this run image? No targets (or `stacks` with `*`) = any linux. */
export function targetMatches(descriptor: BuildpackDescriptor, target: RunTarget): boolean {
  const targets = descriptor.targets;
  if (!targets?.length) return target.os === 'linux';
  return targets.some(
    (t) =>
      (!t.os || t.os === target.os) &&
      (!t.arch || t.arch === target.arch) &&
      (!t.variant || t.variant === target.variant) &&
      (!t.distros?.length ||
        t.distros.some(
          (d) =>
            target.distro &&
            d.name === target.distro.name &&
            (!d.version || d.version === target.distro.version),
        )),
  );
}
