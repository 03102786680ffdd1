import { createHash } from 'node:crypto';
import { stringify } from 'yaml';
import { toLegacy } from './legacy.ts';
import { formatPath, parseCatalogue } from './parse.ts';
import { type BuildReport, referencedPairs, resolveBuilds } from './report.ts';
import type { Catalogue } from './schema.ts';
import type { CatalogueSource } from './source.ts';

export class PublishRefused extends Error {
  readonly problems: string[];
  constructor(summary: string, problems: string[]) {
    super(summary);
    this.problems = problems;
  }
}

/** Images or variants that still name no image (a `build` left unresolved). */
function unresolved(c: Catalogue): string[] {
  const out: string[] = [];
  for (const [name, i] of Object.entries(c.images)) {
    if (i.build && !i.image) out.push(formatPath(['images', name]));
    for (const [k, v] of Object.entries(i.variants))
      if (!v.image) out.push(formatPath(['images', name, 'variants', k]));
  }
  return out;
}

/**
 * The revision of what is published now. An invalid document (hand-edited, or from a newer schema) still
 * counts: its `revision:` line is read leniently, so replacing it never makes the revision go backwards
 * (readers and operators take a lower number for an older catalogue).
 */
function previousRevision(text: string, catalogue: Catalogue): number {
  const parsed = parseCatalogue(text, { legacyBuilders: catalogue.builders.default });
  if (parsed.ok) return parsed.catalogue.revision ?? 0;
  // We write it as a top-level block mapping, so the key starts a line.
  const line = /^revision:[ \t]*(\d+)[ \t]*(?:#.*)?$/m.exec(text);
  return line ? Number(line[1]) : 0;
}

/**
 * Publish a catalogue: check it, check every kind × flavour it refers to against the build report
 * before anything changes, then write it (revision + 1) and the legacy `images-v1.yaml` in one
 * conditional step. Refusals change nothing and name every problem.
 */
export async function publishCatalogue(
  target: CatalogueSource,
  sourceText: string,
  opts: { report?: BuildReport; reportName?: string; now?: Date } = {},
): Promise<{ revision: number; catalogue: Catalogue }> {
  const parsed = parseCatalogue(sourceText);
  if (!parsed.ok) throw new PublishRefused('the catalogue is invalid', parsed.problems);
  if (parsed.format !== 'v1')
    throw new PublishRefused('only a version 1 catalogue can be published', [
      '(top level): version: 1 is missing',
    ]);
  let catalogue = parsed.catalogue;
  if (referencedPairs(catalogue).length) {
    if (!opts.report)
      throw new PublishRefused(
        'the catalogue refers to kind × flavour images: publish it with the build report that made them',
        referencedPairs(catalogue).map((r) => `${r.kind} × ${r.flavour}: no build report given`),
      );
    const resolved = resolveBuilds(catalogue, opts.report);
    if (!resolved.ok)
      throw new PublishRefused(
        'images the catalogue needs are missing; nothing was published',
        resolved.missing,
      );
    catalogue = resolved.catalogue;
  }
  const open = unresolved(catalogue);
  if (open.length)
    throw new PublishRefused(
      'some images name no image',
      open.map((p) => `${p}: no image`),
    );

  const current = await target.read();
  const revision = (current ? previousRevision(current.text, catalogue) : 0) + 1;
  const published: Catalogue = {
    ...catalogue,
    revision,
    provenance: {
      published_at: (opts.now ?? new Date()).toISOString(),
      source_sha256: createHash('sha256').update(sourceText).digest('hex'),
      ...(opts.reportName ? { report: opts.reportName } : {}),
    },
  };
  const text = `# Published by \`toolforge-admin catalogue publish\`: edit the catalogue source instead.\n${stringify(published)}`;
  const check = parseCatalogue(text);
  if (!check.ok) throw new PublishRefused('the published form does not read back', check.problems);
  await target.publish({ catalogue: text, legacy: toLegacy(published) }, current?.revision);
  return { revision, catalogue: published };
}
