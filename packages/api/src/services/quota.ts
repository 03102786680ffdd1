import type { Quota } from '../contract/index.ts';

const UNITS = [
  ['Ti', 2 ** 40],
  ['Gi', 2 ** 30],
  ['Mi', 2 ** 20],
  ['Ki', 2 ** 10],
] as const;

/** Upstream's byte formatting: two decimals in the largest fitting binary unit (1.00Gi, 312.40Mi, 12B). */
export function formatBytes(n: number): string {
  for (const [unit, size] of UNITS) if (n >= size) return `${(n / size).toFixed(2)}${unit}`;
  return `${n}B`;
}

/** The reference quota shape: category Registry, item Storage, values as strings. */
export function quotaShape(
  usedBytes: number,
  limitBytes: number | undefined,
): { quota: Quota; percent: number } {
  const percent = limitBytes ? Math.round((usedBytes / limitBytes) * 100) : 0;
  const item = {
    name: 'Storage',
    limit: limitBytes ? formatBytes(limitBytes) : 'Unlimited',
    used: formatBytes(usedBytes),
    available: limitBytes ? formatBytes(Math.max(0, limitBytes - usedBytes)) : 'Unlimited',
    capacity: `${percent}%`,
  };
  return { quota: { categories: [{ name: 'Registry', items: [item] }] }, percent };
}
