import { existsSync } from 'node:fs';
import path from 'node:path';
import { OUTBOUND_RESOLV_CONF, runSandboxed, type SandboxResult } from '../sandbox/index.ts';
import type { Builder, BuildpackLimits, RunImage } from './context.ts';
import type { Buildpack } from './descriptor.ts';
import { type Env, PASSTHROUGH } from './env.ts';

/** Where things are inside the sandbox (the lifecycle's defaults). */
export const PATHS = {
  app: '/workspace',
  layers: '/layers',
  platform: '/platform',
  /** Per-run scratch bound from the host: the detect plan, the buildpack plan. */
  io: '/tmp/cnb',
} as const;

/** Where Debian (and OpenSSL, curl, git, pip) read trusted CAs. */
export const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/** 1980-01-01T00:00:01Z: tools honouring SOURCE_DATE_EPOCH (pip's .pyc files, …) then build reproducibly. */
export const SOURCE_DATE_EPOCH = '315532801';

/** The environment buildpacks start from: only the variables the lifecycle passes through. */
export function passthroughEnv(builder: Builder): Env {
  const env: Env = {};
  for (const k of PASSTHROUGH) if (builder.env[k]) env[k] = builder.env[k];
  env.PATH ??= '/usr/local/bin:/usr/bin:/bin';
  env.HOME = homeFor(builder);
  env.SOURCE_DATE_EPOCH = SOURCE_DATE_EPOCH;
  return env;
}

/** The CNB_* variables every detect and build gets. */
export function cnbEnv(run: RunImage, bp: Buildpack): Env {
  const env: Env = {};
  env.CNB_BUILDPACK_DIR = bp.dir;
  env.CNB_PLATFORM_DIR = PATHS.platform;
  env.CNB_TARGET_OS = run.target.os;
  env.CNB_TARGET_ARCH = run.target.arch;
  if (run.target.variant) env.CNB_TARGET_ARCH_VARIANT = run.target.variant;
  if (run.target.distro) {
    env.CNB_TARGET_DISTRO_NAME = run.target.distro.name;
    env.CNB_TARGET_DISTRO_VERSION = run.target.distro.version;
  }
  return env;
}

/** A writable, throw-away $HOME: the image's home for the CNB user when it exists, else one under /tmp. */
export function homeFor(builder: Builder): string {
  const home = builder.env.HOME ?? '/home/cnb';
  return existsSync(path.join(builder.rootfs, home)) ? home : '/tmp/home';
}

export interface BuildpackExec {
  builder: Builder;
  argv: string[];
  env: Env;
  mounts: { source: string; target: string; writable?: boolean }[];
  network: 'none' | 'outbound';
  timeoutMs: number;
  limits: BuildpackLimits;
  /** Writable host folders counted against the disk limit. */
  diskPaths: string[];
  onOutput: (text: string) => void;
  signal?: AbortSignal | undefined;
  hostId?: number | undefined;
  /** The CA bundle to bind at /etc/ssl/certs/ca-certificates.crt (builder's own plus extra CAs). */
  caBundle?: string | undefined;
}

/** Run one buildpack executable in the sandbox: builder rootfs read-only, only the given folders bound. */
export function execBuildpack(x: BuildpackExec): Promise<SandboxResult> {
  const home = homeFor(x.builder);
  return runSandboxed({
    rootfs: x.builder.rootfs,
    mounts: x.mounts,
    tmpfs: [
      { target: '/tmp', sizeBytes: x.limits.tmpBytes },
      ...(home.startsWith('/tmp/') ? [] : [{ target: home, sizeBytes: x.limits.tmpBytes }]),
    ],
    files: [
      ...(x.network === 'outbound' ? [{ target: '/etc/resolv.conf', content: OUTBOUND_RESOLV_CONF }] : []),
      ...(x.caBundle ? [{ target: CA_BUNDLE, content: x.caBundle }] : []),
    ],
    argv: x.argv,
    cwd: PATHS.app,
    env: x.env,
    uid: x.builder.uid,
    gid: x.builder.gid,
    network: x.network,
    limits: {
      wallTimeMs: Math.max(1000, x.timeoutMs),
      memoryBytes: x.limits.memoryBytes,
      pids: x.limits.pids,
      outputBytes: x.limits.outputBytes,
      disk: { paths: x.diskPaths, bytes: x.limits.diskBytes },
    },
    onOutput: (chunk) => x.onOutput(chunk.toString('utf8')),
    ...(x.signal ? { signal: x.signal } : {}),
    ...(x.hostId !== undefined ? { hostId: x.hostId } : {}),
  });
}
