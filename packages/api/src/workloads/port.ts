/**
 * Workloads: a tool's webservice and its jobs, running images it built (or curated ones). The runtime port
 * has two adapters: Kubernetes (Deployments, Services, Ingresses, Jobs, CronJobs; the objects are the
 * record) and local (the embedded default: images run under bubblewrap on this machine; records in sqlite).
 */

/** An image resolved through the images API, pinned to its digest. */
export interface ResolvedImage {
  /** What the user asked for, e.g. `tool-mytool/web:latest` or `python3.11`. */
  requested: string;
  /** What runs: `<host>/<repository>@sha256:…` (Kubernetes pulls it; the local runtime reads its store). */
  ref: string;
  digest: string;
  type: 'buildservice' | 'standard';
}

export type WorkloadKind = 'webservice' | 'job';

/** What to run. A tool has at most one webservice (named `webservice`) and any number of named jobs. */
export interface WorkloadSpec {
  tool: string;
  kind: WorkloadKind;
  name: string;
  image: ResolvedImage;
  /**
   * Jobs: the command, run as `launcher <command>` for buildservice images (so Procfile process names
   * work) and through `/bin/sh -c` for standard ones. Webservices: none (the image's `web` process).
   */
  command?: string;
  /** Jobs: a cron schedule (5 fields, UTC); the job then runs at those times. */
  schedule?: string;
  /** Jobs: restarted whenever it exits (like a webservice without a URL). */
  continuous?: boolean;
  /** `all`: the tool's home is mounted at /data/project/<tool>; `none` (default for buildservice images). */
  mount: 'none' | 'all';
  /** The port the webservice listens on ($PORT). */
  port?: number;
  resources: { cpu?: string; memory?: string };
  /** Extra environment (never secrets in logs: values are not logged). */
  env?: Record<string, string>;
}

export type WorkloadState =
  | 'pending' // accepted, not started yet
  | 'starting'
  | 'running'
  | 'restarting' // crashed, waiting to be started again
  | 'scheduled' // a scheduled job between runs
  | 'succeeded' // a one-off job that ended with 0
  | 'failed' // a one-off job that ended otherwise, or a workload that cannot start
  | 'stopped';

export interface WorkloadStatus {
  state: WorkloadState;
  /** One human line: why it is in that state. */
  message: string;
  /** Webservices: where it answers. */
  url?: string;
  restarts: number;
  startedAt?: string;
  /** Scheduled jobs: the last and next run. */
  lastRun?: { startedAt: string; endedAt?: string; exitCode?: number | null };
  nextRun?: string;
}

export interface Workload {
  spec: WorkloadSpec;
  status: WorkloadStatus;
  createdAt: string;
}

export interface WorkloadRuntime {
  readonly name: 'kubernetes' | 'local';
  /** Create or replace a workload, and start it (a one-off job runs once; a scheduled one waits). */
  apply(spec: WorkloadSpec): Promise<Workload>;
  list(tool: string): Promise<Workload[]>;
  get(tool: string, kind: WorkloadKind, name: string): Promise<Workload | undefined>;
  /** Stop it and forget it (false when there was none). */
  delete(tool: string, kind: WorkloadKind, name: string): Promise<boolean>;
  /** Stop and start again with the same spec. */
  restart(tool: string, kind: WorkloadKind, name: string): Promise<Workload>;
  /** Its output, `<timestamp> <line>`; with follow, until it is deleted or the signal aborts. */
  logs(
    tool: string,
    kind: WorkloadKind,
    name: string,
    opts: { follow: boolean; signal: AbortSignal },
  ): AsyncIterable<string>;
  /** Digests that running (or scheduled) workloads use: clean must keep them. */
  pinnedDigests(tool: string): Promise<Set<string>>;
  health(): Promise<string | undefined>;
  close(): Promise<void>;
}
