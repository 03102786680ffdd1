import { ConfigError, loadConfig } from '../config.ts';

export const out = (s: string) => process.stdout.write(`${s}\n`);
export const err = (s: string) => process.stderr.write(`${s}\n`);

/** An operator mistake: printed as `Error: …` without a stack trace, exit 1. */
export class AdminError extends Error {}

export function config() {
  try {
    return loadConfig(process.env);
  } catch (e) {
    if (e instanceof ConfigError) throw new AdminError(e.message);
    throw e;
  }
}
