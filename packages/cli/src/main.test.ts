import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from './main.ts';
import { VERSION } from './version.ts';

async function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  let stdout = '';
  let stderr = '';
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tf-cli-'));
  const code = await main(args, {
    streams: {
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
    },
    env: { HOME: dir, ...env },
  });
  return { code, stdout, stderr, dir };
}

describe('toolforge CLI skeleton', () => {
  it('--version and --help exit 0', async () => {
    expect(await cli(['--version'])).toMatchObject({ code: 0, stdout: `${VERSION}\n` });
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--json');
    expect(help.stdout).toContain('--verbose');
    expect(help.stdout).toContain('--debug');
  });

  it('usage errors exit 2', async () => {
    expect((await cli(['no-such-command'])).code).toBe(2);
    expect((await cli(['config', 'show', '--no-such-flag'])).code).toBe(2);
  });

  it('settings come from flag, then TOOLFORGE_* environment, then the config file, then defaults', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tf-cfg-'));
    const file = path.join(dir, 'config.yaml');
    await writeFile(file, 'api_url: http://file.example:1\ntool: from-file\ntimeout_seconds: 7\n');
    const env = { TOOLFORGE_CONFIG: file, TOOLFORGE_API_URL: 'http://env.example:2' };
    const shown = JSON.parse((await cli(['config', 'show', '--json', '--tool', 'from-flag'], env)).stdout);
    expect(shown.settings.tool).toEqual({ value: 'from-flag', source: 'flag' });
    expect(shown.settings.apiUrl).toEqual({ value: 'http://env.example:2', source: 'environment' });
    expect(shown.settings.timeoutSeconds).toEqual({ value: 7, source: 'config file' });
    expect(shown.settings.token).toEqual({ value: null, source: 'default' });
  });

  it('a bad config file is reported with its path and every problem, exit 2', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tf-cfg-'));
    const file = path.join(dir, 'config.yaml');
    await writeFile(file, 'api_url: not a url\ntimeout_seconds: -1\ncolour: blue\n');
    const res = await cli(['config', 'show'], { TOOLFORGE_CONFIG: file });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(`${file}: api_url`);
    expect(res.stderr).toContain(`${file}: timeout_seconds`);
    expect(res.stderr).toContain('colour');
    await writeFile(file, 'api_url: [unclosed\n');
    const yaml = await cli(['config', 'show'], { TOOLFORGE_CONFIG: file });
    expect(yaml.code).toBe(2);
    expect(yaml.stderr).toContain('is not valid YAML');
  });

  it('warns when a config file holding a token is readable by others, and never prints the token', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tf-cfg-'));
    const file = path.join(dir, 'config.yaml');
    await writeFile(file, 'token: tok-SECRET-123\n');
    await chmod(file, 0o644);
    const res = await cli(['config', 'show'], { TOOLFORGE_CONFIG: file });
    expect(res.code).toBe(0);
    expect(res.stderr).toContain('chmod 600');
    expect(res.stdout + res.stderr).not.toContain('tok-SECRET-123');
  });

  it('--json errors go to stdout as an error object', async () => {
    const res = await cli(['config', 'show', '--json'], { TOOLFORGE_API_URL: 'gopher://x' });
    expect(res.code).toBe(2);
    expect(JSON.parse(res.stdout)).toEqual({
      error: {
        code: 'ERROR',
        message: 'API URL must be an http(s) URL, got gopher://x (from the environment)',
      },
    });
  });
});
