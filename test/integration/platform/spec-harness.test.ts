// The spec harness: fixture buildpacks (test/fixtures/buildpacks) run by our embedded CNB platform on the
// real Debian build image, checking detection, plan resolution, optional buildpacks, env layering,
// processes, labels, the launcher, caching and failures against the Buildpack and Platform specs. The real
// CNB lifecycle cannot be fetched on our machines; this harness is how conformance is shown.
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { readImage } from '@toolforge/oci';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harnessBuild } from '../../helpers/lifecycle.ts';
import { runImage } from '../../helpers/run-image.ts';

const LABEL = 'io.buildpacks.lifecycle.metadata';

function envReport(workDir: string): Record<string, string> {
  const text = readFileSync(`${workDir}/layers/fixture_consumer/report/env.txt`, 'utf8');
  return Object.fromEntries(
    text
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

describe('detection and build plan', () => {
  it('selects the first group that passes and gives each buildpack its plan entries', async () => {
    const b = await harnessBuild({ 'provide.txt': '', 'require.txt': '' });
    expect(b.failure).toBeUndefined();
    expect(b.result?.group.map((g) => g.id)).toEqual(['fixture/provider', 'fixture/consumer']);
    // The "thing" entry (with the consumer's metadata) goes to its provider; the consumer provides nothing.
    const plan = readFileSync(`${b.workDir}/layers/fixture_provider/thing/plan.toml`, 'utf8');
    expect(plan).toMatch(/\[\[entries\]\]\s*name = "thing"/);
    expect(plan).toMatch(/version = "1\.2"/);
    expect(plan).toMatch(/launch = true/);
    expect(readFileSync(`${b.workDir}/layers/fixture_consumer/report/plan.toml`, 'utf8').trim()).toBe(
      'entries = []',
    );
    expect(readFileSync(`${b.workDir}/layers/fixture_provider/thing/bin/thing-tool`, 'utf8')).toContain(
      'thing-tool',
    );
  });

  it('includes an optional buildpack when it passes and drops it when it does not', async () => {
    const withIt = await harnessBuild({ 'provide.txt': '', 'require.txt': '', 'optional.txt': '' });
    expect(withIt.result?.group.map((g) => g.id)).toEqual([
      'fixture/optional',
      'fixture/provider',
      'fixture/consumer',
    ]);
    const without = await harnessBuild({});
    expect(without.result?.group.map((g) => g.id)).toEqual(['fixture/consumer']);
  });

  it('fails with what each buildpack looks for when no group resolves', async () => {
    const b = await harnessBuild({ 'require.txt': '' });
    expect(b.failure?.reason).toBe('NOTHING_DETECTED');
    expect(b.failure?.phase).toBe('detect');
    expect(b.failure?.message).toContain('fixture/provider: looks for provide.txt');
    expect(b.failure?.message).toContain(
      'fixture/fail: looks for a file that never exists (said: not for me)',
    );
  });

  it('a detect error in a required buildpack fails detection as an error when nothing else passes', async () => {
    const b = await harnessBuild({ 'error.txt': '', 'require.txt': '' });
    expect(b.failure?.reason).toBe('DETECT_ERROR');
    expect(b.failure?.message).toMatch(/fixture\/error.*exit 3: detect crashed/);
  });

  it('a hanging detect is stopped at its time limit and named', async () => {
    const b = await harnessBuild(
      { 'hang.txt': '', 'require.txt': '' },
      { limits: { detectTimeoutMs: 2000 } },
    );
    expect(b.failure?.reason).toBe('DETECT_ERROR');
    expect(b.failure?.message).toMatch(/fixture\/hang.*time/i);
  });
});

describe('build environment', () => {
  let env: Record<string, string>;
  let build: Awaited<ReturnType<typeof harnessBuild>>;
  beforeAll(async () => {
    build = await harnessBuild(
      { 'provide.txt': '', 'require.txt': '' },
      { envvars: { USER_VAR: 'from-the-user', SECRET_KEY: 'SUPER-SECRET-VALUE-123' } },
    );
    expect(build.failure).toBeUndefined();
    env = envReport(build.workDir);
  });

  it('applies earlier build layers (paths, env/, env.build/) and not launch-only env', () => {
    expect(env.THING_HOME).toBe('/layers/fixture_provider/thing');
    expect(env.BUILD_ONLY).toBe('build-only');
    expect(env.LAUNCH_ONLY).toBe('unset');
    expect(env.LIST).toBe('from-provider');
    expect(env.DFLT).toBe('provider-default');
    expect(env.TOOL).toBe('/layers/fixture_provider/thing/bin/thing-tool');
  });

  it('passes user variables (also as /platform/env files), CNB_TARGET_*, and nothing of the host', () => {
    expect(env.USER_VAR).toBe('from-the-user');
    expect(env.PLATFORM_FILE).toBe('from-the-user');
    expect(env.SECRET_SEEN).toBe('yes');
    expect(env.TARGET).toBe('linux/amd64/debian/12');
    expect(env.ENV_NAMES).toContain('OPERATOR_VAR');
    expect(env.ENV_NAMES).not.toMatch(/VITEST|TOOLFORGE_|NODE_OPTIONS|NODE_PATH|npm_/);
    expect(env.UID).toBe('1000');
    expect(env.HOME_WRITABLE).toBe('yes');
  });

  it('never puts build-time variable values into the image', async () => {
    const image = await readImage(build.layout, build.ref);
    expect(JSON.stringify(image.config)).not.toContain('SUPER-SECRET');
    for (const layer of image.manifest.layers) {
      const bytes = gunzipSync(await build.layout.readBlob(layer.digest));
      expect(bytes.includes('SUPER-SECRET-VALUE-123')).toBe(false);
    }
  });
});

describe('export', () => {
  let build: Awaited<ReturnType<typeof harnessBuild>>;
  beforeAll(async () => {
    build = await harnessBuild({ 'provide.txt': '', 'require.txt': '' });
  });

  it('writes the spec labels, processes and default entrypoint', async () => {
    const image = await readImage(build.layout, build.ref);
    const cfg = image.config.config ?? {};
    expect(cfg.Entrypoint).toEqual(['/cnb/process/web']);
    expect(cfg.WorkingDir).toBe('/workspace');
    expect(cfg.User).toBe('1000:1000');
    expect(cfg.Env).toContain('CNB_LAYERS_DIR=/layers');
    expect(cfg.Env?.find((e) => e.startsWith('PATH='))).toMatch(/^PATH=\/cnb\/process:\/cnb\/lifecycle:/);
    expect(cfg.Labels?.['org.example.harness']).toBe('consumer');
    expect(cfg.Labels?.['io.buildpacks.base.distro.name']).toBe('debian');
    const lifecycle = JSON.parse(cfg.Labels?.[LABEL] ?? '{}');
    expect(lifecycle.buildpacks.map((b: { key: string }) => b.key)).toEqual([
      'fixture/provider',
      'fixture/consumer',
    ]);
    expect(lifecycle.buildpacks[0].layers.thing).toMatchObject({
      launch: true,
      build: true,
      cache: false,
      data: { version: '1.2' },
    });
    expect(lifecycle.buildpacks[0].layers.cached).toBeUndefined(); // cache-only layers are not in the image
    const meta = JSON.parse(cfg.Labels?.['io.buildpacks.build.metadata'] ?? '{}');
    expect(meta['buildpack-default-process-type']).toBe('web');
    expect(meta.processes.map((p: { type: string }) => p.type)).toEqual(['provider-proc', 'web', 'worker']);
    expect(JSON.parse(cfg.Labels?.['io.buildpacks.project.metadata'] ?? '{}').source.version.commit).toBe(
      'f'.repeat(40),
    );
    // run image layers, 2 buildpack launch layers, app, launcher, config, process types
    expect(image.manifest.layers.length).toBe(1 + 2 + 4);
    expect(image.config.history?.map((h) => h.created_by).slice(-4)).toEqual([
      'Application Layer',
      'Buildpacks Application Launcher',
      'Buildpacks Launcher Config',
      'Buildpacks Process Types',
    ]);
  });

  it('is reproducible: the same source and stacks give the same image digest', async () => {
    const again = await harnessBuild({ 'provide.txt': '', 'require.txt': '' });
    expect(again.result?.digest).toBe(build.result?.digest);
  });

  it('a process type can be chosen as the default; an unknown one fails the export', async () => {
    const worker = await harnessBuild({ 'provide.txt': '', 'require.txt': '' }, { processType: 'worker' });
    expect((await readImage(worker.layout, worker.ref)).config.config?.Entrypoint).toEqual([
      '/cnb/process/worker',
    ]);
    const bad = await harnessBuild({ 'provide.txt': '', 'require.txt': '' }, { processType: 'nope' });
    expect(bad.failure?.phase).toBe('export');
    expect(bad.failure?.message).toContain('process type "nope"');
  });
});

describe('launcher', () => {
  let build: Awaited<ReturnType<typeof harnessBuild>>;
  beforeAll(async () => {
    build = await harnessBuild({ 'provide.txt': '', 'require.txt': '' });
  });
  const run = async (opts: Parameters<typeof runImage>[2]) => {
    const r = await runImage(build.layout, build.ref, opts);
    const res = await r.result;
    return { res, out: r.output().trim() };
  };

  it('runs the default process with the launch environment and its default args', async () => {
    const { res, out } = await run({});
    expect(res.exitCode).toBe(0);
    expect(out).toBe('web:from-provider:provider-default:launch-only:none:none default-arg');
  });

  it('user args replace the default args', async () => {
    expect((await run({ args: ['custom'] })).out).toBe(
      'web:from-provider:provider-default:launch-only:none:none custom',
    );
  });

  it('`launcher <type>` runs a process by name, with env.launch/<type>', async () => {
    expect((await run({ entrypoint: ['launcher', 'worker'] })).out).toBe('worker:worker-only');
    expect((await run({ entrypoint: ['/cnb/process/worker'] })).out).toBe('worker:worker-only');
  });

  it('`launcher <command>` runs through bash with the launch environment; `launcher -- cmd` directly', async () => {
    expect((await run({ entrypoint: ['launcher', 'echo "$THING_HOME" && thing-tool'] })).out).toBe(
      '/layers/fixture_provider/thing\nthing-tool ran',
    );
    expect((await run({ entrypoint: ['launcher', '--', 'printenv', 'LAUNCH_ONLY'] })).out).toBe(
      'launch-only',
    );
    const { out } = await run({ entrypoint: ['launcher', 'printenv'] });
    expect(out).not.toMatch(/^CNB_LAYERS_DIR=/m);
    expect(out).toMatch(/^PATH=\/layers\/fixture_provider\/thing\/bin:/m);
  });
});

describe('cache', () => {
  it('restores cache layers (contents and metadata) on the next build', async () => {
    const cacheDir = `${(await import('node:os')).tmpdir()}/tf-cache-${process.pid}-${Date.now()}`;
    const first = await harnessBuild({ 'provide.txt': '', 'require.txt': '' }, { cacheDir });
    expect(first.logs.some((l) => l.text.includes('Cache: 1 layer(s) saved'))).toBe(true);
    const second = await harnessBuild({ 'provide.txt': '', 'require.txt': '' }, { cacheDir });
    expect(second.logs.map((l) => l.text)).toContain('Restored cached layer fixture/provider:cached');
    expect(second.logs.some((l) => l.text.includes('restored cache metadata: [metadata] key = "v1"'))).toBe(
      true,
    );
  });
});

describe('misbehaving buildpacks', () => {
  const misbehave = (
    what: string,
    opts: Parameters<typeof harnessBuild>[1] = {},
    extra: Record<string, string> = {},
  ) => harnessBuild({ 'misbehave.txt': what, ...extra }, opts);

  it('a layer.toml that is not TOML fails the build naming the buildpack and the phase', async () => {
    const b = await misbehave('bad-layer-toml');
    expect(b.failure).toMatchObject({
      phase: 'build',
      reason: 'BUILDPACK_OUTPUT_INVALID',
      buildpack: 'fixture/misbehave@1.0.0',
    });
    expect(b.failure?.message).toContain('broken.toml');
  });

  it('an unmet entry that was not in the plan is refused', async () => {
    const b = await misbehave('unmet-unknown');
    expect(b.failure?.reason).toBe('BUILDPACK_OUTPUT_INVALID');
  });

  it('cannot write outside the app and its own layers; the failure shows its own lines', async () => {
    const b = await misbehave('write-outside');
    expect(b.failure).toMatchObject({ phase: 'build', reason: 'BUILDPACK_FAILED' });
    const said = b.logs.map((l) => l.text).join('\n');
    expect(said).not.toContain('wrote to');
    expect(existsSync(`${b.workDir}/layers/config-owned`)).toBe(false);
    expect(existsSync('/etc/owned')).toBe(false);
  });

  it('a non-zero exit is a build failure quoting the last lines', async () => {
    const b = await misbehave('exit-7');
    expect(b.failure?.message).toContain('exit code 7');
    expect(b.failure?.message).toContain('failing on purpose');
  });

  describe('network', () => {
    let server: ReturnType<typeof createServer>;
    let port = 0;
    beforeAll(async () => {
      server = createServer((_req, res) => res.end('host secret'));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      port = (server.address() as { port: number }).port;
    });
    afterAll(() => server.close());

    it("cannot reach a server on the host's 127.0.0.1", async () => {
      const b = await misbehave('loopback', {}, { 'port.txt': String(port) });
      expect(b.failure?.reason).toBe('BUILDPACK_FAILED');
      expect(b.logs.map((l) => l.text).join('\n')).not.toContain('host secret');
    });

    it('can reach the internet (the npm registry)', async () => {
      const b = await misbehave('internet');
      expect(b.failure).toBeUndefined();
      expect(b.logs.map((l) => l.text)).toContain('200');
    });
  });

  it.each([
    ['fork-bomb', /process/i],
    ['memory', /memory/i],
    ['disk', /disk/i],
    ['output', /output|log/i],
  ])('%s ends as a clear limit failure', async (what, pattern) => {
    const b = await misbehave(what, {
      limits: { pids: 128, memoryBytes: 256 * 2 ** 20, diskBytes: 64 * 2 ** 20, outputBytes: 2 * 2 ** 20 },
    });
    expect(b.failure).toMatchObject({
      phase: 'build',
      reason: 'LIMIT_EXCEEDED',
      buildpack: 'fixture/misbehave@1.0.0',
    });
    expect(b.failure?.message).toMatch(pattern);
  });
});
