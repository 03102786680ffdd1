import { z } from 'zod';

const Provide = z.object({ name: z.string().min(1) });
const Require = z
  .object({ name: z.string().min(1), metadata: z.record(z.string(), z.unknown()).optional() })
  .passthrough()
  .refine(
    (r) => !('version' in r),
    'use requires.metadata.version, not a top-level version (Buildpack API ≥ 0.3)',
  );
const Section = z.object({ provides: z.array(Provide).default([]), requires: z.array(Require).default([]) });

/** The build plan a `bin/detect` writes to CNB_BUILD_PLAN_PATH. */
export const DetectPlanSchema = Section.extend({ or: z.array(Section).default([]) });
export type DetectPlan = z.infer<typeof DetectPlanSchema>;
export type PlanSection = z.infer<typeof Section>;
export type PlanRequire = { name: string; metadata?: Record<string, unknown> | undefined };
