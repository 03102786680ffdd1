import { AppError } from '../../errors.ts';
import { TOOL_NAME } from '../../services/validation.ts';
import type { WorkloadSpec } from '../../workloads/port.ts';
import { validateSchedule } from './schedule.ts';

/** Job names as Toolforge allows them (a DNS label, short enough for the Kubernetes objects' names). */
export const JOB_NAME = /^[a-z0-9]([-a-z0-9]{0,50}[a-z0-9])?$/;
/** Digests end up in paths (the rootfs cache): only the canonical shape. */
const DIGEST = /^sha256:[0-9a-f]{64}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const DEFAULT_MEMORY = '512Mi';
export const DEFAULT_PORT = 8000;

const UNITS: Record<string, number> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** A Kubernetes memory quantity (`512Mi`, `1Gi`, `1.5G`, `268435456`) in bytes, or undefined if malformed. */
export function parseMemory(quantity: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/.exec(quantity.trim());
  if (!m) return undefined;
  const bytes = Math.floor(Number(m[1]) * (UNITS[m[2] ?? ''] ?? Number.NaN));
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : undefined;
}

/** Refuses specs this runtime cannot run, listing every problem (VALIDATION_FAILED). */
export function validateSpec(spec: WorkloadSpec): void {
  const problems: string[] = [];
  if (!TOOL_NAME.test(spec.tool)) problems.push(`tool: invalid name ${JSON.stringify(spec.tool)}`);
  if (spec.kind === 'webservice') {
    if (spec.name !== 'webservice') problems.push('name: a webservice is always named "webservice"');
    if (spec.schedule !== undefined || spec.continuous)
      problems.push('a webservice has no schedule and is always continuous');
    const port = spec.port ?? DEFAULT_PORT;
    // The process does not run as root, and its network namespace keeps the usual privileged range.
    if (!Number.isInteger(port) || port < 1024 || port > 65535) problems.push('port: must be 1024-65535');
  } else if (spec.kind === 'job') {
    if (!JOB_NAME.test(spec.name))
      problems.push(
        `name: invalid job name ${JSON.stringify(spec.name)} (lower-case letters, digits and "-", at most 52, starting and ending with a letter or digit)`,
      );
    if (!spec.command?.trim()) problems.push('command: a job needs a command');
    else if (spec.command.includes('\0')) problems.push('command: contains a NUL byte');
    if (spec.schedule !== undefined && spec.continuous)
      problems.push('a job is either scheduled or continuous, not both');
    if (spec.schedule !== undefined) {
      const why = validateSchedule(spec.schedule);
      if (why) problems.push(`schedule: ${why}`);
    }
  } else {
    problems.push(`kind: must be webservice or job`);
  }
  if (!DIGEST.test(spec.image?.digest ?? '')) problems.push('image: the digest must be sha256:<64 hex>');
  if (spec.image?.type !== 'buildservice' && spec.image?.type !== 'standard')
    problems.push('image: type must be buildservice or standard');
  if (spec.mount !== 'none' && spec.mount !== 'all') problems.push('mount: must be none or all');
  const memory = spec.resources?.memory;
  if (memory !== undefined && parseMemory(memory) === undefined)
    problems.push(`resources.memory: ${JSON.stringify(memory)} is not a quantity like 512Mi or 1Gi`);
  for (const [key, value] of Object.entries(spec.env ?? {})) {
    if (!ENV_NAME.test(key)) problems.push(`env: invalid name ${JSON.stringify(key)}`);
    else if (typeof value !== 'string' || value.includes('\0'))
      problems.push(`env: ${key}: the value must be a string without NUL bytes`);
  }
  if (problems.length)
    throw new AppError('VALIDATION_FAILED', `Bad workload: ${problems.join('; ')}`, { details: problems });
}

/** Scheduled, continuous or one-off: how the supervisor treats a workload. */
export type Mode = 'service' | 'scheduled' | 'once';

export function modeOf(spec: WorkloadSpec): Mode {
  if (spec.kind === 'webservice' || spec.continuous) return 'service';
  return spec.schedule !== undefined ? 'scheduled' : 'once';
}

/** The launcher of built images (called by path: PATH may be overridden by the tool's env). */
export const LAUNCHER = '/cnb/lifecycle/launcher';
export const WEB_PROCESS = '/cnb/process/web';

/**
 * The command line, as Toolforge runs it: buildservice images through the CNB launcher (so Procfile
 * process names and shell lines both work), standard images through /bin/sh. A webservice runs the
 * image's `web` process (buildservice) or its own Entrypoint and Cmd (standard).
 */
export function argvFor(spec: WorkloadSpec, image: { Entrypoint?: string[] | null; Cmd?: string[] | null }) {
  const command = spec.command?.trim();
  if (spec.kind === 'webservice') {
    if (spec.image.type === 'buildservice') return [WEB_PROCESS];
    if (command) return ['/bin/sh', '-c', command];
    return [...(image.Entrypoint ?? []), ...(image.Cmd ?? [])];
  }
  if (spec.image.type === 'standard') return ['/bin/sh', '-c', command ?? ''];
  const rest = command?.startsWith('launcher ') ? command.slice('launcher '.length).trim() : command;
  return [LAUNCHER, rest ?? ''];
}

/** The image's Env, then what Toolforge adds, then the tool's own variables (which win). */
export function envFor(spec: WorkloadSpec, imageEnv: readonly string[] | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of imageEnv ?? []) {
    const i = e.indexOf('=');
    if (i > 0) env[e.slice(0, i)] = e.slice(i + 1);
  }
  // As Toolforge: PORT for what listens, NO_HOME for every buildservice workload (jobs-api sets it too).
  if (spec.kind === 'webservice' || spec.port) env.PORT = String(spec.port ?? DEFAULT_PORT);
  if (spec.image.type === 'buildservice') env.NO_HOME = 'a buildservice pod does not need a home env';
  return Object.assign(env, spec.env);
}
