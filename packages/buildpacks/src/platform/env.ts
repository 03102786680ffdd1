import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export type Env = Record<string, string>;

/** Layer subdirectories prepended to path-like variables (build: all; launch: PATH and LD_LIBRARY_PATH). */
const BUILD_PATHS: [string, string][] = [
  ['PATH', 'bin'],
  ['LD_LIBRARY_PATH', 'lib'],
  ['LIBRARY_PATH', 'lib'],
  ['CPATH', 'include'],
  ['PKG_CONFIG_PATH', 'pkgconfig'],
];
export const PATH_LIKE = new Set(BUILD_PATHS.map(([name]) => name));

/** Variables the lifecycle lets through from its own environment into the build (all else is dropped). */
export const PASSTHROUGH = [
  'PATH',
  'LD_LIBRARY_PATH',
  'LIBRARY_PATH',
  'CPATH',
  'PKG_CONFIG_PATH',
  'HOME',
  'HOSTNAME',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
];

type Op = 'override' | 'default' | 'append' | 'prepend';

function prependPath(env: Env, name: string, dir: string): void {
  env[name] = env[name] ? `${dir}:${env[name]}` : dir;
}

/** Add a layer's bin/, lib/… to the path variables (inside-sandbox path `layerPath`; `hostPath` to test existence). */
export function addLayerPaths(
  env: Env,
  layerPath: string,
  hostPath: string,
  phase: 'build' | 'launch',
): void {
  for (const [name, sub] of BUILD_PATHS) {
    if (phase === 'launch' && name !== 'PATH' && name !== 'LD_LIBRARY_PATH') continue;
    if (existsSync(path.join(hostPath, sub))) prependPath(env, name, path.posix.join(layerPath, sub));
  }
}

/**
 * Apply one env directory (`env/`, `env.build/`, …): file name up to the first `.` is the variable, the
 * suffix the operation, the content the value verbatim. `.delim` gives the separator for append/prepend in
 * the same directory (none when absent). `unsuffixed` is override for buildpack dirs, default for
 * the operator's build-config dir.
 */
export function applyEnvDir(env: Env, dir: string, unsuffixed: Op = 'override'): void {
  if (!existsSync(dir)) return;
  const files = readdirSync(dir)
    .filter((f) => statSync(path.join(dir, f)).isFile())
    .sort();
  const delims = new Map<string, string>();
  for (const f of files) {
    if (f.endsWith('.delim'))
      delims.set(f.slice(0, -'.delim'.length), readFileSync(path.join(dir, f), 'utf8'));
  }
  for (const f of files) {
    const dot = f.indexOf('.');
    const name = dot < 0 ? f : f.slice(0, dot);
    const suffix = dot < 0 ? '' : f.slice(dot + 1);
    if (suffix === 'delim') continue;
    const op: Op | undefined =
      suffix === ''
        ? unsuffixed
        : (['override', 'default', 'append', 'prepend'] as const).find((o) => o === suffix);
    if (!op || !name) continue;
    const value = readFileSync(path.join(dir, f), 'utf8');
    const delim = delims.get(name) ?? '';
    const current = env[name];
    switch (op) {
      case 'override':
        env[name] = value;
        break;
      case 'default':
        if (!current) env[name] = value;
        break;
      case 'append':
        env[name] = current ? `${current}${delim}${value}` : value;
        break;
      case 'prepend':
        env[name] = current ? `${value}${delim}${current}` : value;
        break;
    }
  }
}

/**
 * The user's build-time variables (`/platform/env/NAME`), applied on top of the buildpack-modified build
 * environment: prepended (with `:`) to path-like variables, otherwise overriding.
 */
export function applyPlatformEnv(env: Env, vars: Env): void {
  for (const [name, value] of Object.entries(vars).sort(([a], [b]) => a.localeCompare(b))) {
    if (PATH_LIKE.has(name) && env[name]) env[name] = `${value}:${env[name]}`;
    else env[name] = value;
  }
}
