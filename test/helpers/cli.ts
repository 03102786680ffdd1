import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../packages/cli/src/main.ts';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the toolforge CLI in this process, as a user with the given settings would from a shell. */
export async function cli(args: string[], env: Record<string, string>, answer?: string): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    streams: {
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
    },
    env: { HOME: mkdtempSync(path.join(os.tmpdir(), 'tf-home-')), ...env },
    ...(answer !== undefined ? { ask: async () => answer } : {}),
  });
  return { code, stdout, stderr };
}
