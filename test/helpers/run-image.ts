import { chmodSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { OUTBOUND_RESOLV_CONF, runSandboxed, type SandboxResult } from '@toolforge/buildpacks/sandbox';
import { type OciLayout, readImage, unpackImage } from '@toolforge/oci';

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export interface ImageRun {
  result: Promise<SandboxResult>;
  output: () => string;
  stop: () => void;
}

/**
 * Run an image the way a container runtime would, from its own config only (Entrypoint, Cmd, Env, User,
 * WorkingDir): unpacked, under bubblewrap, read-only, with no host folder mounted.
 */
export async function runImage(
  layout: OciLayout,
  ref: string,
  opts: {
    args?: string[];
    entrypoint?: string[];
    env?: Record<string, string>;
    publish?: { hostPort: number; guestPort: number };
    wallTimeMs?: number;
  } = {},
): Promise<ImageRun> {
  const image = await readImage(layout, ref);
  const rootfs = mkdtempSync(path.join(os.tmpdir(), 'tf-rootfs-'));
  chmodSync(rootfs, 0o755); // the sandbox's unprivileged host id must reach it
  await unpackImage(layout, ref, rootfs, { symlinks: 'rootfs', preserveOwnership: true });
  const cfg = image.config.config ?? {};
  const env: Record<string, string> = {};
  for (const e of cfg.Env ?? []) env[e.slice(0, e.indexOf('='))] = e.slice(e.indexOf('=') + 1);
  Object.assign(env, opts.env);
  const [uid = 0, gid = 0] = (cfg.User ?? '0:0').split(':').map(Number);
  const argv = [...(opts.entrypoint ?? cfg.Entrypoint ?? []), ...(opts.args ?? cfg.Cmd ?? [])];
  let output = '';
  const abort = new AbortController();
  const result = runSandboxed({
    rootfs,
    tmpfs: [{ target: '/tmp', sizeBytes: 64 * 2 ** 20 }],
    files: [{ target: '/etc/resolv.conf', content: OUTBOUND_RESOLV_CONF }],
    argv,
    cwd: cfg.WorkingDir || '/',
    env,
    uid,
    gid,
    network: 'outbound',
    ...(opts.publish ? { publish: [opts.publish] } : {}),
    limits: {
      wallTimeMs: opts.wallTimeMs ?? 60_000,
      memoryBytes: 512 * 2 ** 20,
      pids: 256,
      outputBytes: 4 * 2 ** 20,
    },
    onOutput: (chunk) => {
      output += chunk.toString('utf8');
    },
    signal: abort.signal,
  });
  return { result, output: () => output, stop: () => abort.abort() };
}

/** Poll an HTTP URL until it answers (or the deadline passes). */
export async function waitForHttp(url: string, timeoutMs = 20_000): Promise<Response> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    try {
      return await fetch(url, { signal: AbortSignal.timeout(2000) });
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms: ${(last as Error)?.message}`);
}
