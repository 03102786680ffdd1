import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { addLayerPaths, applyEnvDir, applyPlatformEnv, type Env } from './env.ts';

function dir(files: Record<string, string>): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'env-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(d, name), content);
  return d;
}

describe('env directories', () => {
  it('applies override, default, append and prepend with the delimiter of the same directory', () => {
    const env: Env = { A: 'a', B: 'b', C: 'c', D: '', E: 'e' };
    applyEnvDir(
      env,
      dir({
        A: 'new-a',
        'B.default': 'ignored',
        'C.append': 'x',
        'C.delim': ',',
        'D.default': 'dflt',
        'E.prepend': 'p',
        'F.override': 'f',
      }),
    );
    expect(env).toEqual({ A: 'new-a', B: 'b', C: 'c,x', D: 'dflt', E: 'pe', F: 'f' });
  });

  it('uses values verbatim (newlines kept, nothing trimmed or evaluated)', () => {
    const env: Env = {};
    applyEnvDir(env, dir({ PEM: '-----BEGIN-----\nabc\n-----END-----\n', SH: '$HOME `id`' }));
    expect(env.PEM).toBe('-----BEGIN-----\nabc\n-----END-----\n');
    expect(env.SH).toBe('$HOME `id`');
  });

  it('treats unsuffixed files as default in the operator build-config directory', () => {
    const env: Env = { A: 'set' };
    applyEnvDir(env, dir({ A: 'op', B: 'op' }), 'default');
    expect(env).toEqual({ A: 'set', B: 'op' });
  });

  it('ignores unknown suffixes and a missing directory', () => {
    const env: Env = {};
    applyEnvDir(env, dir({ 'X.weird': '1' }));
    applyEnvDir(env, '/nonexistent/dir');
    expect(env).toEqual({});
  });
});

describe('layer paths', () => {
  it('prepends existing bin, lib, include and pkgconfig for build; only PATH and LD_LIBRARY_PATH for launch', () => {
    const host = mkdtempSync(path.join(os.tmpdir(), 'layer-'));
    for (const sub of ['bin', 'lib', 'include', 'pkgconfig']) mkdirSync(path.join(host, sub));
    const build: Env = { PATH: '/usr/bin' };
    addLayerPaths(build, '/layers/bp/l', host, 'build');
    expect(build).toEqual({
      PATH: '/layers/bp/l/bin:/usr/bin',
      LD_LIBRARY_PATH: '/layers/bp/l/lib',
      LIBRARY_PATH: '/layers/bp/l/lib',
      CPATH: '/layers/bp/l/include',
      PKG_CONFIG_PATH: '/layers/bp/l/pkgconfig',
    });
    const launch: Env = {};
    addLayerPaths(launch, '/layers/bp/l', host, 'launch');
    expect(Object.keys(launch).sort()).toEqual(['LD_LIBRARY_PATH', 'PATH']);
  });

  it('user variables prepend to path-like ones and override the rest', () => {
    const env: Env = { PATH: '/layers/x/bin:/usr/bin', NODE_ENV: 'production' };
    applyPlatformEnv(env, { PATH: '/opt/tool/bin', NODE_ENV: 'development', NEW: 'v' });
    expect(env).toEqual({ PATH: '/opt/tool/bin:/layers/x/bin:/usr/bin', NODE_ENV: 'development', NEW: 'v' });
  });
});
