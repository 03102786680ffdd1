import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { OciLayout, parseManifest } from '@toolforge/oci';
import type { CleanReport, ImageRegistry, StoredImage } from './port.ts';

/** Tags that name one build's image by digest (`sha256-<hex>`), so retention and clean can reason per build. */
export const digestTag = (digest: string) => digest.replace(':', '-');

/**
 * The embedded default: one OCI image layout per tool under `<root>/tool-<tool>`, so quota, clean and
 * isolation hold per tool. Each build tags its image `<image>:latest` and `<image>:sha256-<hex>`.
 * Readable with skopeo: `skopeo inspect oci:<root>/tool-<tool>:<image>:latest`.
 */
export class LayoutRegistry implements ImageRegistry {
  readonly name = 'layout';
  readonly host: string;
  private readonly root: string;
  private readonly quotaBytes: number | undefined;
  private readonly extraUsage: (tool: string) => Promise<number>;
  constructor(opts: {
    root: string;
    host?: string;
    quotaBytes?: number;
    extraUsage?: (tool: string) => Promise<number>;
  }) {
    this.root = opts.root;
    this.host = opts.host ?? 'toolforge.local';
    this.quotaBytes = opts.quotaBytes;
    this.extraUsage = opts.extraUsage ?? (async () => 0);
  }

  dir(tool: string): string {
    return path.join(this.root, `tool-${tool}`);
  }

  layout(tool: string): Promise<OciLayout> {
    return OciLayout.open(this.dir(tool), { create: true });
  }

  repository(tool: string, image: string): string {
    return `tool-${tool}/${image}`;
  }

  async list(tool: string): Promise<StoredImage[]> {
    if (!existsSync(this.dir(tool))) return [];
    const layout = await this.layout(tool);
    const byDigest = new Map<string, StoredImage>();
    for (const { ref, descriptor } of await layout.list()) {
      const [repository = ref, tag = 'latest'] = ref.split(':');
      const key = `${repository}@${descriptor.digest}`;
      let image = byDigest.get(key);
      if (!image) {
        let size = descriptor.size;
        try {
          const m = parseManifest(await layout.readBlob(descriptor.digest), descriptor.mediaType);
          size += m.config.size + m.layers.reduce((s, l) => s + l.size, 0);
        } catch {
          // An index or a broken manifest: count the manifest alone.
        }
        image = { repository, digest: descriptor.digest, tags: [], sizeBytes: size };
        byDigest.set(key, image);
      }
      image.tags.push(tag);
    }
    return [...byDigest.values()].sort((a, b) => a.repository.localeCompare(b.repository));
  }

  async quota(tool: string) {
    const used =
      (existsSync(this.dir(tool)) ? await (await this.layout(tool)).diskUsage() : 0) +
      (await this.extraUsage(tool));
    return { usedBytes: used, limitBytes: this.quotaBytes };
  }

  async clean(
    tool: string,
    keep: ReadonlySet<string>,
    opts: { keepLatest: boolean; quiescent?: boolean },
  ): Promise<CleanReport> {
    const report: CleanReport = { removed: [], kept: [], freedBytes: 0 };
    if (!existsSync(this.dir(tool))) return report;
    const layout = await this.layout(tool);
    for (const { ref, descriptor } of await layout.list()) {
      const [repository = ref, tag = ''] = ref.split(':');
      const image = `${this.repository(tool, repository)}:${tag}`;
      if (keep.has(descriptor.digest))
        report.kept.push({ image, digest: descriptor.digest, reason: 'used by a running webservice or job' });
      else if (opts.keepLatest && tag === 'latest')
        report.kept.push({ image, digest: descriptor.digest, reason: 'latest image kept' });
      else {
        await layout.untag(ref);
        report.removed.push({ image, digest: descriptor.digest, reason: 'removed' });
      }
    }
    // With no build of the tool running, unreferenced blobs can go at once; otherwise only old ones
    // (a running build stores blobs before tagging its image).
    const gc = await layout.gc(opts.quiescent ? { minAgeMs: 0 } : {});
    report.freedBytes = gc.bytesFreed;
    return report;
  }

  async health(): Promise<string | undefined> {
    return undefined;
  }

  /** Tools that have a store (for admin listings). */
  tools(): string[] {
    if (!existsSync(this.root)) return [];
    return readdirSync(this.root)
      .filter((d) => d.startsWith('tool-'))
      .map((d) => d.slice(5));
  }
}
