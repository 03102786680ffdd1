// The Task's `prepare` step script, taken from tekton/task-buildpacks-phases.yaml and run for real under
// bubblewrap on our Debian build image: it must pull an OCI buildpack image (packaged by us, pushed to a
// real registry that wants an anonymous token, as a public Harbor project does), add it to every group of
// the builder's order, write /platform/env and run.toml.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadBuilder, packageBuildpack, stackStorePaths } from '@toolforge/buildpacks';
import { OciLayout, pushImage, RegistryClient } from '@toolforge/oci';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { BUILDER, REPO_ROOT, TEST_STACK_DIR } from '../../helpers/paths.ts';
import { startRegistry } from '../../helpers/registry.ts';
import { startTokenServer } from '../../helpers/token-server.ts';

const task = parse(readFileSync(path.join(REPO_ROOT, 'tekton/task-buildpacks-phases.yaml'), 'utf8'));
const prepare = task.spec.steps.find((s: any) => s.name === 'prepare');

describe('tekton prepare step', () => {
  let tokens: Awaited<ReturnType<typeof startTokenServer>>;
  let registry: Awaited<ReturnType<typeof startRegistry>>;
  let ref: string;
  beforeAll(async () => {
    // Anonymous clients may pull (a public project); only the test user may push.
    tokens = await startTokenServer({
      policy: (u, p, requested) =>
        u === 'pusher' && p === 'secret'
          ? requested
          : requested.map((a) => ({ ...a, actions: a.actions.filter((x) => x === 'pull') })),
      username: 'pusher',
      password: 'secret',
    });
    registry = await startRegistry({ auth: 'token', tokenServer: tokens });
    const layout = await OciLayout.open(mkdtempSync(path.join(os.tmpdir(), 'tf-bp-')), { create: true });
    const p = await packageBuildpack(layout, path.join(REPO_ROOT, 'packages/buildpacks/buildpacks/procfile'));
    const client = new RegistryClient({
      url: registry.url,
      credentials: { username: 'pusher', password: 'secret' },
    });
    await pushImage(layout, p.ref, client, 'toolforge/buildpack-procfile', '1.0.0');
    ref = `${registry.host}/toolforge/buildpack-procfile:1.0.0`;
  });
  afterAll(async () => {
    await registry?.stop();
    await tokens?.stop();
  });

  it('pulls the extra buildpack anonymously and makes it an optional first member of every group', async () => {
    const stacks = stackStorePaths(TEST_STACK_DIR);
    const builder = await loadBuilder(await OciLayout.open(stacks.layout), BUILDER, stacks.rootfs);
    const root = mkdtempSync(path.join(os.tmpdir(), 'tf-prepare-'));
    const dirs = Object.fromEntries(
      ['cnb', 'layers', 'platform', 'buildpacks', 'home', 'source', 'scripts'].map((d) => [
        d,
        path.join(root, d),
      ]),
    );
    for (const d of Object.values(dirs)) mkdirSync(d as string, { recursive: true });
    mkdirSync(path.join(dirs.cnb as string, 'buildpacks/example_thing/1.0.0'), { recursive: true });
    writeFileSync(
      path.join(dirs.cnb as string, 'order.toml'),
      '[[order]]\n  [[order.group]]\n  id = "example/thing"\n  version = "1.0.0"\n\n[[order]]\n  [[order.group]]\n  id = "example/other"\n  version = "2.0.0"\n',
    );
    writeFileSync(
      path.join(dirs.cnb as string, 'run.toml'),
      '[[images]]\nimage = "registry.example/run:1"\n',
    );
    writeFileSync(path.join(dirs.scripts as string, 'prepare'), prepare.script);
    const env: Record<string, string> = {
      SOURCE_DIR: '/workspace/source',
      CACHE_DIR: '',
      CNB_USER_ID: '1000',
      CNB_GROUP_ID: '1000',
      RUN_IMAGE: '',
      INSECURE_REGISTRIES: registry.host,
      PATH: '/usr/bin:/bin',
    };
    const r = builder.rootfs;
    // Asynchronously: the token server runs in this process and must keep answering.
    const { stdout: out } = await promisify(execFile)(
      'bwrap',
      [
        '--unshare-pid',
        '--die-with-parent',
        '--tmpfs',
        '/',
        '--ro-bind',
        `${r}/usr`,
        '/usr',
        '--symlink',
        'usr/bin',
        '/bin',
        '--symlink',
        'usr/lib',
        '/lib',
        '--symlink',
        'usr/lib64',
        '/lib64',
        '--symlink',
        'usr/sbin',
        '/sbin',
        '--ro-bind',
        `${r}/etc`,
        '/etc',
        '--ro-bind',
        '/etc/resolv.conf',
        '/etc/resolv.conf',
        '--dev',
        '/dev',
        '--proc',
        '/proc',
        '--tmpfs',
        '/tmp',
        '--ro-bind',
        dirs.cnb as string,
        '/cnb',
        '--bind',
        dirs.layers as string,
        '/layers',
        '--bind',
        dirs.platform as string,
        '/platform',
        '--bind',
        dirs.buildpacks as string,
        '/buildpacks',
        '--bind',
        dirs.home as string,
        '/tekton/home',
        '--bind',
        dirs.source as string,
        '/workspace/source',
        '--ro-bind',
        dirs.scripts as string,
        '/scripts',
        '--clearenv',
        ...Object.entries(env).flatMap(([k, v]) => ['--setenv', k, v]),
        '/bin/bash',
        '/scripts/prepare',
        '--env-vars',
        'API_KEY=s3cr3t\nline2',
        'OTHER_VAR=x',
        '--extra-buildpacks',
        ref,
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(out).toContain('2 build-time variable(s)');
    expect(out).toContain(`Added buildpack toolforge/procfile@1.0.0 from ${ref} to every group`);
    expect(out).not.toContain('s3cr3t');
    expect(readFileSync(path.join(dirs.platform as string, 'env/API_KEY'), 'utf8')).toBe('s3cr3t\nline2');
    const order = readFileSync(path.join(dirs.buildpacks as string, 'order.toml'), 'utf8');
    const groups = order.split('[[order]]').slice(1);
    expect(groups).toHaveLength(2);
    for (const g of groups)
      expect(
        g
          .trim()
          .startsWith('[[order.group]]\n  id = "toolforge/procfile"\n  version = "1.0.0"\n  optional = true'),
      ).toBe(true);
    expect(
      readFileSync(path.join(dirs.buildpacks as string, 'toolforge_procfile/1.0.0/bin/build'), 'utf8'),
    ).toContain('Procfile');
    expect(readFileSync(path.join(dirs.layers as string, 'run.toml'), 'utf8')).toContain(
      'registry.example/run:1',
    );
    // The anonymous client only ever asked for pull.
    expect(
      tokens.requests.filter((q) => !q.username).every((q) => q.scopes.every((s) => s.endsWith(':pull'))),
    ).toBe(true);
  });
});
