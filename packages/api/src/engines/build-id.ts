import { randomInt } from 'node:crypto';

/** Kubernetes generateName's alphabet (no vowels, no look-alikes), so ids look like upstream's. */
const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
export const BUILD_ID_INFIX = '-buildpacks-pipelinerun-';

/** `<tool>-buildpacks-pipelinerun-<5 random chars>`, as upstream builds-api names PipelineRuns. */
export function newBuildId(tool: string): string {
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += ALPHABET[randomInt(ALPHABET.length)];
  return `${tool}${BUILD_ID_INFIX}${suffix}`;
}

/** Whether an id can belong to the tool at all (cheap check before any lookup). */
export function idBelongsTo(tool: string, id: string): boolean {
  return (
    id.startsWith(`${tool}${BUILD_ID_INFIX}`) &&
    /^[a-z0-9]{5}$/.test(id.slice(tool.length + BUILD_ID_INFIX.length))
  );
}
