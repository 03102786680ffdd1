import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { fromLegacy } from './legacy.ts';
import {
  type BuilderPairSchema,
  type Catalogue,
  CatalogueSchema,
  ImageStateSchema,
  LegacyCatalogueSchema,
} from './schema.ts';

export type ParseResult =
  | { ok: true; catalogue: Catalogue; format: 'v1' | 'legacy' }
  | { ok: false; problems: string[] };

/** Catalogues are small; anything bigger is a mistake or an attack. */
export const MAX_CATALOGUE_BYTES = 1024 * 1024;
/** Aliases YAML may expand (anchors are handy for repeated variants; a "billion laughs" needs thousands). */
const MAX_ALIASES = 100;

/** `images["python3.11"].state` rather than the ambiguous `images.python3.11.state`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(String(p))) out += out ? `.${String(p)}` : String(p);
    else out += `[${JSON.stringify(String(p))}]`;
  }
  return out || '(top level)';
}

const zodProblems = (error: z.ZodError) => error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`);

/**
 * Read a catalogue: our version 1, or a legacy `images-v1.yaml` (builders then come from `legacyBuilders`).
 * Every problem is reported with its path; nothing is half-read.
 */
export function parseCatalogue(
  text: string,
  opts: { legacyBuilders?: z.infer<typeof BuilderPairSchema> } = {},
): ParseResult {
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_CATALOGUE_BYTES)
    return { ok: false, problems: [`the catalogue is ${bytes} bytes; the limit is ${MAX_CATALOGUE_BYTES}`] };
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length)
    return { ok: false, problems: doc.errors.map((e) => `YAML: ${e.message.split('\n')[0]}`) };
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (err) {
    return {
      ok: false,
      problems: [
        `YAML: ${(err as Error).message} (aliases expand too much: refused as a possible YAML bomb)`,
      ],
    };
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data))
    return { ok: false, problems: ['(top level): a mapping is needed'] };
  if ('version' in data) {
    if (data.version !== 1)
      return {
        ok: false,
        problems: [
          `version: ${JSON.stringify(data.version)} is not supported (this service reads version 1)`,
        ],
      };
    const parsed = CatalogueSchema.safeParse(data);
    if (!parsed.success) return { ok: false, problems: zodProblems(parsed.error) };
    const problems = crossCheck(parsed.data);
    return problems.length ? { ok: false, problems } : { ok: true, catalogue: parsed.data, format: 'v1' };
  }
  const legacy = LegacyCatalogueSchema.safeParse(data);
  if (!legacy.success) return { ok: false, problems: zodProblems(legacy.error) };
  const problems: string[] = [];
  for (const [name, image] of Object.entries(legacy.data)) {
    const state = image.state === undefined ? undefined : ImageStateSchema.safeParse(image.state);
    if (state && !state.success)
      problems.push(`${formatPath([name, 'state'])}: ${state.error.issues[0]?.message}`);
  }
  if (!opts.legacyBuilders)
    problems.push('(top level): a legacy images-v1.yaml has no builders, and none are configured');
  if (problems.length) return { ok: false, problems };
  const converted = CatalogueSchema.safeParse(
    fromLegacy(legacy.data, opts.legacyBuilders as z.infer<typeof BuilderPairSchema>),
  );
  if (!converted.success) return { ok: false, problems: zodProblems(converted.error) };
  const cross = crossCheck(converted.data);
  return cross.length
    ? { ok: false, problems: cross }
    : { ok: true, catalogue: converted.data, format: 'legacy' };
}

/** What one schema cannot say: unique names and aliases, and references to kinds and flavours. */
export function crossCheck(c: Catalogue): string[] {
  const problems: string[] = [];
  const owner = new Map<string, string>();
  for (const name of Object.keys(c.images)) owner.set(name, `the name of ${formatPath(['images', name])}`);
  for (const [name, image] of Object.entries(c.images)) {
    image.aliases.forEach((alias, i) => {
      const where = formatPath(['images', name, 'aliases', i]);
      const other = owner.get(alias);
      if (other) problems.push(`${where}: "${alias}" is also ${other}`);
      else owner.set(alias, `an alias of ${formatPath(['images', name])}`);
    });
  }
  const builds = (kind: string, flavour: string, where: string) => {
    const f = c.flavours[flavour];
    if (!c.kinds[kind]) problems.push(`${where}: kind "${kind}" is not defined in kinds`);
    if (!f) problems.push(`${where}: flavour "${flavour}" is not defined in flavours`);
    else if (f.only && !f.only.includes(kind))
      problems.push(`${where}: flavour "${flavour}" is only built for ${f.only.join(', ')}`);
  };
  for (const [name, image] of Object.entries(c.images)) {
    if (image.build) builds(image.build.kind, image.build.flavour, formatPath(['images', name, 'build']));
    for (const [v, variant] of Object.entries(image.variants))
      if (variant.build)
        builds(
          variant.build.kind,
          variant.build.flavour,
          formatPath(['images', name, 'variants', v, 'build']),
        );
  }
  for (const [name, f] of Object.entries(c.flavours)) {
    for (const k of [...Object.keys(f.kinds), ...(f.only ?? [])])
      if (!c.kinds[k])
        problems.push(`${formatPath(['flavours', name])}: kind "${k}" is not defined in kinds`);
  }
  return [...new Set(problems)];
}
