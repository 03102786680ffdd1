import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AppError } from '../errors.ts';
import type { Source } from './url.ts';

const SHA = /^[0-9a-f]{40}$/;
const MAX_OUTPUT = 8 * 1024 * 1024;

export interface GitOptions {
  timeoutMs: number;
  allowFile: boolean;
  signal?: AbortSignal;
}

/** Run git with a locked-down configuration: no prompts, hooks, credential helpers, user config or redirects. */
async function git(args: string[], opts: GitOptions & { source?: Source; cwd?: string }): Promise<string> {
  const home = await mkdtemp(path.join(os.tmpdir(), 'tf-git-home-'));
  const protocols = ['https', 'http', 'git', ...(opts.allowFile ? ['file'] : [])];
  const config = [
    '-c',
    'protocol.allow=never',
    ...protocols.flatMap((p) => ['-c', `protocol.${p}.allow=always`]),
    '-c',
    'core.hooksPath=/dev/null',
    '-c',
    'credential.helper=',
    '-c',
    'http.followRedirects=false',
    '-c',
    'core.askPass=',
    '-c',
    'submodule.recurse=false',
    '-c',
    'core.symlinks=true',
    '-c',
    'advice.detachedHead=false',
  ];
  if (opts.source?.pinned && opts.source.url.protocol.startsWith('http')) {
    const p = opts.source.pinned;
    config.push(
      '-c',
      `http.curloptResolve=${p.host}:${p.port}:${p.address.includes(':') ? `[${p.address}]` : p.address}`,
    );
  }
  try {
    return await new Promise<string>((resolve, reject) => {
      execFile(
        'git',
        [...config, ...args],
        {
          cwd: opts.cwd,
          timeout: opts.timeoutMs,
          ...(opts.signal ? { signal: opts.signal } : {}),
          maxBuffer: MAX_OUTPUT,
          env: {
            PATH: process.env.PATH ?? '/usr/bin:/bin',
            HOME: home,
            GIT_TERMINAL_PROMPT: '0',
            GIT_CONFIG_NOSYSTEM: '1',
            GIT_CONFIG_GLOBAL: '/dev/null',
            GIT_PROTOCOL_FROM_USER: '0',
            GIT_ASKPASS: '/bin/false',
            SSH_ASKPASS: '/bin/false',
            LANG: 'C',
          },
        },
        (err, stdout, stderr) =>
          err ? reject(Object.assign(err, { stderr: String(stderr) })) : resolve(String(stdout)),
      );
    });
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

function gitMessage(err: unknown): string {
  const e = err as { stderr?: string; killed?: boolean; message?: string };
  if (e.killed) return 'git took too long';
  const line = (e.stderr ?? e.message ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('hint:'))
    .pop();
  return line ?? 'git failed';
}

/** Resolve a ref to a commit with `git ls-remote` (a 40-hex ref is taken as a commit as is). */
export async function resolveRef(source: Source, ref: string | undefined, opts: GitOptions): Promise<string> {
  if (ref && SHA.test(ref)) return ref;
  const wanted = ref || 'HEAD';
  let out: string;
  try {
    out = await git(['ls-remote', '--', source.url.href, wanted], { ...opts, source });
  } catch (err) {
    throw new AppError(
      'REF_NOT_FOUND',
      `Failed to resolve ref ${wanted}, maybe the repository ${source.display} is not public? (${gitMessage(err)})`,
      {
        hint: 'Check the URL, that the repository is public, and the branch or tag name.',
        cause: err,
      },
    );
  }
  const lines = out
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('\t') as [string, string]);
  // Prefer an exact ref name, then a branch, then a tag (peeled), as git checkout would.
  const pick =
    lines.find(([, name]) => name === wanted) ??
    lines.find(([, name]) => name === `refs/heads/${wanted}`) ??
    lines.find(([, name]) => name === `refs/tags/${wanted}^{}`) ??
    lines.find(([, name]) => name === `refs/tags/${wanted}`) ??
    lines[0];
  if (!pick || !SHA.test(pick[0])) {
    throw new AppError(
      'REF_NOT_FOUND',
      `Failed to resolve ref ${wanted}: no such branch or tag in ${source.display}.`,
      {
        hint: 'Check the branch or tag name (`git ls-remote <url>` lists them).',
      },
    );
  }
  return pick[0];
}

/**
 * Fetch exactly one commit into `dest` (no history, no submodules). Tries a shallow fetch of the commit,
 * then of the ref it came from, then a full fetch, because not every server lets clients ask for a commit.
 */
export async function checkout(
  source: Source,
  commit: string,
  ref: string | undefined,
  dest: string,
  opts: GitOptions,
): Promise<void> {
  await mkdir(dest, { recursive: true });
  const run = (args: string[]) => git(args, { ...opts, source, cwd: dest });
  await run(['init', '-q']);
  const attempts = [
    ['fetch', '-q', '--depth=1', '--no-tags', '--', source.url.href, commit],
    ...(ref && !SHA.test(ref) ? [['fetch', '-q', '--depth=1', '--no-tags', '--', source.url.href, ref]] : []),
    [
      'fetch',
      '-q',
      '--no-tags',
      '--',
      source.url.href,
      '+refs/heads/*:refs/remotes/origin/*',
      '+refs/tags/*:refs/tags/*',
    ],
  ];
  let lastErr: unknown;
  for (const args of attempts) {
    try {
      await run(args);
      await run(['checkout', '-q', '--detach', commit]);
      return;
    } catch (err) {
      lastErr = err;
    }
  }
  throw new AppError(
    'REF_NOT_FOUND',
    `Could not fetch commit ${commit} from ${source.display}: ${gitMessage(lastErr)}`,
    {
      cause: lastErr,
    },
  );
}
