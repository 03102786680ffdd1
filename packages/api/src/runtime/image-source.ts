import type { OciLayout } from '@toolforge/oci';
import { AppError } from '../errors.ts';
import { digestTag, type LayoutRegistry } from '../registry/layout-registry.ts';
import type { ResolvedImage } from '../workloads/port.ts';

const BUILT = /(?:^|\/)tool-([a-z0-9][a-z0-9-]*)\/([a-z0-9][a-z0-9._-]*)@(sha256:[0-9a-f]{64})$/;

const gone = (image: ResolvedImage) =>
  new AppError('IMAGE_NOT_FOUND', `No such image '${image.requested}' (${image.ref}) on this machine.`, {
    hint: 'Build it again, or run `toolforge images list`.',
  });

/**
 * Where the local runtime finds an image's bytes: a built image in its tool's layout store (each build is
 * tagged by digest), a curated one in the stack store where the catalogue's images are built.
 */
export function localImageSource(images: LayoutRegistry, stackLayout: OciLayout) {
  return {
    async open(image: ResolvedImage): Promise<{ layout: OciLayout; ref: string }> {
      const built = image.type === 'buildservice' ? image.ref.match(BUILT) : undefined;
      if (built) {
        const [, owner = '', repo = '', digest = ''] = built;
        const layout = await images.layout(owner);
        const ref = `${repo}:${digestTag(digest)}`;
        if ((await layout.resolve(ref))?.digest !== digest) throw gone(image);
        return { layout, ref };
      }
      const ref = image.ref.replace(/@sha256:[0-9a-f]{64}$/, '');
      const found = await stackLayout.resolve(ref);
      if (!found || (image.digest && found.digest !== image.digest)) throw gone(image);
      return { layout: stackLayout, ref };
    },
  };
}
