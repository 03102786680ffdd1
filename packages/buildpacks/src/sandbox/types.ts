/** What to run and how it is confined. All paths are absolute; `target`s are paths inside the sandbox. */
export interface SandboxSpec {
  /** Host directory mounted read-only as `/`. Mount targets must already exist in it (it is read-only). */
  rootfs: string;
  /** Bind mounts, read-only unless `writable`. Sorted by depth (stable), so parents are mounted first. */
  mounts?: SandboxMount[];
  /** Size-limited tmpfs mounts (e.g. /tmp, a writable $HOME); their pages count against the memory limit. */
  tmpfs?: { target: string; sizeBytes: number }[];
  /** Small generated files bound read-only (e.g. /etc/resolv.conf, /etc/hosts); mode 0444. */
  files?: { target: string; content: string }[];
  argv: string[];
  cwd: string;
  /** The environment is exactly this (nothing is inherited from the service). */
  env: Record<string, string>;
  /** Ids inside the sandbox; must not be 0. */
  uid: number;
  gid: number;
  /** `outbound`: own network namespace behind slirp4netns (NAT), host loopback unreachable. */
  network: 'none' | 'outbound';
  /** `outbound` only: forward host 127.0.0.1:hostPort (>= 1024) to the sandbox's guestPort (TCP). */
  publish?: { hostPort: number; guestPort: number }[];
  limits: SandboxLimits;
  stdin?: 'ignore' | Buffer;
  /**
   * Output as it comes, in order per stream. Returning a promise pauses reading that stream until it settles
   * (the sandbox then blocks on a full pipe), so a slow consumer never makes the service buffer output.
   */
  onOutput?: (chunk: Buffer, stream: 'stdout' | 'stderr') => void | Promise<void>;
  /** Aborting kills the run; the result is then `cancelled`. */
  signal?: AbortSignal;
  /**
   * Host uid/gid the sandbox user maps to when the service runs as root (see host-identity.ts). Default: a
   * free slot of HOST_ID_BASE + n, allocated for this run. Ignored when the service is not root.
   */
  hostId?: number;
}

export interface SandboxMount {
  source: string;
  target: string;
  writable?: boolean;
}

export interface SandboxLimits {
  wallTimeMs: number;
  /** Memory (RAM + swap + kernel memory + tmpfs pages) of all processes of the run. */
  memoryBytes: number;
  /** Processes and threads of the run. */
  pids: number;
  /** stdout + stderr bytes; the run is killed when it writes more. */
  outputBytes: number;
  /** Bytes under these host paths (normally writable mount sources), polled about once a second. */
  disk?: { paths: string[]; bytes: number };
}

export type SandboxOutcome =
  | 'exited'
  | 'signaled'
  | 'timeout'
  | 'memory'
  | 'pids'
  | 'output-limit'
  | 'disk'
  | 'cancelled'
  | 'sandbox-error';

export interface SandboxResult {
  outcome: SandboxOutcome;
  exitCode: number | null;
  signal: string | null;
  /** One human line, e.g. "killed: memory limit of 512 MiB exceeded". */
  message: string;
  usage: { wallMs: number; peakMemoryBytes?: number; outputBytes: number };
}

/** Service-side knobs that are not part of a run's description (tests use them to exercise fallbacks). */
export interface SandboxHostOptions {
  /** `off` forces the rlimit fallback even when cgroups are writable. Default `auto`. */
  cgroups?: 'auto' | 'off';
  /** Name of the per-service folder created under the service's own cgroup in each hierarchy. */
  cgroupParent?: string;
}
