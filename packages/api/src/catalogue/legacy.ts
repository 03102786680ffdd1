import { stringify } from 'yaml';
import type { z } from 'zod';
import type { BuilderPairSchema, Catalogue, CatalogueImage, LegacyCatalogue } from './schema.ts';

/** `repo:tag@sha256:…` → `repo:tag`: legacy readers append `:latest` to what has no tag and know no digests. */
export function withoutDigest(ref: string): string {
  return ref.replace(/@sha256:[0-9a-f]{64}$/, '');
}

/** The image a consumer without a variant of its own runs: jobs' variant, else the top-level one, else any. */
export function primaryImage(image: CatalogueImage): string | undefined {
  return (
    image.variants['jobs-framework']?.image ??
    image.image ??
    Object.values(image.variants).find((v) => v.image)?.image
  );
}

/**
 * The state as today's readers know it: jobs-api has only `stable | deprecated` (anything else shows as
 * unknown), so a `beta` image, which is offered and works, is written as `stable`.
 */
export function legacyState(state: CatalogueImage['state']): 'stable' | 'deprecated' {
  return state === 'beta' ? 'stable' : state;
}

/**
 * The flat `images-v1.yaml` today's jobs-api and webservice parse (name → image, state, aliases,
 * variants), generated from a published catalogue so that they keep working unchanged.
 */
export function toLegacy(c: Catalogue): string {
  const out: LegacyCatalogue = {};
  for (const [name, image] of Object.entries(c.images)) {
    const top = primaryImage(image);
    const variants = Object.fromEntries(
      Object.entries(image.variants).map(([k, v]) => [
        k,
        { image: withoutDigest(v.image ?? ''), ...(v.extra ? { extra: v.extra } : {}) },
      ]),
    );
    out[name] = {
      ...(top ? { image: withoutDigest(top) } : {}),
      state: legacyState(image.state),
      aliases: image.aliases,
      ...(Object.keys(variants).length ? { variants } : {}),
    };
  }
  return `# Generated from the Toolforge image catalogue (revision ${c.revision ?? 0}); do not edit.\n${stringify(out)}`;
}

/** A legacy file as a catalogue: no kinds or flavours; a missing state reads as stable. */
export function fromLegacy(legacy: LegacyCatalogue, builders: z.infer<typeof BuilderPairSchema>): unknown {
  return {
    version: 1,
    builders: { default: builders },
    images: Object.fromEntries(
      Object.entries(legacy).map(([name, i]) => [
        name,
        {
          state: i.state ?? 'stable',
          aliases: i.aliases ?? [],
          ...(i.image ? { image: i.image } : {}),
          variants: i.variants ?? {},
        },
      ]),
    ),
  };
}
