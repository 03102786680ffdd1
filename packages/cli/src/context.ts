import { readFileSync } from 'node:fs';
import { type ApiClient, createClient } from '@toolforge/api/contract';
import type { CliConfig, Source } from './config.ts';
import { CliError } from './errors.ts';
import type { Output } from './output.ts';

/** Everything a command needs; commands never touch process.* or the network directly. */
export interface CommandContext {
  out: Output;
  config: CliConfig;
  sources: Record<keyof CliConfig, Source>;
  configFile: string;
  /** The typed API client, created on first use. */
  api(): ApiClient;
  /** The tool this CLI acts for. */
  tool(): string;
  /** Ask a yes/no question on the terminal (false when not interactive). */
  confirm(question: string): Promise<boolean>;
  /** Set by commands whose operation ran but failed (e.g. the build failed): the process exits with it. */
  exitCode: number;
}

export function makeApi(config: CliConfig, userAgent: string): ApiClient {
  const read = (file: string | undefined, what: string) => {
    if (!file) return undefined;
    try {
      return readFileSync(file);
    } catch (err) {
      throw new CliError(`cannot read the ${what} file ${file}: ${(err as Error).message}`, { exitCode: 2 });
    }
  };
  const ca = read(config.ca, 'CA');
  const cert = read(config.cert, 'client certificate');
  const key = read(config.key, 'client key');
  return createClient({
    baseUrl: config.apiUrl,
    timeoutMs: config.timeoutSeconds * 1000,
    userAgent,
    ...(config.token ? { token: config.token } : {}),
    ...(ca || cert || key
      ? { tls: { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) } }
      : {}),
  });
}

export function requireTool(config: CliConfig): string {
  if (config.tool) return config.tool;
  throw new CliError('which tool? No tool name is configured.', {
    exitCode: 2,
    hint: 'set TOOLFORGE_TOOL, pass --tool, or put `tool: <name>` in your config file (an admin command writes it for you)',
  });
}
