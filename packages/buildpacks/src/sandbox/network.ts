// Outbound network for a sandbox: slirp4netns, a user-mode TCP/IP stack that plugs a tap device into the
// sandbox's network namespace and turns its packets into ordinary sockets of an unprivileged host process.
// The sandbox sees 10.0.2.100/24, gateway 10.0.2.2, DNS forwarder 10.0.2.3; --disable-host-loopback
// stops 10.0.2.2 from reaching the host's 127.0.0.1, and the sandbox's own 127.0.0.1 is its own loopback.
//
// slirp4netns runs as the sandbox's host id, not root. Two obstacles, both handled by small helpers:
// - It must join the user namespace that owns the sandbox's network namespace, but bwrap moves its
//   processes into a nested user namespace (for --disable-userns and /dev/pts) at a moment we cannot
//   observe, so /proc/<pid>/ns/user is racy. The owner is fixed, though: a perl one-liner asks the kernel
//   for it (ioctl NS_GET_USERNS on the netns) and hands both namespaces to slirp4netns as fds.
// - /dev/net/tun may be root-only (udev makes it 0666; minimal hosts do not). As root, slirp4netns gets a
//   private mount namespace with its own 0666 tun node on a small tmpfs over /dev/net, then drops to the
//   host id (setpriv: no capabilities, no new privileges). Nothing changes on the host.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createConnection } from 'node:net';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HostIdentity } from './host-identity.ts';
import { closeFdsAbove, SAFE_PATH, TailBuffer } from './process-util.ts';

export const GUEST_ADDRESS = '10.0.2.100';
export const DNS_ADDRESS = '10.0.2.3';
/** resolv.conf content for `outbound` sandboxes (the caller binds it at /etc/resolv.conf). */
export const OUTBOUND_RESOLV_CONF = `nameserver ${DNS_ADDRESS}\n`;

// argv: netns path, expected netns inode, then the slirp4netns command. Checking the inode guards against
// the pid having been reused by an unrelated process since bwrap reported it. Fds the service inherited
// are closed: slirp4netns has no business with them.
const JOIN_HELPER = `
use strict; use Fcntl;
my ($netns, $ino, @cmd) = @ARGV;
open(my $net, '<', $netns) or die "open $netns: $!\\n";
(stat($net))[1] == $ino or die "network namespace of the sandbox is gone\\n";
my $ufd = ioctl($net, 0xb701, 0) or die "NS_GET_USERNS: $!\\n";
open(my $user, '<&=', 0 + $ufd) or die "fdopen: $!\\n";
fcntl($_, F_SETFD, 0) or die "fcntl: $!\\n" for ($net, $user);
${closeFdsAbove('4', 'fileno($net), fileno($user)')}
exec(@cmd, '--userns-path=/proc/self/fd/' . fileno($user), '--netns-type=path', '/proc/self/fd/' . fileno($net), 'tap0')
  or die "exec $cmd[0]: $!\\n";
`;

// As root: private /dev/net/tun, then become the host id. argv: uid gid command...
const ROOT_WRAPPER = `
uid=$1 gid=$2; shift 2
mount -t tmpfs -o size=16k,mode=0755 sandbox-tun /dev/net || exit 1
mknod -m 0666 /dev/net/tun c 10 200 || exit 1
exec setpriv --reuid="$uid" --regid="$gid" --clear-groups --no-new-privs --inh-caps=-all --bounding-set=-all -- "$@"
`;

export interface Network {
  process: ChildProcess;
  /** Kills slirp4netns and waits for it to be gone. */
  stop(): Promise<void>;
}

/**
 * Starts slirp4netns for the sandbox whose namespace-holding process is `childPid`, waits until the tap
 * device is configured, then adds the port forwards. Throws (after stopping it) if any of that fails.
 */
export async function startNetwork(options: {
  childPid: number;
  netnsInode: number;
  identity: HostIdentity;
  apiSocket?: string;
  publish: { hostPort: number; guestPort: number }[];
  timeoutMs?: number;
}): Promise<Network> {
  const { childPid, netnsInode, identity, apiSocket, publish } = options;
  const slirp = [
    'slirp4netns',
    '--configure',
    '--mtu=65520',
    '--disable-host-loopback',
    '--enable-seccomp',
    '--ready-fd=3',
    '--exit-fd=4',
    ...(apiSocket ? [`--api-socket=${apiSocket}`] : []),
  ];
  const helper = ['perl', '-e', JOIN_HELPER, `/proc/${childPid}/ns/net`, String(netnsInode), ...slirp];
  const argv = identity.dedicated
    ? [
        'unshare',
        '--mount',
        '--propagation',
        'private',
        '--',
        'sh',
        '-c',
        ROOT_WRAPPER,
        'sh',
        String(identity.uid),
        String(identity.gid),
        ...helper,
      ]
    : helper;
  // fd 3: ready (slirp writes "1"); fd 4: exit (slirp exits when we close our end, or when we die).
  const child = spawn(argv[0]!, argv.slice(1), {
    env: { PATH: SAFE_PATH },
    stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'],
  });
  const stderr = new TailBuffer(2048);
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
  // Created now: 'close' may well come before anyone waits for it.
  const stderrClosed = new Promise<void>((resolve) => child.stderr?.once('close', () => resolve()));
  const ready = child.stdio[3] as Readable;
  const exitEnd = child.stdio[4] as Readable;
  for (const s of [ready, exitEnd]) s.on('error', () => {});
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    child.once('exit', () => resolve());
    child.once('error', () => resolve()); // never started
  });
  const spawnFailed = once(child, 'error').then(([err]) => err as Error);

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    exitEnd.destroy();
  };

  try {
    const outcome = await Promise.race([
      once(ready, 'data').then(() => 'ready' as const),
      exited.then(() => 'exited' as const),
      spawnFailed,
      new Promise<'timeout'>((r) => setTimeout(r, options.timeoutMs ?? 15_000, 'timeout').unref()),
    ]);
    if (outcome instanceof Error) throw new Error(`cannot start slirp4netns: ${outcome.message}`);
    if (outcome !== 'ready') {
      // The exit event may arrive before the last stderr bytes.
      await Promise.race([stderrClosed, sleep(1000)]);
      const why =
        outcome === 'timeout' ? 'not ready in time' : `exited (${child.exitCode ?? child.signalCode})`;
      throw new Error(`slirp4netns ${why}: ${stderr.text().trim().split('\n').slice(-3).join(' | ')}`);
    }
    ready.destroy();
    for (const p of publish) {
      if (!apiSocket) throw new Error('publishing ports needs an api socket');
      await addHostForward(apiSocket, p.hostPort, p.guestPort);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { process: child, stop };
}

/** Forwards host 127.0.0.1:hostPort (TCP) to the guest; loopback only, so nothing else on the net sees it. */
async function addHostForward(apiSocket: string, hostPort: number, guestPort: number): Promise<void> {
  const request = {
    execute: 'add_hostfwd',
    arguments: { proto: 'tcp', host_addr: '127.0.0.1', host_port: hostPort, guest_port: guestPort },
  };
  const reply = await new Promise<string>((resolve, reject) => {
    const socket = createConnection(apiSocket);
    const chunks: Buffer[] = [];
    socket.on('connect', () => socket.write(JSON.stringify(request)));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.setTimeout(5000, () => socket.destroy(new Error('slirp4netns api did not answer')));
  });
  let parsed: { return?: unknown; error?: { desc?: string } };
  try {
    parsed = JSON.parse(reply);
  } catch {
    throw new Error(`slirp4netns api: unexpected reply ${JSON.stringify(reply)}`);
  }
  if (parsed.error || !parsed.return) {
    const desc = parsed.error?.desc ?? reply;
    throw new Error(`cannot publish 127.0.0.1:${hostPort} (is the port in use?): ${desc}`);
  }
}
