import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';

const LogLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** Every setting of the API, read once from the environment at start-up (nowhere else reads process.env). */
export const ConfigSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8000),
  TOOLFORGE_ADDRESS: z.string().min(1).default('127.0.0.1'),
  LOG_LEVEL: LogLevel.default('info'),
  TOOLFORGE_DATA_DIR: z.string().min(1).default(path.resolve('.data')),
  /** Seconds a SIGTERM waits for in-flight requests before the process exits anyway. */
  TOOLFORGE_SHUTDOWN_GRACE_SECONDS: z.coerce.number().int().min(0).max(3600).default(20),
  TOOLFORGE_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  TOOLFORGE_CORES: z.coerce.number().int().min(1).default(os.availableParallelism()),
});
export type Config = Readonly<z.infer<typeof ConfigSchema>>;

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Parse the environment; every bad key is reported, one line each, instead of failing on the first. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const known = new Set(Object.keys(ConfigSchema.shape));
  const input: Record<string, string> = {};
  const problems: string[] = [];
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (known.has(key)) input[key] = value;
    else if (key.startsWith('TOOLFORGE_') && !key.startsWith('TOOLFORGE_TEST_') && !CLIENT_KEYS.has(key)) {
      problems.push(`${key}: unknown setting`);
    }
  }
  const parsed = ConfigSchema.safeParse(input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = String(issue.path[0]);
      problems.push(`${key}=${JSON.stringify(input[key] ?? '')}: ${issue.message}`);
    }
  }
  if (problems.length) throw new ConfigError(problems.sort());
  return Object.freeze(parsed.data as z.infer<typeof ConfigSchema>);
}

/** Settings of the CLI that may sit in the same shell; not ours to reject. */
const CLIENT_KEYS = new Set([
  'TOOLFORGE_API_URL',
  'TOOLFORGE_TOKEN',
  'TOOLFORGE_TOOL',
  'TOOLFORGE_CONFIG',
  'TOOLFORGE_CA',
  'TOOLFORGE_CERT',
  'TOOLFORGE_KEY',
  'TOOLFORGE_VERBOSE',
  'TOOLFORGE_DEBUG',
  'TOOLFORGE_CLI',
]);
