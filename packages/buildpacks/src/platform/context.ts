import type { Descriptor, ImageConfig, ImageManifest, OciLayout } from '@toolforge/oci';
import type { Buildpack, Order, RunTarget } from './descriptor.ts';
import type { Env } from './env.ts';
import type { Phase } from './failure.ts';

/** A builder, unpacked: its rootfs (the build image plus /cnb/buildpacks and /cnb/order.toml). */
export interface Builder {
  /** `name@sha256:…` of the builder image, recorded in every build. */
  reference: string;
  rootfs: string;
  buildpacks: Buildpack[];
  order: Order;
  /** The builder image's environment (PATH, CNB_USER_ID, …). */
  env: Env;
  uid: number;
  gid: number;
}

/** The run image the app image is exported on top of. */
export interface RunImage {
  /** `name:tag` as configured (the lifecycle's runImage.image). */
  image: string;
  /** `name@sha256:…` as resolved. */
  reference: string;
  layout: OciLayout;
  manifestDescriptor: Descriptor;
  manifest: ImageManifest;
  config: ImageConfig;
  target: RunTarget;
}

/** The previous image of the same tool and name: layer reuse and launch-layer metadata. */
export interface PreviousImage {
  layout: OciLayout;
  manifest: ImageManifest;
  config: ImageConfig;
}

/** Limits for each buildpack process (see the sandbox). */
export interface BuildpackLimits {
  detectTimeoutMs: number;
  memoryBytes: number;
  pids: number;
  outputBytes: number;
  diskBytes: number;
  tmpBytes: number;
}

export interface BuildEvents {
  /** A line for the build log, under a step name (`detect`, `build`, `export`, …). */
  log(step: string, text: string): void;
  phase?(phase: Phase): void;
}

export interface BuildRequest {
  /** Scratch folder of this build (app/, layers/, platform/ and temporary files go under it). */
  workDir: string;
  /** The source tree (normally `${workDir}/app`); buildpacks may change it. */
  appDir: string;
  builder: Builder;
  runImage: RunImage;
  previous?: PreviousImage | undefined;
  /** Folder of the persistent cache of this tool+image, or undefined for none. */
  cacheDir?: string | undefined;
  /** The user's build-time variables, given to buildpacks as /platform/env/NAME. */
  envvars: Env;
  /** Choose this process type as the image's default (Tekton's PROCESS_TYPE); empty = buildpack default. */
  processType?: string | undefined;
  /** Written into io.buildpacks.project.metadata. */
  project?: { repository?: string; commit?: string } | undefined;
  /** The image is written into this layout under `refName`. */
  output: { layout: OciLayout; refName: string };
  limits: BuildpackLimits;
  /** Extra CA certificates (PEM) buildpacks must trust, e.g. a TLS-inspecting proxy's (see ca-certs.ts). */
  extraCaCerts?: string | undefined;
  /** Set by runLifecycle: the builder's CA bundle plus extraCaCerts. */
  caBundle?: string | undefined;
  /** Host uid/gid the sandboxed buildpacks map to (set by runLifecycle from a lease). */
  hostId?: number | undefined;
  /** Deadline of the whole build (ms since epoch). */
  deadline: number;
  signal?: AbortSignal | undefined;
  events: BuildEvents;
}

export interface BuildResult {
  manifest: Descriptor;
  digest: string;
  group: { id: string; version: string }[];
  processes: { type: string; command: string[] }[];
  defaultProcess: string | undefined;
  timings: { phase: Phase; startedAt: Date; endedAt: Date }[];
  reusedLayers: number;
}
