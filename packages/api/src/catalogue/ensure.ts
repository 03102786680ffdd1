import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { matrixRepo, type StackProgress } from '@toolforge/buildpacks';
import type { OciLayout } from '@toolforge/oci';
import { buildCatalogueImages, writeReport } from './build.ts';
import { parseCatalogue } from './parse.ts';
import { PublishRefused, publishCatalogue } from './publish.ts';
import { referencedPairs } from './report.ts';
import type { CatalogueSource } from './source.ts';

/** The catalogue shipped with the service: the embedded default's source. */
export const DEFAULT_CATALOGUE_FILE = new URL('../../../../catalogue/catalogue.yaml', import.meta.url)
  .pathname;

/**
 * For the embedded default (`./scripts/start`): build the images a catalogue refers to and publish it,
 * unless what is published already came from this source and its images are still the store's latest.
 */
export async function ensureCatalogue(
  target: CatalogueSource,
  opts: {
    file: string;
    stackDir: string;
    layout: OciLayout;
    force?: boolean;
    progress?: StackProgress;
  },
): Promise<{ status: 'unchanged' | 'published'; revision: number; report?: string }> {
  const text = await readFile(opts.file, 'utf8');
  const source = parseCatalogue(text);
  if (!source.ok) throw new PublishRefused(`${opts.file} is invalid`, source.problems);
  const pairs = referencedPairs(source.catalogue);
  const current = await target.read();
  const published = current ? parseCatalogue(current.text) : undefined;
  if (!opts.force && published?.ok) {
    const sameSource =
      published.catalogue.provenance?.source_sha256 === createHash('sha256').update(text).digest('hex');
    const refs = JSON.stringify(published.catalogue);
    let imagesCurrent = true;
    for (const p of pairs) {
      const latest = await opts.layout.resolve(`${matrixRepo(p.kind, p.flavour)}:latest`);
      if (!latest || !refs.includes(latest.digest)) imagesCurrent = false;
    }
    if (sameSource && imagesCurrent)
      return { status: 'unchanged', revision: published.catalogue.revision ?? 0 };
  }
  const report = await buildCatalogueImages(source.catalogue, {
    stackDir: opts.stackDir,
    layout: opts.layout,
    select: pairs,
    ...(opts.progress ? { progress: opts.progress } : {}),
  });
  const reportFile = await writeReport(report, opts.stackDir);
  const r = await publishCatalogue(target, text, { report, reportName: reportFile });
  return { status: 'published', revision: r.revision, report: reportFile };
}
