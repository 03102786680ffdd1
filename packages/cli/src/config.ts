import { readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';

/** The CLI's settings. Precedence: flag > TOOLFORGE_* environment > config file > default. */
export interface CliConfig {
  apiUrl: string;
  tool: string | undefined;
  token: string | undefined;
  ca: string | undefined;
  cert: string | undefined;
  key: string | undefined;
  timeoutSeconds: number;
}
export type Source = 'flag' | 'environment' | 'config file' | 'default';

const FileSchema = z
  .object({
    api_url: z.url().optional(),
    tool: z.string().min(1).optional(),
    token: z.string().min(1).optional(),
    ca: z.string().min(1).optional(),
    cert: z.string().min(1).optional(),
    key: z.string().min(1).optional(),
    timeout_seconds: z.number().positive().optional(),
  })
  .strict();
export type ConfigFile = z.infer<typeof FileSchema>;

const KEYS = {
  apiUrl: { env: 'TOOLFORGE_API_URL', file: 'api_url' },
  tool: { env: 'TOOLFORGE_TOOL', file: 'tool' },
  token: { env: 'TOOLFORGE_TOKEN', file: 'token' },
  ca: { env: 'TOOLFORGE_CA', file: 'ca' },
  cert: { env: 'TOOLFORGE_CERT', file: 'cert' },
  key: { env: 'TOOLFORGE_KEY', file: 'key' },
  timeoutSeconds: { env: 'TOOLFORGE_TIMEOUT', file: 'timeout_seconds' },
} as const satisfies Record<keyof CliConfig, { env: string; file: keyof ConfigFile }>;

const DEFAULTS: CliConfig = {
  apiUrl: 'http://127.0.0.1:8000',
  tool: undefined,
  token: undefined,
  ca: undefined,
  cert: undefined,
  key: undefined,
  timeoutSeconds: 20,
};

/** `$TOOLFORGE_CONFIG`, else `$XDG_CONFIG_HOME/toolforge/config.yaml`, else `~/.config/toolforge/config.yaml`. */
export function configPath(env: NodeJS.ProcessEnv): string {
  if (env.TOOLFORGE_CONFIG) return env.TOOLFORGE_CONFIG;
  const base = env.XDG_CONFIG_HOME || path.join(env.HOME || os.homedir(), '.config');
  return path.join(base, 'toolforge', 'config.yaml');
}

export interface Loaded<T> {
  value: T;
  warnings: string[];
  errors: string[];
}

/** Read and validate the config file; problems are returned, not thrown, so the CLI can report them all. */
export async function readConfigFile(file: string): Promise<Loaded<ConfigFile>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { value: {}, warnings: [], errors: [] };
    return { value: {}, warnings: [], errors: [`cannot read ${file}: ${(err as Error).message}`] };
  }
  const warnings: string[] = [];
  let raw: unknown;
  try {
    raw = parse(text, { maxAliasCount: 10 }) ?? {};
  } catch (err) {
    return {
      value: {},
      warnings,
      errors: [`${file} is not valid YAML: ${(err as Error).message.split('\n')[0]}`],
    };
  }
  const parsed = FileSchema.safeParse(raw);
  if (!parsed.success) {
    return {
      value: {},
      warnings,
      errors: parsed.error.issues.map((i) => `${file}: ${i.path.join('.') || '(top)'}: ${i.message}`),
    };
  }
  if (parsed.data.token) {
    const mode = (await stat(file)).mode & 0o077;
    if (mode) warnings.push(`${file} holds a token but is readable by others; run: chmod 600 ${file}`);
  }
  return { value: parsed.data, warnings, errors: [] };
}

/** Merge the layers; returns each value's source too (shown by `toolforge config show`). */
export function resolveConfig(
  flags: Partial<Record<keyof CliConfig, string | number | undefined>>,
  env: NodeJS.ProcessEnv,
  file: ConfigFile,
): Loaded<{ config: CliConfig; sources: Record<keyof CliConfig, Source> }> {
  const config = { ...DEFAULTS } as Record<keyof CliConfig, unknown>;
  const sources = {} as Record<keyof CliConfig, Source>;
  const errors: string[] = [];
  for (const [name, where] of Object.entries(KEYS) as [keyof CliConfig, (typeof KEYS)[keyof CliConfig]][]) {
    const candidates: [Source, unknown][] = [
      ['flag', flags[name]],
      ['environment', env[where.env] || undefined],
      ['config file', file[where.file]],
      ['default', DEFAULTS[name]],
    ];
    const [source, value] = candidates.find(([, v]) => v !== undefined) ?? ['default', undefined];
    sources[name] = source;
    config[name] = value;
  }
  const timeout = Number(config.timeoutSeconds);
  if (!Number.isFinite(timeout) || timeout <= 0)
    errors.push(`timeout must be a positive number of seconds, got ${String(config.timeoutSeconds)}`);
  config.timeoutSeconds = timeout;
  try {
    const url = new URL(String(config.apiUrl));
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    errors.push(`API URL must be an http(s) URL, got ${String(config.apiUrl)} (from the ${sources.apiUrl})`);
  }
  return { value: { config: config as unknown as CliConfig, sources }, warnings: [], errors };
}
