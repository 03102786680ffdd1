import { parseManifest, type RegistryClient, RegistryError } from '@toolforge/oci';
import { AppError } from '../errors.ts';
import type { CleanReport, ImageRegistry, StoredImage } from './port.ts';

/** Build caches live next to their image as `<image>-cache`: counted in quota and cleaned, never listed. */
export const CACHE_SUFFIX = '-cache';

const unavailable = (err: unknown) =>
  new AppError('REGISTRY_UNAVAILABLE', `The image registry is unavailable: ${(err as Error).message}`, {
    cause: err,
  });

/**
 * Any OCI registry (CNCF distribution) by URL, as the registry behind the cluster engine: images are
 * `<host>/tool-<tool>/<image>`. Listing walks the catalog; clean deletes manifests by digest (the registry
 * must allow deletes; space is freed by its garbage collection). Quota is counted from the manifests.
 */
export class DistributionRegistry implements ImageRegistry {
  readonly name = 'distribution';
  readonly host: string;
  private readonly client: RegistryClient;
  private readonly quotaBytes: number | undefined;
  constructor(opts: { client: RegistryClient; host: string; quotaBytes?: number }) {
    this.client = opts.client;
    this.host = opts.host;
    this.quotaBytes = opts.quotaBytes;
  }

  repository(tool: string, image: string): string {
    return `tool-${tool}/${image}`;
  }

  private async images(
    tool: string,
    includeCache: boolean,
  ): Promise<(StoredImage & { blobs: Map<string, number> })[]> {
    try {
      const repos = await this.client.listRepositories({ prefix: `tool-${tool}/` });
      const out: (StoredImage & { blobs: Map<string, number> })[] = [];
      for (const repo of repos.sort()) {
        if (!includeCache && repo.endsWith(CACHE_SUFFIX)) continue;
        const byDigest = new Map<string, StoredImage & { blobs: Map<string, number> }>();
        for (const tag of await this.client.listTags(repo)) {
          const { descriptor, bytes } = await this.client.getManifest(repo, tag);
          let image = byDigest.get(descriptor.digest);
          if (!image) {
            const blobs = new Map<string, number>([[descriptor.digest, descriptor.size]]);
            try {
              const m = parseManifest(bytes, descriptor.mediaType);
              blobs.set(m.config.digest, m.config.size);
              for (const l of m.layers) blobs.set(l.digest, l.size);
            } catch {
              // an index: count the manifest alone
            }
            image = {
              repository: repo.slice(`tool-${tool}/`.length),
              digest: descriptor.digest,
              tags: [],
              sizeBytes: [...blobs.values()].reduce((a, b) => a + b, 0),
              blobs,
            };
            byDigest.set(descriptor.digest, image);
          }
          image.tags.push(tag);
        }
        out.push(...byDigest.values());
      }
      return out;
    } catch (err) {
      if (err instanceof RegistryError && err.status === 404) return [];
      throw unavailable(err);
    }
  }

  async list(tool: string): Promise<StoredImage[]> {
    return (await this.images(tool, false)).map(({ blobs: _b, ...i }) => i);
  }

  async quota(tool: string) {
    const blobs = new Map<string, number>();
    for (const i of await this.images(tool, true)) for (const [d, s] of i.blobs) blobs.set(d, s);
    return { usedBytes: [...blobs.values()].reduce((a, b) => a + b, 0), limitBytes: this.quotaBytes };
  }

  async clean(tool: string, keep: ReadonlySet<string>, opts: { keepLatest: boolean }): Promise<CleanReport> {
    const report: CleanReport = { removed: [], kept: [], freedBytes: 0 };
    for (const image of await this.images(tool, true)) {
      const name = `tool-${tool}/${image.repository}:${image.tags.join(',')}`;
      if (keep.has(image.digest))
        report.kept.push({
          image: name,
          digest: image.digest,
          reason: 'used by a running webservice or job',
        });
      else if (opts.keepLatest && image.tags.includes('latest') && !image.repository.endsWith(CACHE_SUFFIX)) {
        report.kept.push({ image: name, digest: image.digest, reason: 'latest image kept' });
      } else {
        try {
          await this.client.deleteManifest(`tool-${tool}/${image.repository}`, image.digest);
        } catch (err) {
          throw unavailable(err);
        }
        report.removed.push({
          image: name,
          digest: image.digest,
          reason: image.repository.endsWith(CACHE_SUFFIX) ? 'build cache' : 'removed',
        });
        report.freedBytes += image.sizeBytes;
      }
    }
    return report;
  }

  async health(): Promise<string | undefined> {
    try {
      await this.client.ping();
      return undefined;
    } catch (err) {
      return `registry ${this.host}: ${(err as Error).message}`;
    }
  }
}
