// Starts bwrap, through a small perl prelude that first moves itself into the run's cgroups (so bwrap and
// everything it forks are born inside them: nothing escapes between a fork and a later move) and closes
// every file descriptor the service inherited without close-on-exec (bwrap passes all open fds on to the
// command); then it execs prlimit (no core dumps; process and memory rlimits when they stand in for
// cgroups), which execs bwrap. All of it runs as the run's host identity.
import { type ChildProcess, spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { bwrapOptions } from './bwrap-args.ts';
import type { HostIdentity } from './host-identity.ts';
import { closeFdsAbove, SAFE_PATH } from './process-util.ts';
import type { SandboxSpec } from './types.ts';

// argv: highest fd to keep, number of cgroup.procs files, the files, the command.
const PRELUDE = `
my ($keep, $n, @rest) = @ARGV;
for my $f (splice(@rest, 0, $n)) {
  open(my $h, '>', $f) or die "cannot open $f: $!\\n";
  print $h "$$\\n";
  close($h) or die "cannot join cgroup $f: $!\\n";
}
${closeFdsAbove('$keep')}
exec { $rest[0] } @rest or die "cannot exec $rest[0]: $!\\n";
`;

export interface BwrapStatus {
  childPid: number;
  /** Inode of the sandbox's network namespace (to recognise it again in /proc). */
  netns: number;
  /** Inode of the sandbox's pid namespace. */
  pidns: number;
}

export interface Launched {
  child: ChildProcess;
  /** Resolves once bwrap reports its namespace-holding child; null if bwrap died before. */
  started: Promise<BwrapStatus | null>;
  /** bwrap's `exit-code` report: present only if the command was exec'd. Valid after `exited`. */
  commandExitCode(): number | null;
  /** Lets the sandboxed command start (bwrap is waiting on its block fd). */
  unblock(): void;
  /** The launcher (bwrap's monitor) has exited and its output pipes are closed. */
  exited: Promise<void>;
  /** The launcher has exited (its output may still be draining). */
  processExited: Promise<void>;
}

export function launchBwrap(
  spec: SandboxSpec,
  options: {
    identity: HostIdentity;
    procsFiles: string[];
    rlimits?: { nproc: number; dataBytes: number };
    seccomp?: Buffer;
  },
): Launched {
  // fds: 3 args, 4 json status, 5 block, then the seccomp program and the generated files.
  const files = spec.files ?? [];
  const seccompFd = options.seccomp ? 6 : undefined;
  const firstFileFd = options.seccomp ? 7 : 6;
  const fileFds = files.map((_, i) => firstFileFd + i);
  const bwrapArgs = bwrapOptions(spec, { status: 4, block: 5, files: fileFds, seccomp: seccompFd });

  const prlimit = [
    'prlimit',
    // No core dumps: they would fill a writable mount, or hand the memory of the crashed process to
    // the host's core_pattern helper.
    '--core=0',
    ...(options.rlimits ? [`--nproc=${options.rlimits.nproc}`, `--data=${options.rlimits.dataBytes}`] : []),
    '--',
  ];
  const stdio = [
    stdinMode(spec),
    'pipe',
    'pipe',
    'pipe',
    'pipe',
    'pipe',
    ...(options.seccomp ? ['pipe' as const] : []),
    ...files.map(() => 'pipe' as const),
  ] as const;
  const argv = [
    'perl',
    '-e',
    PRELUDE,
    String(stdio.length - 1),
    String(options.procsFiles.length),
    ...options.procsFiles,
    ...prlimit,
    'bwrap',
    '--args',
    '3',
    '--',
    ...spec.argv,
  ];
  const child = spawn(argv[0]!, argv.slice(1), {
    uid: options.identity.dedicated ? options.identity.uid : undefined,
    gid: options.identity.dedicated ? options.identity.gid : undefined,
    env: { PATH: SAFE_PATH },
    cwd: '/',
    stdio: [...stdio],
  });
  // Our ends of the pipes may see EPIPE when the sandbox dies early: that is reported through the exit.
  for (const s of child.stdio) (s as Readable | Writable | null)?.on('error', () => {});
  // perl missing or the like: end the pipes, so nothing waits for output that never comes.
  child.once('error', () => {
    for (const s of child.stdio) (s as Readable | Writable | null)?.destroy();
  });

  const write = (fd: number, data: Buffer | string) => (child.stdio[fd] as Writable).end(data);
  write(3, Buffer.from(bwrapArgs.map((a) => `${a}\0`).join('')));
  if (options.seccomp && seccompFd !== undefined) write(seccompFd, options.seccomp);
  files.forEach((f, i) => {
    write(fileFds[i]!, f.content);
  });
  if (Buffer.isBuffer(spec.stdin)) write(0, spec.stdin);

  let statusText = '';
  let exitCode: number | null = null;
  const statusStream = child.stdio[4] as Readable;
  const started = new Promise<BwrapStatus | null>((resolve) => {
    statusStream.setEncoding('utf8');
    statusStream.on('data', (text: string) => {
      statusText = (statusText + text).slice(-65536);
      let newline = statusText.indexOf('\n');
      while (newline >= 0) {
        const line = statusText.slice(0, newline);
        statusText = statusText.slice(newline + 1);
        newline = statusText.indexOf('\n');
        let doc: Record<string, unknown>;
        try {
          doc = JSON.parse(line);
        } catch {
          continue;
        }
        if (typeof doc['child-pid'] === 'number') {
          resolve({
            childPid: doc['child-pid'],
            netns: Number(doc['net-namespace']),
            pidns: Number(doc['pid-namespace']),
          });
        }
        if (typeof doc['exit-code'] === 'number') exitCode = doc['exit-code'];
      }
    });
    statusStream.on('close', () => resolve(null));
    child.on('error', () => resolve(null));
  });
  const exited = new Promise<void>((resolve) => {
    child.once('close', () => resolve());
    child.once('error', () => resolve());
  });

  const processExited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });

  return {
    child,
    started,
    processExited,
    commandExitCode: () => exitCode,
    unblock: () => write(5, 'x'),
    exited,
  };
}

function stdinMode(spec: SandboxSpec): 'pipe' | 'ignore' {
  return Buffer.isBuffer(spec.stdin) ? 'pipe' : 'ignore';
}
