// Runs host tools (gpgv, xz, dpkg-deb, tar, ldconfig) without a shell, so paths never need quoting.
import { spawn } from 'node:child_process';

export interface RunOptions {
  cwd?: string;
  /** Bytes fed to stdin. */
  input?: Buffer | string;
  /** Exit codes other than 0 that are not an error (the caller inspects the result). */
  okCodes?: number[];
}

export interface RunResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => reject(new Error(`cannot run ${cmd}: ${e.message}`)));
    child.on('close', (code, signal) => {
      const result = { code: code ?? -1, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() };
      if (code === 0 || (code !== null && opts.okCodes?.includes(code))) resolve(result);
      else
        reject(
          new Error(`${cmd} ${args.join(' ')} failed (${signal ?? `exit ${code}`}): ${result.stderr.trim()}`),
        );
    });
    child.stdin.on('error', () => {}); // the child may exit before reading all input; its exit code tells
    child.stdin.end(opts.input);
  });
}

/** `a | b`: pipes the first command's stdout into the second; resolves with the second's stdout. */
export function pipe(
  first: [string, string[]],
  second: [string, string[]],
  cwd?: string,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const a = spawn(first[0], first[1], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    // The first process's stdout pipe becomes the second's stdin directly: the data never passes
    // through JavaScript (which would double the time for large archives).
    const b = spawn(second[0], second[1], { cwd, stdio: [a.stdout, 'pipe', 'pipe'] });
    a.stdout.destroy(); // the parent's copy of the read end; the second process has its own
    const out: Buffer[] = [];
    const errA: Buffer[] = [];
    const errB: Buffer[] = [];
    a.stderr.on('data', (d: Buffer) => errA.push(d));
    b.stderr.on('data', (d: Buffer) => errB.push(d));
    b.stdout.on('data', (d: Buffer) => out.push(d));
    let failed = false;
    const fail = (e: Error) => {
      if (!failed) reject(e);
      failed = true;
    };
    a.on('error', (e) => fail(new Error(`cannot run ${first[0]}: ${e.message}`)));
    b.on('error', (e) => fail(new Error(`cannot run ${second[0]}: ${e.message}`)));
    const codes = [
      new Promise<number | null>((r) => a.on('close', r)),
      new Promise<number | null>((r) => b.on('close', r)),
    ];
    Promise.all(codes).then(([ca, cb]) => {
      const cmdline = `${first[0]} ${first[1].join(' ')} | ${second[0]} ${second[1].join(' ')}`;
      if (ca !== 0)
        fail(new Error(`${cmdline}: ${first[0]} exited ${ca}: ${Buffer.concat(errA).toString().trim()}`));
      else if (cb !== 0)
        fail(new Error(`${cmdline}: ${second[0]} exited ${cb}: ${Buffer.concat(errB).toString().trim()}`));
      else if (!failed)
        resolve({ code: 0, stdout: Buffer.concat(out), stderr: Buffer.concat(errB).toString() });
    });
  });
}
