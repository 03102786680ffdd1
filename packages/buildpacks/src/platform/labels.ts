import { z } from 'zod';

export const LIFECYCLE_METADATA = 'io.buildpacks.lifecycle.metadata';
export const BUILD_METADATA = 'io.buildpacks.build.metadata';
export const PROJECT_METADATA = 'io.buildpacks.project.metadata';

const Sha = z.object({ sha: z.string() });
/** `io.buildpacks.lifecycle.metadata` (the parts we read back from a previous image). */
export const LifecycleMetadataSchema = z.object({
  app: z.array(Sha).default([]),
  buildpacks: z
    .array(
      z.object({
        key: z.string(),
        version: z.string(),
        layers: z
          .record(
            z.string(),
            z.object({
              sha: z.string(),
              data: z.record(z.string(), z.unknown()).default({}),
              build: z.boolean().default(false),
              launch: z.boolean().default(false),
              cache: z.boolean().default(false),
            }),
          )
          .default({}),
        store: z.object({ metadata: z.record(z.string(), z.unknown()) }).optional(),
      }),
    )
    .default([]),
});
export type LifecycleMetadata = z.infer<typeof LifecycleMetadataSchema>;

/** Read the lifecycle label of an image config; a missing or broken label means "no previous image". */
export function readLifecycleMetadata(labels: Record<string, string> | undefined): LifecycleMetadata {
  try {
    const parsed = LifecycleMetadataSchema.safeParse(JSON.parse(labels?.[LIFECYCLE_METADATA] ?? '{}'));
    return parsed.success ? parsed.data : { app: [], buildpacks: [] };
  } catch {
    return { app: [], buildpacks: [] };
  }
}
