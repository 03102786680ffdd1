import { type Buildpack, bpId, isComposite, type Order } from './descriptor.ts';

/** One buildpack in an expanded group, with whether detection may drop it. */
export interface GroupElement {
  buildpack: Buildpack;
  optional: boolean;
}

export class UnknownBuildpackError extends Error {
  constructor(id: string, version: string | undefined) {
    super(`the order names buildpack ${id}${version ? `@${version}` : ''}, which the builder does not have`);
    this.name = 'UnknownBuildpackError';
  }
}

/**
 * Expand an order into flat groups of component buildpacks, depth first and left to right: a composite
 * element is replaced by each of its own groups in turn (its children inherit `optional` when the composite
 * is optional). A buildpack id seen earlier in the same expansion is skipped, as the lifecycle does.
 */
export function expandOrder(
  order: Order,
  lookup: (id: string, version?: string) => Buildpack | undefined,
): GroupElement[][] {
  const out: GroupElement[][] = [];
  const expandGroup = (rest: Order[number]['group'], acc: GroupElement[], depth: number): void => {
    if (depth > 32)
      throw new Error('buildpack order nests too deeply (a composite buildpack includes itself?)');
    const [first, ...tail] = rest;
    if (!first) {
      out.push(acc);
      return;
    }
    const bp = lookup(first.id, first.version);
    if (!bp) throw new UnknownBuildpackError(first.id, first.version);
    if (acc.some((e) => bpId(e.buildpack) === first.id)) {
      expandGroup(tail, acc, depth);
      return;
    }
    if (!isComposite(bp)) {
      expandGroup(tail, [...acc, { buildpack: bp, optional: first.optional }], depth);
      return;
    }
    for (const sub of bp.descriptor.order ?? []) {
      const children = sub.group.map((g) => ({ ...g, optional: g.optional || first.optional }));
      expandGroup([...children, ...tail], acc, depth + 1);
    }
  };
  for (const entry of order) expandGroup(entry.group, [], 0);
  return out;
}
