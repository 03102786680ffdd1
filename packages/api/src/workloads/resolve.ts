import { primaryImage } from '../catalogue/legacy.ts';
import type { Catalogue, CatalogueImage } from '../catalogue/schema.ts';
import { AppError } from '../errors.ts';
import type { ImageRegistry } from '../registry/port.ts';
import type { ResolvedImage, WorkloadKind } from './port.ts';

/** `tool-<tool>/<image>[:tag][@sha256:…]`, optionally after the registry host. */
const BUILT =
  /^tool-([a-z0-9][a-z0-9-]*)\/([a-z0-9][a-z0-9._-]*)(?::([A-Za-z0-9_][A-Za-z0-9._-]{0,127}))?(?:@(sha256:[0-9a-f]{64}))?$/;
const DIGEST = /@(sha256:[0-9a-f]{64})$/;

const noSuchImage = (image: string) =>
  new AppError('IMAGE_NOT_FOUND', `No such image '${image}'.`, {
    hint: 'Run `toolforge images list` to see the images you can use (built ones are tool-<tool>/<image>:latest).',
  });

export interface Resolved extends ResolvedImage {
  /** A curated image's catalogue entry (state, default resources). */
  curated?: { name: string; image: CatalogueImage };
}

/**
 * An image as users name it, resolved through the images API's sources: built images of any tool (images
 * are pullable by all, as on Toolforge), pinned to the digest their tag points at now; or a curated image
 * by name or alias, with the variant for the workload kind.
 */
export async function resolveImage(
  requested: string,
  kind: WorkloadKind,
  d: { registry: ImageRegistry; catalogue: Catalogue | undefined; now: Date },
): Promise<Resolved> {
  const name = requested
    .trim()
    .replace(new RegExp(`^${d.registry.host.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/`), '');
  const built = name.match(BUILT);
  if (built) {
    const [, owner = '', repo = '', tag, digest] = built;
    const stored = (
      await d.registry.list(owner).catch((err) => {
        if (err instanceof AppError && err.code === 'VALIDATION_FAILED') return [];
        throw err;
      })
    ).find((i) => i.repository === repo && (digest ? i.digest === digest : i.tags.includes(tag ?? 'latest')));
    if (!stored) throw noSuchImage(requested);
    return {
      requested,
      ref: `${d.registry.host}/${d.registry.repository(owner, repo)}@${stored.digest}`,
      digest: stored.digest,
      type: 'buildservice',
    };
  }
  const images = d.catalogue?.images ?? {};
  const entry =
    Object.entries(images).find(([n]) => n === name) ??
    Object.entries(images).find(([, i]) => i.aliases.includes(name));
  if (!entry) throw noSuchImage(requested);
  const [canonical, image] = entry;
  if (
    image.state === 'deprecated' &&
    image.valid_until &&
    d.now >= new Date(`${image.valid_until}T00:00:00Z`)
  )
    throw new AppError(
      'VALIDATION_FAILED',
      `The image ${canonical} is deprecated and was retired on ${image.valid_until}.`,
      {
        hint: 'Run `toolforge images list` for the images to use instead.',
      },
    );
  const variant =
    image.variants[kind === 'webservice' ? 'webservice' : 'jobs-framework']?.image ?? primaryImage(image);
  if (!variant) throw noSuchImage(requested);
  return {
    requested,
    ref: variant,
    digest: variant.match(DIGEST)?.[1] ?? '',
    type: 'standard',
    curated: { name: canonical, image },
  };
}
