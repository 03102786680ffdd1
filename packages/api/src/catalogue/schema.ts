import { z } from 'zod';

/**
 * The image catalogue, version 1: the one source for curated images, builders, and the kinds and
 * flavours the stack builder makes images from. Operators edit `catalogue/catalogue.yaml`; publishing
 * resolves every `build` reference to an image from a build report and writes the result (plus the
 * legacy `images-v1.yaml` that today's readers parse) to the file or ConfigMap the API reads.
 */

/** Names that end up in repository names and YAML keys: kinds, flavours, images, variants. */
export const KEY = /^[a-z0-9][a-z0-9._-]*$/;
const key = (what: string) => z.string().regex(KEY, `${what}: lower-case letters, digits, ".", "_", "-"`);

/** A calendar date (YYYY-MM-DD) that exists; YAML's own date type is read as a string first. */
export const DateSchema = z.iso.date('a date written YYYY-MM-DD');

export const BuildRefSchema = z
  .strictObject({ kind: key('kind'), flavour: key('flavour') })
  .describe(
    'An image of the kind × flavour matrix; publishing replaces it by its image from the build report',
  );

export const ResourcesSchema = z
  .strictObject({
    cpu: z.string().optional().describe('Kubernetes quantity, e.g. "0.5"'),
    memory: z.string().optional().describe('Kubernetes quantity, e.g. "512Mi"'),
  })
  .describe('Default resources of workloads using this image');

export const VariantSchema = z
  .looseObject({
    image: z.string().min(1).optional().describe('Image reference (`host/repo:tag` or with `@sha256:…`)'),
    build: BuildRefSchema.optional(),
    extra: z
      .looseObject({
        wstype: z.string().optional().describe('webservice type, e.g. generic, js, lighttpd, python'),
        resources: z.string().optional().describe('webservice resource profile, e.g. default or jdk'),
      })
      .optional(),
  })
  .refine((v) => v.image !== undefined || v.build !== undefined, 'needs `image` or `build`')
  .describe('How one consumer (jobs-framework, webservice, or any other key) runs the image');

export const ImageStateSchema = z.enum(['stable', 'beta', 'deprecated'], {
  error: (i) => `unknown state ${JSON.stringify(i.input)} (stable, beta or deprecated)`,
});

export const ImageSchema = z
  .strictObject({
    state: ImageStateSchema,
    valid_until: DateSchema.optional().describe(
      'Deprecated images only: refused from this date (00:00 UTC) on',
    ),
    description: z.string().optional(),
    aliases: z.array(z.string().min(1)).default([]).describe('Other names, unique across the catalogue'),
    image: z.string().min(1).optional().describe('Top-level image (legacy readers use it for jobs)'),
    build: BuildRefSchema.optional(),
    resources: ResourcesSchema.optional(),
    variants: z.record(key('variant'), VariantSchema).default({}),
  })
  .refine((i) => i.valid_until === undefined || i.state === 'deprecated', {
    message: 'only a deprecated image has valid_until',
    path: ['valid_until'],
  })
  .refine(
    (i) => i.image !== undefined || i.build !== undefined || Object.keys(i.variants).length > 0,
    'needs `image`, `build` or at least one variant',
  );

export const BuilderPairSchema = z.strictObject({
  builder: z.string().min(1).describe('Builder image (build image, buildpacks, order)'),
  runner: z.string().min(1).describe('Run image the app image is based on'),
});

export const BuildersSchema = z.strictObject({
  default: BuilderPairSchema,
  latest: BuilderPairSchema.optional().describe(
    'Used with --use-latest-versions (default: the default pair)',
  ),
  deprecated: BuilderPairSchema.extend({ valid_until: DateSchema })
    .optional()
    .describe('Used with --use-deprecated-versions until valid_until (00:00 UTC), a 400 from then on'),
});

const RecipeArgs = {
  description: z.string().optional(),
  packages: z.array(z.string().min(1)).default([]).describe('Debian packages (bookworm) to install'),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).default({}),
};

export const KindSchema = z.strictObject(RecipeArgs).describe('A build target, e.g. base (jobs) or web');

export const FlavourSchema = z
  .strictObject({
    ...RecipeArgs,
    kinds: z
      .record(key('kind'), z.strictObject({ packages: RecipeArgs.packages, env: RecipeArgs.env }))
      .default({})
      .describe('Extra arguments for one kind'),
    only: z.array(key('kind')).optional().describe('The kinds this flavour is built for (default: all)'),
  })
  .describe('A named set of build arguments, e.g. python3.11');

export const CatalogueSchema = z
  .strictObject({
    version: z.literal(1).describe('Schema version'),
    revision: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe('Set by publishing: increases by one with every published version'),
    provenance: z
      .strictObject({
        published_at: z.string(),
        source_sha256: z.string().optional().describe('Of the catalogue file it was published from'),
        report: z.string().optional().describe('The build report its images come from'),
      })
      .optional()
      .describe('Set by publishing'),
    builders: BuildersSchema,
    kinds: z.record(key('kind'), KindSchema).default({}),
    flavours: z.record(key('flavour'), FlavourSchema).default({}),
    images: z.record(key('image'), ImageSchema),
  })
  .meta({ id: 'ToolforgeImageCatalogue', title: 'Toolforge image catalogue, version 1' });

export type Catalogue = z.infer<typeof CatalogueSchema>;
export type CatalogueImage = z.infer<typeof ImageSchema>;
export type CatalogueVariant = z.infer<typeof VariantSchema>;
export type BuildRef = z.infer<typeof BuildRefSchema>;

/** Today's `images-v1.yaml`: name → image, read by jobs-api and webservice. State may be missing. */
export const LegacyImageSchema = z.looseObject({
  image: z.string().optional(),
  state: z.string().optional(),
  aliases: z.array(z.string()).optional(),
  variants: z
    .record(z.string(), z.looseObject({ image: z.string().optional(), extra: z.unknown().optional() }))
    .optional(),
});
export const LegacyCatalogueSchema = z.record(z.string(), LegacyImageSchema);
export type LegacyCatalogue = z.infer<typeof LegacyCatalogueSchema>;
