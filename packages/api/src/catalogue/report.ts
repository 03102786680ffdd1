import { matrixRecipe } from '@toolforge/buildpacks';
import { z } from 'zod';
import { matrixInput } from './build.ts';
import type { BuildRef, Catalogue } from './schema.ts';

/** What `toolforge-admin catalogue build` wrote: kind × flavour → image, or why it failed. */
export const BuildReportSchema = z.strictObject({
  version: z.literal(1),
  created: z.string(),
  entries: z.array(
    z.discriminatedUnion('status', [
      z.looseObject({
        kind: z.string(),
        flavour: z.string(),
        status: z.literal('ok'),
        ref: z.string().min(1),
        digest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
        recipe: z.string().optional(),
      }),
      z.looseObject({
        kind: z.string(),
        flavour: z.string(),
        status: z.literal('failed'),
        error: z.string(),
      }),
    ]),
  ),
});
export type BuildReport = z.infer<typeof BuildReportSchema>;

const pair = (r: BuildRef) => `${r.kind} × ${r.flavour}`;

/** Every kind × flavour a catalogue refers to, once each. */
export function referencedPairs(c: Catalogue): BuildRef[] {
  const seen = new Map<string, BuildRef>();
  for (const image of Object.values(c.images)) {
    for (const ref of [image.build, ...Object.values(image.variants).map((v) => v.build)])
      if (ref) seen.set(pair(ref), ref);
  }
  return [...seen.values()].sort((a, b) => pair(a).localeCompare(pair(b)));
}

/**
 * Replace every `build` reference by its image from the report (`ref@digest`), checking all of them
 * first: one missing or failed combination and nothing is resolved, each such pair named.
 */
export function resolveBuilds(
  c: Catalogue,
  report: BuildReport,
): { ok: true; catalogue: Catalogue } | { ok: false; missing: string[] } {
  const found = new Map(report.entries.map((e) => [pair(e), e]));
  const input = matrixInput(c);
  const missing: string[] = [];
  for (const ref of referencedPairs(c)) {
    const e = found.get(pair(ref));
    if (!e) missing.push(`${pair(ref)}: not in the build report`);
    else if (e.status === 'failed') missing.push(`${pair(ref)}: its build failed: ${e.error}`);
    // A report from before a kind or flavour changed would publish images without the change.
    else if (e.recipe !== matrixRecipe(input, ref))
      missing.push(
        `${pair(ref)}: ${e.recipe ? 'built from another recipe (its packages or environment changed since)' : 'the report does not say what it was built from'}; build it again`,
      );
  }
  if (missing.length) return { ok: false, missing };
  const image = (ref: BuildRef) => {
    const e = found.get(pair(ref));
    return e?.status === 'ok' ? `${e.ref.replace(/@sha256:[0-9a-f]{64}$/, '')}@${e.digest}` : '';
  };
  const images = Object.fromEntries(
    Object.entries(c.images).map(([name, i]) => [
      name,
      {
        ...i,
        ...(i.build ? { image: image(i.build) } : {}),
        variants: Object.fromEntries(
          Object.entries(i.variants).map(([k, v]) => [k, v.build ? { ...v, image: image(v.build) } : v]),
        ),
      },
    ]),
  );
  return { ok: true, catalogue: { ...c, images } };
}
