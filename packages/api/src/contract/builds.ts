import { z } from 'zod';
import { ResponseMessagesSchema } from './messages.ts';

/** The seven statuses of the reference, written literally (no renames: clients switch on them). */
export const BuildStatusSchema = z
  .enum([
    'BUILD_PENDING',
    'BUILD_RUNNING',
    'BUILD_SUCCESS',
    'BUILD_FAILURE',
    'BUILD_CANCELLED',
    'BUILD_TIMEOUT',
    'BUILD_UNKNOWN',
  ])
  .meta({ id: 'BuildStatus' });
export type BuildStatus = z.infer<typeof BuildStatusSchema>;

export const FINISHED_STATUSES: ReadonlySet<BuildStatus> = new Set([
  'BUILD_SUCCESS',
  'BUILD_FAILURE',
  'BUILD_CANCELLED',
  'BUILD_TIMEOUT',
]);

/** Request body of start. Unknown fields are stripped (newer clients keep working), never a 4xx. */
export const BuildParametersSchema = z
  .object({
    source_url: z
      .string()
      .describe('URL to the public git repository that contains the source code to build'),
    ref: z.string().optional().describe('Source code reference to build (ex. a git branch name)'),
    envvars: z
      .record(z.string(), z.string())
      .optional()
      .describe('Environment variables and values to be set at build time'),
    image_name: z.string().optional().describe('The name of the image to be built'),
    use_latest_versions: z
      .boolean()
      .default(false)
      .describe('Use the latest available versions of the builder and run images'),
    use_deprecated_versions: z
      .boolean()
      .default(false)
      .describe(
        'Use a deprecated version of the builder and run images; ignored if use_latest_versions is true',
      ),
  })
  .meta({ id: 'BuildParameters' });
export type BuildParameters = z.infer<typeof BuildParametersSchema>;
export type BuildParametersInput = z.input<typeof BuildParametersSchema>;

export const BuildConditionSchema = z
  .object({ status: BuildStatusSchema, message: z.string() })
  .meta({ id: 'BuildCondition' });

export const BuildPhaseSchema = z
  .enum([
    'queued',
    'preparing',
    'cloning',
    'analyzing',
    'detecting',
    'restoring',
    'building',
    'exporting',
    'done',
  ])
  .meta({ id: 'BuildPhase', description: 'Where the build is (an addition to the reference).' });
export type BuildPhase = z.infer<typeof BuildPhaseSchema>;

export const PhaseTimingSchema = z
  .object({ phase: z.string(), start_time: z.string(), end_time: z.string(), seconds: z.number() })
  .meta({ id: 'PhaseTiming' });

/** The inputs a build used, recorded so that an identical later build can be recognised and reused. */
export const BuildInputsSchema = z
  .object({
    commit: z.string(),
    builder_image: z.string().describe('builder reference with digest'),
    run_image: z.string().describe('run image reference with digest'),
    envvars_sha256: z.string().describe('sha256 of the sorted NAME=value pairs'),
  })
  .partial()
  .meta({ id: 'BuildInputs' });

export const BuildSchema = BuildConditionSchema.extend({
  build_id: z.string(),
  start_time: z.string().describe('RFC 3339, or "" when not started'),
  end_time: z.string().describe('RFC 3339, or "" when not finished'),
  parameters: BuildParametersSchema,
  destination_image: z.string().describe('<registry>/tool-<tool>/<image>:latest, then url@digest once done'),
  resolved_ref: z.string(),
  // Additions to the reference (optional, so older clients ignore them).
  phase: BuildPhaseSchema.optional(),
  queue_position: z.number().int().positive().optional().describe('1 = next to run; only while pending'),
  timings: z.array(PhaseTimingSchema).optional(),
  failure_reason: z.string().optional().describe('a stable reason code when the build failed'),
  hint: z.string().optional().describe('what to do about the failure'),
  inputs: BuildInputsSchema.optional(),
}).meta({ id: 'Build' });
export type Build = z.infer<typeof BuildSchema>;

export const NewBuildSchema = z
  .object({ name: z.string(), resolved_ref: z.string(), parameters: BuildParametersSchema })
  .meta({ id: 'NewBuild' });

export const StartResponseSchema = z
  .object({ messages: ResponseMessagesSchema, new_build: NewBuildSchema })
  .meta({ id: 'StartResponse' });
export const ListResponseSchema = z
  .object({ messages: ResponseMessagesSchema, builds: z.array(BuildSchema) })
  .meta({ id: 'ListResponse' });
export const GetResponseSchema = z
  .object({ messages: ResponseMessagesSchema, build: BuildSchema })
  .meta({ id: 'GetResponse' });
export const LatestResponseSchema = z
  .object({ messages: ResponseMessagesSchema, build: BuildSchema })
  .meta({ id: 'LatestResponse' });
export const DeleteResponseSchema = z
  .object({ messages: ResponseMessagesSchema, id: z.string().describe('Id of the deleted build') })
  .meta({ id: 'DeleteResponse' });
export const CancelResponseSchema = z
  .object({ messages: ResponseMessagesSchema, id: z.string().describe('Id of the cancelled build') })
  .meta({ id: 'CancelResponse' });

export const CleanedImageSchema = z
  .object({ image: z.string(), digest: z.string(), action: z.enum(['removed', 'kept']), reason: z.string() })
  .meta({ id: 'CleanedImage' });
export const CleanResponseSchema = z
  .object({
    messages: ResponseMessagesSchema,
    images: z.array(CleanedImageSchema).optional().describe('what clean removed and what it kept, and why'),
    freed_bytes: z.number().int().nonnegative().optional(),
  })
  .meta({ id: 'CleanResponse' });

/** One NDJSON line of the logs stream: `[<step>] <RFC 3339 timestamp> <text>`. */
export const BuildLogSchema = z.object({ line: z.string() }).meta({ id: 'BuildLog' });
export type BuildLog = z.infer<typeof BuildLogSchema>;

export const QuotaCategoryItemSchema = z
  .object({
    name: z.string(),
    limit: z.string(),
    used: z.string(),
    available: z.string(),
    capacity: z.string(),
  })
  .meta({ id: 'QuotaCategoryItem' });
export const QuotaCategorySchema = z
  .object({ name: z.string(), items: z.array(QuotaCategoryItemSchema) })
  .meta({ id: 'QuotaCategory' });
export const QuotaSchema = z.object({ categories: z.array(QuotaCategorySchema) }).meta({ id: 'Quota' });
export type Quota = z.infer<typeof QuotaSchema>;
export const QuotaResponseSchema = z
  .object({ messages: ResponseMessagesSchema, quota: QuotaSchema })
  .meta({ id: 'QuotaResponse' });
