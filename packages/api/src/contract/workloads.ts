import { z } from 'zod';
import { ResponseMessagesSchema } from './messages.ts';

/**
 * Workloads: the tool's webservice and jobs, running images it built or curated ones. Field names follow
 * Toolforge's jobs API where it has one (`name`, `cmd`, `imagename`, `schedule`, `continuous`, `mount`,
 * `port`, `memory`, `cpu`, `status_short`, `status_long`); unknown request fields are ignored.
 */

const Mount = z.enum(['none', 'all']).describe('`all` mounts the tool home at /data/project/<tool>');
const Quantity = z
  .string()
  .regex(/^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|k|M|G)?$/, 'a Kubernetes quantity such as 512Mi, 1Gi or 0.5');

export const WorkloadStatusSchema = z
  .object({
    state: z.enum([
      'pending',
      'starting',
      'running',
      'restarting',
      'scheduled',
      'succeeded',
      'failed',
      'stopped',
    ]),
    message: z.string(),
    url: z.string().optional(),
    restarts: z.number().int(),
    started_at: z.string().optional(),
    last_run: z
      .object({
        started_at: z.string(),
        ended_at: z.string().optional(),
        exit_code: z.number().nullable().optional(),
      })
      .optional(),
    next_run: z.string().optional(),
  })
  .meta({ id: 'WorkloadStatus' });

const ImageInfo = z.object({
  ref: z.string().describe('What runs: pinned to its digest'),
  digest: z.string(),
  type: z.enum(['buildservice', 'standard']),
});

export const JobSchema = z
  .object({
    name: z.string(),
    cmd: z.string(),
    imagename: z.string().describe('The image as given (e.g. tool-mytool/tool-mytool:latest or python3.11)'),
    image: ImageInfo,
    schedule: z.string().optional(),
    continuous: z.boolean(),
    mount: Mount,
    port: z.number().int().optional(),
    memory: z.string().optional(),
    cpu: z.string().optional(),
    status_short: z.string().describe("jobs API's short status, e.g. Running, Completed, Failed"),
    status_long: z.string(),
    status: WorkloadStatusSchema,
    created_at: z.string(),
  })
  .meta({ id: 'Job' });
export type Job = z.infer<typeof JobSchema>;

export const NewJobSchema = z
  .object({
    name: z
      .string()
      .regex(
        /^[a-z0-9]([-a-z0-9]{0,50}[a-z0-9])?$/,
        'lower-case letters, digits and "-", at most 52 characters',
      ),
    cmd: z
      .string()
      .min(1)
      .max(8192)
      .describe('Run as `launcher <cmd>` for built images: Procfile names work'),
    imagename: z.string().min(1).max(512),
    schedule: z.string().max(100).optional().describe('Cron schedule (5 fields, UTC)'),
    continuous: z.boolean().default(false),
    mount: Mount.optional().describe('Default: none for built images, all for curated ones'),
    port: z.number().int().min(1024).max(65535).optional(),
    memory: Quantity.optional(),
    cpu: Quantity.optional(),
  })
  .meta({ id: 'NewJob' });

export const WebserviceSchema = z
  .object({
    type: z.literal('buildservice'),
    image: z.string().describe('The image as given, e.g. tool-mytool/tool-mytool:latest'),
    image_info: ImageInfo,
    mount: Mount,
    port: z.number().int(),
    memory: z.string().optional(),
    cpu: z.string().optional(),
    url: z.string().optional(),
    status: WorkloadStatusSchema,
    created_at: z.string(),
  })
  .meta({ id: 'Webservice' });
export type Webservice = z.infer<typeof WebserviceSchema>;

export const NewWebserviceSchema = z
  .object({
    type: z.literal('buildservice').default('buildservice').describe('Only buildservice images run here'),
    image: z.string().min(1).max(512).describe('--buildservice-image, e.g. tool-mytool/tool-mytool:latest'),
    mount: Mount.default('none'),
    port: z.number().int().min(1024).max(65535).default(8000),
    memory: Quantity.optional(),
    cpu: Quantity.optional(),
  })
  .meta({ id: 'NewWebservice' });

export const JobResponseSchema = z
  .object({ job: JobSchema, messages: ResponseMessagesSchema })
  .meta({ id: 'JobResponse' });
export const JobListResponseSchema = z
  .object({ jobs: z.array(JobSchema), messages: ResponseMessagesSchema })
  .meta({ id: 'JobListResponse' });
export const WebserviceResponseSchema = z
  .object({ webservice: WebserviceSchema, messages: ResponseMessagesSchema })
  .meta({ id: 'WebserviceResponse' });
export const MessagesOnlySchema = z
  .object({ messages: ResponseMessagesSchema })
  .meta({ id: 'MessagesResponse' });
export const WorkloadLogLineSchema = z.object({ line: z.string() }).meta({ id: 'WorkloadLogLine' });
