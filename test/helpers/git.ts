import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './run-image.ts';

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.org',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.org',
  GIT_AUTHOR_DATE: '2024-01-01T00:00:00Z',
  GIT_COMMITTER_DATE: '2024-01-01T00:00:00Z',
};

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, { cwd, env: GIT_ENV, encoding: 'utf8' }).trim();

export interface Repo {
  /** Working copy and repository. */
  dir: string;
  url: string;
  commit: string;
  /** Commit a change and return the new commit. */
  commitFiles(files: Record<string, string>, message?: string): string;
}

/** A git repository (branch `main`) holding a sample app folder or the given files, under `root`. */
export function makeRepo(
  source: string | Record<string, string>,
  opts: { root?: string; name?: string } = {},
): Repo {
  const root = opts.root ?? mkdtempSync(path.join(os.tmpdir(), 'tf-repos-'));
  const dir = path.join(root, opts.name ?? 'app.git');
  mkdirSync(dir, { recursive: true });
  if (typeof source === 'string') cpSync(source, dir, { recursive: true });
  else
    for (const [f, c] of Object.entries(source)) {
      mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      writeFileSync(path.join(dir, f), c);
    }
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'initial');
  const repo: Repo = {
    dir,
    url: `file://${dir}`,
    commit: git(dir, 'rev-parse', 'HEAD'),
    commitFiles(files, message = 'change') {
      for (const [f, c] of Object.entries(files)) {
        mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
        writeFileSync(path.join(dir, f), c);
      }
      git(dir, 'add', '-A');
      git(dir, 'commit', '-q', '-m', message);
      repo.commit = git(dir, 'rev-parse', 'HEAD');
      return repo.commit;
    },
  };
  return repo;
}

export interface GitServer {
  url(repo: string): string;
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** `git daemon` on 127.0.0.1 serving every repository under `base` over git://. */
export async function gitDaemon(base: string): Promise<GitServer> {
  const port = await freePort();
  const child = spawn(
    'git',
    [
      'daemon',
      '--reuseaddr',
      '--export-all',
      `--base-path=${base}`,
      '--listen=127.0.0.1',
      `--port=${port}`,
      base,
    ],
    {
      stdio: 'ignore',
    },
  );
  for (let i = 0; i < 50; i++) {
    try {
      execFileSync('git', ['ls-remote', `git://127.0.0.1:${port}/none`], { stdio: 'ignore', timeout: 2000 });
      break;
    } catch (err) {
      if ((err as { status?: number }).status === 128) break; // the daemon answered (no such repository)
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const stop = async () => {
    child.kill('SIGKILL');
  };
  return { url: (repo) => `git://127.0.0.1:${port}/${repo}`, stop, [Symbol.asyncDispose]: stop };
}

/** `git http-backend` (smart HTTP) behind a small Node server on 127.0.0.1. */
export async function gitHttp(base: string): Promise<GitServer> {
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const cgi = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env.PATH,
        GIT_PROJECT_ROOT: base,
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: req.method ?? 'GET',
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        CONTENT_LENGTH: req.headers['content-length'] ?? '',
        REMOTE_ADDR: '127.0.0.1',
        GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
      },
    });
    req.pipe(cgi.stdin);
    let head = Buffer.alloc(0);
    let headersDone = false;
    cgi.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      headersDone = true;
      let status = 200;
      for (const line of head.subarray(0, end).toString().split('\r\n')) {
        const i = line.indexOf(':');
        const name = line.slice(0, i).trim();
        const value = line.slice(i + 1).trim();
        if (name.toLowerCase() === 'status') status = Number(value.split(' ')[0]);
        else res.setHeader(name, value);
      }
      res.writeHead(status);
      res.write(head.subarray(end + 4));
    });
    cgi.stdout.on('end', () => res.end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const stop = () => new Promise<void>((r) => server.close(() => r()));
  return { url: (repo) => `http://127.0.0.1:${port}/${repo}`, stop, [Symbol.asyncDispose]: stop };
}
