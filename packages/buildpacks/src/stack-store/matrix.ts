// Catalogue images: every kind × flavour is the run image's recipe plus the kind's, the flavour's and
// the flavour's per-kind packages, written by the same code as the stacks (see stacks/README.md).
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { isValidRefName, type OciLayout } from '@toolforge/oci';
import { mapConcurrent } from '../stacks/concurrency.ts';
import { byString } from '../stacks/debian/resolve.ts';
import { CNB_USER, loadIndexes, RUN_RECIPE } from '../stacks/index.ts';
import { imageFromRecipe, STACK_REPOS, type StackProgress, today } from './stacks.ts';

export const IMAGE_KIND_LABEL = 'org.toolforge.image.kind';
export const IMAGE_FLAVOUR_LABEL = 'org.toolforge.image.flavour';

export interface ImageRecipeArgs {
  packages?: readonly string[];
  env?: Readonly<Record<string, string>>;
}

export interface MatrixInput {
  kinds: Readonly<Record<string, ImageRecipeArgs>>;
  /** `kinds` here: per-kind extra arguments; `only`: the kinds this flavour is built for (default: every kind). */
  flavours: Readonly<
    Record<
      string,
      ImageRecipeArgs & { kinds?: Readonly<Record<string, ImageRecipeArgs>>; only?: readonly string[] }
    >
  >;
}

export type MatrixEntry =
  | {
      kind: string;
      flavour: string;
      status: 'ok';
      ref: string;
      digest: string;
      packages: number;
      /** What it was built from (matrixRecipe): a publish refuses a report made from another recipe. */
      recipe: string;
      seconds: number;
    }
  | { kind: string; flavour: string; status: 'failed'; error: string; seconds: number };

type Pair = { kind: string; flavour: string };

// Names end up in repository names; env names in a config every runtime parses.
const NAME = /^[a-z0-9][a-z0-9._-]*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Repository of a catalogue image in the stack store, e.g. `toolforge/python3.11-web`. */
export function matrixRepo(kind: string, flavour: string): string {
  return `toolforge/${flavour}-${kind}`;
}

/** The combinations `buildMatrix` builds by default (each flavour × its kinds), sorted by flavour then kind. */
export function matrixPairs(input: MatrixInput): Pair[] {
  const pairs: Pair[] = [];
  for (const flavour of Object.keys(input.flavours).sort(byString)) {
    const kinds = input.flavours[flavour]?.only ?? Object.keys(input.kinds);
    for (const kind of [...new Set(kinds)].sort(byString)) pairs.push({ kind, flavour });
  }
  return pairs;
}

const own = <T>(record: Readonly<Record<string, T>> | undefined, key: string): T | undefined =>
  record && Object.hasOwn(record, key) ? record[key] : undefined;

/** A combination's packages (with the run image's) and its environment, sorted (digests must not depend on input order). */
function recipeOf(input: MatrixInput, { kind, flavour }: Pair) {
  const f = own(input.flavours, flavour);
  const args = [own(input.kinds, kind) ?? {}, f ?? {}, own(f?.kinds, kind) ?? {}];
  const env: Record<string, string> = Object.assign({}, ...args.map((a) => a.env));
  return {
    packages: [...new Set([...RUN_RECIPE.packages, ...args.flatMap((a) => a.packages ?? [])])],
    env: Object.fromEntries(Object.entries(env).sort(([a], [b]) => byString(a, b))),
  };
}

/** A digest of what a combination is built from: the same recipe, the same value, whatever the input order. */
export function matrixRecipe(input: MatrixInput, pair: Pair): string {
  const { packages, env } = recipeOf(input, pair);
  const text = JSON.stringify({ packages: [...packages].sort(byString), env: Object.entries(env) });
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

const oneLine = (e: unknown) => {
  const text = (e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ').trim();
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
};

/** Why a combination cannot be built, before any download. */
function problem(input: MatrixInput, pair: Pair, tag: string, defaults: Pair[], owners: Map<string, Pair[]>) {
  const { kind, flavour } = pair;
  for (const [what, name] of [
    ['kind', kind],
    ['flavour', flavour],
  ] as const) {
    if (!NAME.test(name)) return `invalid ${what} name '${name}' (must match ${NAME.source})`;
  }
  const f = own(input.flavours, flavour);
  if (!f) return `flavour '${flavour}' is not defined`;
  const k = own(input.kinds, kind);
  if (!k) return `kind '${kind}' is not defined`;
  if (!defaults.some((d) => d.kind === kind && d.flavour === flavour))
    return `flavour '${flavour}' is not built for kind '${kind}' (only: ${f.only?.join(', ')})`;
  for (const args of [k, f, own(f.kinds, kind)]) {
    const bad = Object.keys(args?.env ?? {}).find((n) => !ENV_NAME.test(n));
    if (bad !== undefined) return `invalid environment variable name '${bad}'`;
  }
  const repo = matrixRepo(kind, flavour);
  if (Object.values<string>(STACK_REPOS).includes(repo) || repo.endsWith('-builder'))
    return `repository ${repo} is reserved for stack and builder images`;
  if (!isValidRefName(`${repo}:${tag}`)) return `'${repo}:${tag}' is not a valid image reference`;
  const other = owners.get(repo)?.find((o) => o.kind !== kind || o.flavour !== flavour);
  if (other) return `repository ${repo} would also hold flavour '${other.flavour}' kind '${other.kind}'`;
  return undefined;
}

/**
 * Builds catalogue images, tagged `<tag>` and `latest`. A combination that fails is a `failed` entry;
 * the others are built anyway. Entries follow `select` (default `matrixPairs(input)`).
 */
export async function buildMatrix(
  layout: OciLayout,
  input: MatrixInput,
  opts: {
    workDir: string;
    cacheDir: string;
    refresh?: boolean;
    /** Build only these combinations (each must be in matrixPairs, else it is a failed entry saying so). */
    select?: readonly Pair[];
    concurrency?: number;
    tag?: string;
    progress?: StackProgress;
  },
): Promise<MatrixEntry[]> {
  const progress = opts.progress ?? (() => {});
  const tag = opts.tag ?? today();
  const defaults = matrixPairs(input);
  const key = (p: Pair) => `${p.flavour}\0${p.kind}`;
  const wanted = [...new Map((opts.select ?? defaults).map((p) => [key(p), p])).values()];
  const owners = new Map<string, Pair[]>();
  for (const p of new Map([...defaults, ...wanted].map((p) => [key(p), p])).values()) {
    const repo = matrixRepo(p.kind, p.flavour);
    owners.set(repo, [...(owners.get(repo) ?? []), p]);
  }
  await mkdir(opts.workDir, { recursive: true });
  if (opts.refresh) {
    // Once for all: combinations refreshing on their own could see different archive states.
    progress({ stage: 'matrix', detail: 'refreshing the Debian indexes' });
    await loadIndexes({ cacheDir: opts.cacheDir, refresh: true });
  }
  return mapConcurrent(wanted, opts.concurrency ?? 2, async ({ kind, flavour }): Promise<MatrixEntry> => {
    const started = Date.now();
    const seconds = () => Math.round((Date.now() - started) / 100) / 10;
    const stage = `${flavour}-${kind}`;
    const fail = (error: string): MatrixEntry => {
      progress({ stage, detail: `failed: ${error}` });
      return { kind, flavour, status: 'failed', error, seconds: seconds() };
    };
    const why = problem(input, { kind, flavour }, tag, defaults, owners);
    if (why) return fail(why);
    const { packages, env } = recipeOf(input, { kind, flavour });
    const repo = matrixRepo(kind, flavour);
    let dir: string | undefined;
    try {
      // Unique even across processes sharing workDir; the cache is safe to share (stacks/README.md).
      dir = await mkdtemp(path.join(opts.workDir, `${stage}-`));
      const image = await imageFromRecipe(
        layout,
        {
          recipe: {
            ...RUN_RECIPE,
            name: stage,
            packages,
          },
          repo,
          tag,
          dir,
          base: 'run',
          // Sorted: the digest must not depend on the order the input was written in.
          env,
          labels: { [IMAGE_KIND_LABEL]: kind, [IMAGE_FLAVOUR_LABEL]: flavour },
          user: CNB_USER,
          stage,
        },
        { cacheDir: opts.cacheDir, refresh: false, progress },
      );
      await layout.tag(`${repo}:latest`, image.descriptor);
      progress({ stage, detail: `${image.ref} ${image.descriptor.digest}` });
      return {
        kind,
        flavour,
        status: 'ok',
        ref: image.ref,
        digest: image.descriptor.digest,
        packages: image.packages,
        recipe: matrixRecipe(input, { kind, flavour }),
        seconds: seconds(),
      };
    } catch (e) {
      return fail(oneLine(e));
    } finally {
      if (dir) await rm(dir, { recursive: true, force: true });
    }
  });
}
