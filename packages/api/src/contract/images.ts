import { z } from 'zod';
import { ResponseMessagesSchema } from './messages.ts';

const PairSchema = z.object({
  builder: z.string().describe('Builder image'),
  runner: z.string().describe('Run image'),
});

/** The builder+runner pairs a build may use (builds-api MR 157's shape, plus messages and the revision). */
export const SupportedVersionsResponseSchema = z
  .object({
    default: PairSchema,
    latest: PairSchema,
    deprecated: PairSchema.extend({
      valid_until: z.string().describe('Refused from this date (00:00 UTC) on'),
      is_valid: z.boolean(),
    }).optional(),
    catalogue_revision: z.number().int().optional().describe('Revision of the image catalogue in force'),
    messages: ResponseMessagesSchema,
  })
  .meta({ id: 'SupportedVersionsResponse' });

/** `buildpack` is what builds-api MR 150 and old jobs-api records say for `buildservice`. */
export const ImageTypeSchema = z.preprocess(
  (v) => (v === 'buildpack' ? 'buildservice' : v),
  z.enum(['standard', 'buildservice']),
);

export const ImageSchema = z
  .object({
    canonical_name: z.string().describe('e.g. python3.11, or tool-mytool/web:latest for a built image'),
    image_type: ImageTypeSchema,
    aliases: z.array(z.string()).describe('Other names; a built image also by its digest'),
    ws_type: z.string().optional().describe('webservice type of a curated image'),
    resources: z.string().optional().describe('webservice resource profile of a curated image'),
    ref: z.string().describe('Image reference to run'),
    state: z.string().describe('stable, beta or deprecated'),
    digest: z.string().optional(),
    valid_until: z.string().optional().describe('A deprecated image: refused from this date on'),
    variants: z
      .record(z.string(), z.string())
      .optional()
      .describe('Image reference per consumer (jobs-framework, webservice, …) of a curated image'),
    default_resources: z
      .object({ cpu: z.string().optional(), memory: z.string().optional() })
      .optional()
      .describe('Default resources of workloads using a curated image'),
  })
  .meta({ id: 'Image' });
export type Image = z.infer<typeof ImageSchema>;

export const ImageListResponseSchema = z
  .object({ images: z.array(ImageSchema), messages: ResponseMessagesSchema })
  .meta({ id: 'ImageListResponse' });
