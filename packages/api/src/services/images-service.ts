import type { z } from 'zod';
import { primaryImage } from '../catalogue/legacy.ts';
import type { CatalogueStore } from '../catalogue/store.ts';
import {
  type Image,
  type ImageListResponseSchema,
  messages,
  type SupportedVersionsResponseSchema,
} from '../contract/index.ts';
import type { ImageRegistry } from '../registry/port.ts';

const digestOf = (ref: string) => ref.match(/@(sha256:[0-9a-f]{64})$/)?.[1];

/** The images API: curated images from the catalogue, plus the images the tool built. */
export class ImagesService {
  private readonly catalogue: CatalogueStore;
  private readonly registry: ImageRegistry;
  private readonly now: () => Date;

  constructor(d: { catalogue: CatalogueStore; registry: ImageRegistry; now?: () => Date }) {
    this.catalogue = d.catalogue;
    this.registry = d.registry;
    this.now = d.now ?? (() => new Date());
  }

  supportedVersions(): z.input<typeof SupportedVersionsResponseSchema> {
    const b = this.catalogue.builders();
    const revision = this.catalogue.current?.revision;
    return {
      default: b.default,
      latest: b.latest,
      ...(b.deprecated
        ? {
            deprecated: {
              builder: b.deprecated.builder,
              runner: b.deprecated.runner,
              valid_until: b.deprecated.validUntil.toISOString().slice(0, 10),
              is_valid: this.now() < b.deprecated.validUntil,
            },
          }
        : {}),
      ...(revision !== undefined ? { catalogue_revision: revision } : {}),
      messages: messages({ warning: this.catalogue.warnings() }),
    };
  }

  curated(): Image[] {
    const c = this.catalogue.current;
    if (!c) return [];
    return Object.entries(c.images).flatMap(([name, i]) => {
      const ref = primaryImage(i);
      if (!ref) return [];
      const web = i.variants.webservice?.extra;
      const digest = digestOf(ref);
      return [
        {
          canonical_name: name,
          image_type: 'standard' as const,
          aliases: i.aliases,
          ...(web?.wstype ? { ws_type: web.wstype } : {}),
          ...(web?.resources ? { resources: web.resources } : {}),
          ref,
          state: i.state,
          ...(digest ? { digest } : {}),
          ...(i.valid_until ? { valid_until: i.valid_until } : {}),
          variants: Object.fromEntries(
            Object.entries(i.variants).flatMap(([k, v]) => (v.image ? [[k, v.image]] : [])),
          ),
          ...(i.resources ? { default_resources: i.resources } : {}),
        },
      ];
    });
  }

  /** The tool's images with a `latest` tag (what `tool-<tool>/<image>:latest` names), as upstream lists them. */
  async built(tool: string): Promise<Image[]> {
    const stored = await this.registry.list(tool);
    return stored
      .filter((s) => s.tags.includes('latest'))
      .map((s) => {
        const name = `${this.registry.repository(tool, s.repository)}:latest`;
        return {
          canonical_name: name,
          image_type: 'buildservice' as const,
          aliases: [`${name}@${s.digest}`],
          ref: `${this.registry.host}/${name}`,
          state: 'stable',
          digest: s.digest,
        };
      })
      .sort((a, b) => a.canonical_name.localeCompare(b.canonical_name));
  }

  async list(tool: string): Promise<z.input<typeof ImageListResponseSchema>> {
    const info = this.catalogue.current
      ? []
      : ['No image catalogue is published: only built images are listed.'];
    return {
      images: [...this.curated(), ...(await this.built(tool))],
      messages: messages({ info, warning: this.catalogue.warnings() }),
    };
  }
}
