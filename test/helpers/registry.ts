// Starts a real CNCF distribution registry (`docker-registry serve`) on 127.0.0.1 for tests.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import type { TokenServer } from './token-server.ts';

export interface StartRegistryOptions {
  auth?: 'none' | 'htpasswd' | 'token';
  /** Required for auth 'token': its realm, service, issuer and certificate configure the registry. */
  tokenServer?: TokenServer;
  /** Allow DELETE of manifests and blobs (default true). */
  deleteEnabled?: boolean;
  /** htpasswd users (default { testuser: 'testpassword' }). */
  users?: Record<string, string>;
  /** Make the registry return relative Location headers (distribution `http.relativeurls`). */
  relativeUrls?: boolean;
}

export interface RunningRegistry extends AsyncDisposable {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  /** e.g. 127.0.0.1:41234 (image references) */
  host: string;
  port: number;
  /** The first htpasswd user, when auth is 'htpasswd'. */
  credentials?: { username: string; password: string };
  /** Registry storage root. */
  storageDir: string;
  /** What the registry printed (for diagnosing failures). */
  output(): string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitReady(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`docker-registry exited with ${child.exitCode}:\n${output()}`);
    try {
      const res = await fetch(`${url}/v2/`);
      await res.body?.cancel();
      if (res.status === 200 || res.status === 401) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`docker-registry did not become ready:\n${output()}`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

export async function startRegistry(options: StartRegistryOptions = {}): Promise<RunningRegistry> {
  const auth = options.auth ?? 'none';
  const dir = await mkdtemp(join(tmpdir(), 'registry-'));
  const storageDir = join(dir, 'data');
  const users = options.users ?? { testuser: 'testpassword' };
  const config: Record<string, unknown> = {
    version: 0.1,
    log: { level: 'warn', accesslog: { disabled: true } },
    storage: {
      filesystem: { rootdirectory: storageDir },
      delete: { enabled: options.deleteEnabled ?? true },
      maintenance: { uploadpurging: { enabled: false } },
    },
    health: { storagedriver: { enabled: false } },
  };
  if (auth === 'htpasswd') {
    const lines = Object.entries(users).map(([u, p]) => `${u}:${bcrypt.hashSync(p, 4)}`);
    await writeFile(join(dir, 'htpasswd'), `${lines.join('\n')}\n`);
    config.auth = { htpasswd: { realm: 'test-registry', path: join(dir, 'htpasswd') } };
  } else if (auth === 'token') {
    const ts = options.tokenServer;
    if (!ts) throw new Error("startRegistry: auth 'token' needs a tokenServer");
    config.auth = {
      token: { realm: ts.realm, service: ts.service, issuer: ts.issuer, rootcertbundle: ts.certPath },
    };
  }

  // The port is picked then bound by the registry: retry the rare case of someone else taking it meanwhile.
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    // JSON is YAML, so the config needs no YAML writer.
    const configPath = join(dir, 'config.yml');
    await writeFile(
      configPath,
      JSON.stringify({
        ...config,
        http: {
          addr: `127.0.0.1:${port}`,
          secret: 'test-secret',
          relativeurls: options.relativeUrls ?? false,
        },
      }),
    );
    const child = spawn('docker-registry', ['serve', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout?.on('data', (c) => (out += c));
    child.stderr?.on('data', (c) => (out += c));
    try {
      await waitReady(url, child, () => out);
    } catch (err) {
      await stopChild(child);
      if (attempt < 2 && /address already in use/.test(out)) continue;
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    let stopped = false;
    const stop = async () => {
      if (stopped) return;
      stopped = true;
      await stopChild(child);
      await rm(dir, { recursive: true, force: true });
    };
    const [username, password] = Object.entries(users)[0] ?? [];
    return {
      url,
      host: `127.0.0.1:${port}`,
      port,
      ...(auth === 'htpasswd' && username !== undefined && password !== undefined
        ? { credentials: { username, password } }
        : {}),
      storageDir,
      output: () => out,
      stop,
      [Symbol.asyncDispose]: stop,
    };
  }
}
