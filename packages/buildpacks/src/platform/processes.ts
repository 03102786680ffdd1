import type { ProcessDef } from './layer-files.ts';

export interface Process {
  type: string;
  command: string[];
  args: string[];
  direct: boolean;
  buildpackId: string;
  workingDir: string;
}

/**
 * Merge the processes of all buildpacks in group order: a later buildpack's process replaces an earlier one
 * of the same type; the default is the last one marked default, cleared when a later non-default process
 * replaces it. With no default marked, `web` is the default when present (as Toolforge's webservice expects).
 */
export function mergeProcesses(
  perBuildpack: { buildpackId: string; processes: ProcessDef[] }[],
  appDir: string,
): { processes: Process[]; defaultType: string | undefined } {
  const byType = new Map<string, Process>();
  let defaultType: string | undefined;
  for (const { buildpackId, processes } of perBuildpack) {
    for (const p of processes) {
      byType.set(p.type, {
        type: p.type,
        command: p.command,
        args: p.args,
        direct: true,
        buildpackId,
        workingDir: p['working-dir'] ?? appDir,
      });
      if (p.default) defaultType = p.type;
      else if (defaultType === p.type) defaultType = undefined;
    }
  }
  if (!defaultType && byType.has('web')) defaultType = 'web';
  const processes = [...byType.values()].sort((a, b) => a.type.localeCompare(b.type));
  return { processes, defaultType };
}
