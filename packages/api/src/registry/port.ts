/** One image a tool built, as the registry sees it. */
export interface StoredImage {
  /** Repository inside the tool's project, e.g. `tool-mytool` or `web`. */
  repository: string;
  digest: string;
  tags: string[];
  sizeBytes: number;
  pushedAt?: string;
}

export interface CleanReport {
  removed: { image: string; digest: string; reason: string }[];
  kept: { image: string; digest: string; reason: string }[];
  freedBytes: number;
}

/** Push access for one build (a Harbor robot account): it may push to that tool's project only. */
export interface PushAccess {
  /** Handle to revoke it with (e.g. the robot's id). */
  id: string;
  username: string;
  password: string;
}

/** Short-lived, per-build push credentials, where the registry can issue them (Harbor). */
export interface PushCredentials {
  /** Make pushes to the tool possible (its project), without credentials yet: checked when a build starts. */
  ready(tool: string): Promise<void>;
  /** Make pushes to the tool possible (its project) and issue credentials for one build. */
  issue(tool: string, buildId: string): Promise<PushAccess>;
  /** Revoke them (idempotent). */
  revoke(tool: string, id: string): Promise<void>;
  /** Revoke every build's credentials whose build is not active any more; returns how many. */
  sweep(isActive: (tool: string, buildId: string) => Promise<boolean>): Promise<number>;
}

/**
 * The registry port: where a tool's images go, how much room they take, and how they are cleaned.
 * Adapters: a per-tool OCI image layout (embedded default), any OCI registry by URL, Harbor.
 */
export interface ImageRegistry {
  readonly name: string;
  /** The host part of image references, e.g. `tools-harbor.wmcloud.org` (or `toolforge.local` for layouts). */
  readonly host: string;
  /** The repository path of a tool's image: `tool-<tool>/<image>`. */
  repository(tool: string, image: string): string;
  list(tool: string): Promise<StoredImage[]>;
  quota(tool: string): Promise<{ usedBytes: number; limitBytes: number | undefined }>;
  /** Delete the tool's images except the given digests (and `latest` tags when keepLatest). */
  clean(
    tool: string,
    keep: ReadonlySet<string>,
    opts: { keepLatest: boolean; quiescent?: boolean },
  ): Promise<CleanReport>;
  health(): Promise<string | undefined>;
  /** Per-build push credentials; undefined when pushes use the service's own (or none). */
  readonly credentials?: PushCredentials;
}
