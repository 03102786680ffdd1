import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TEST_STACK_DIR } from '../../helpers/paths.ts';

const SERVER = path.resolve(import.meta.dirname, '../../../packages/api/src/server.ts');

function start(env: Record<string, string>) {
  const child = spawn(process.execPath, [SERVER], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const m = out.match(/Server listening at (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) {
        clearInterval(timer);
        resolve(m[1] as string);
      }
    }, 50);
    void exited.then(() => {
      clearInterval(timer);
      reject(new Error(`server exited: ${err}`));
    });
  });
  return { child: child as ChildProcess, url, exited, output: () => out + err };
}

describe('the API server process', () => {
  it('serves healthz on loopback and stops cleanly on SIGTERM', async () => {
    const data = await mkdtemp(path.join(os.tmpdir(), 'tf-api-'));
    const s = start({ TOOLFORGE_DATA_DIR: data, TOOLFORGE_STACK_DIR: TEST_STACK_DIR });
    const url = await s.url;
    const res = await fetch(`${url}/v1/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'OK' });
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    expect(s.output()).toContain('shutting down');
  });

  it('reports not ready, with the fix, while the builder is missing', async () => {
    const data = await mkdtemp(path.join(os.tmpdir(), 'tf-api-'));
    const s = start({ TOOLFORGE_DATA_DIR: data });
    const res = await fetch(`${await s.url}/v1/healthz`);
    expect(res.status).toBe(503);
    const body = (await res.json()) as { status: string; messages: { error: string[] } };
    expect(body.status).toBe('ERROR');
    expect(body.messages.error.join('\n')).toMatch(
      /stacks: builder .* is missing: run `toolforge-admin stack ensure`/,
    );
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
  });

  it('refuses to start with bad settings: every problem on its own line, exit 1', async () => {
    const s = start({ PORT: 'x', TOOLFORGE_NOPE: '1' });
    await s.url.catch(() => undefined);
    expect(await s.exited).toBe(1);
    expect(s.output()).toContain('PORT="x"');
    expect(s.output()).toContain('TOOLFORGE_NOPE: unknown setting');
    expect(s.output()).not.toMatch(/at .*\.ts:\d+/);
  });
});
