import { constants } from 'node:os';

/** "512 MiB", "1.5 GiB", "100 B": for limit messages that people read in build logs. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const text = Number.isInteger(value) ? String(value) : value.toFixed(1).replace(/\.0$/, '');
  return `${text} ${units[unit]}`;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  return Number.isInteger(s) ? `${s} s` : `${s.toFixed(1)} s`;
}

/** Signal name for a number ("SIGKILL" for 9), or null for numbers that are not signals. */
export function signalName(n: number): string | null {
  for (const [name, value] of Object.entries(constants.signals)) if (value === n) return name;
  return null;
}

/**
 * bwrap reports a command killed by signal n as exit status 128 + n (like a shell), so that is all anyone
 * can know: an explicit `exit 137` reads the same as SIGKILL.
 */
export function decodeExitStatus(status: number): { exitCode: number; signal: string | null } {
  const signal = status > 128 && status < 128 + 65 ? signalName(status - 128) : null;
  return { exitCode: status, signal };
}
