import type { Build, BuildLog, BuildParameters } from '../contract/index.ts';

/** What the builds service asks an engine to run, after validation and every decision is made. */
export interface StartBuild {
  tool: string;
  /** As the user sent them (envvars included; engines must not log their values). */
  params: BuildParameters;
  imageName: string;
  resolvedRef: string;
  builderImage: string;
  runImage: string;
  /** `<registry>/tool-<tool>/<image>:latest`. */
  destination: string;
}

/**
 * The engine port: where builds run and where their records and logs live. Two adapters: the embedded
 * engine (CNB platform on this machine, records in node:sqlite) and the Tekton engine (PipelineRuns).
 * Every method takes the caller's tool; another tool's build is indistinguishable from a missing one.
 */
export interface BuildEngine {
  readonly name: 'local' | 'tekton';
  start(input: StartBuild): Promise<Build>;
  get(tool: string, id: string): Promise<Build | undefined>;
  /** Newest first. */
  list(tool: string): Promise<Build[]>;
  /**
   * The log of a build; resolves only once the build is known to exist (so not-found is a proper 404),
   * then yields lines (and, with follow, keeps yielding until the build ends or the signal aborts).
   */
  logs(
    tool: string,
    id: string,
    opts: { follow: boolean; signal: AbortSignal },
  ): Promise<AsyncIterable<BuildLog>>;
  /** Throws BUILD_CONFLICT when the build already ended. */
  cancel(tool: string, id: string): Promise<void>;
  /** Removes the record and its logs (cancelling a running build first). */
  delete(tool: string, id: string): Promise<void>;
  /** Undefined when healthy, else the reason. */
  health(): Promise<string | undefined>;
  close(): Promise<void>;
}

/** Digests that running workloads (webservices, jobs) use: clean and retention never delete them. */
export interface PinnedDigests {
  pinned(tool: string): Promise<ReadonlySet<string>>;
}

export const NO_PINS: PinnedDigests = { pinned: async () => new Set() };
