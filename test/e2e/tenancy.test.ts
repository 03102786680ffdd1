// Isolation between tools, clean and quota, mTLS identity, and pushing to a registry.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type TestApi } from '../helpers/api.ts';
import { cli } from '../helpers/cli.ts';
import { makeRepo } from '../helpers/git.ts';
import { HARNESS_BUILDER } from '../helpers/paths.ts';
import { startRegistry } from '../helpers/registry.ts';

const quick = () => makeRepo({ 'provide.txt': '', 'require.txt': '' });

describe('isolation between tools', () => {
  let a: TestApi;
  let alpha: string;
  let beta: string;
  let id: string;
  beforeAll(async () => {
    a = await startApi({ BUILDER: HARNESS_BUILDER });
    alpha = a.token('alpha');
    beta = a.token('beta');
    const r = await cli(['build', 'start', quick().url, '--json'], {
      TOOLFORGE_API_URL: a.url,
      TOOLFORGE_TOOL: 'alpha',
      TOOLFORGE_TOKEN: alpha,
    });
    expect(r.code, r.stderr).toBe(0);
    id = JSON.parse(r.stdout).new_build.name;
  });
  afterAll(() => a.close());

  const ask = async (token: string, method: string, suffix: string) => {
    const res = await fetch(`${a.url}/v1/tool/beta/builds${suffix}`, {
      method,
      headers: { authorization: `Bearer ${token}` },
    });
    return { status: res.status, body: await res.text() };
  };

  it.each([
    ['GET', ''],
    ['GET', '/logs'],
    ['GET', '/logs?follow=true'],
    ['PUT', '/cancel'],
    ['DELETE', ''],
  ])(
    '%s <build>%s: another tool’s build answers exactly like an id that never existed',
    async (method, suffix) => {
      const never = 'alpha-buildpacks-pipelinerun-zzzzz';
      const theirs = await ask(beta, method, `/${id}${suffix}`);
      const missing = await ask(beta, method, `/${never}${suffix}`);
      expect(theirs.status).toBe(404);
      expect(theirs.status).toBe(missing.status);
      expect(theirs.body.replaceAll(id, 'ID')).toBe(missing.body.replaceAll(never, 'ID'));
    },
  );

  it('lists, quota and clean only ever see the caller’s own builds and images', async () => {
    const betaEnv = { TOOLFORGE_API_URL: a.url, TOOLFORGE_TOOL: 'beta', TOOLFORGE_TOKEN: beta };
    expect((await cli(['build', 'list'], betaEnv)).stdout).toContain('No builds found');
    const quota = JSON.parse((await cli(['build', 'quota', '--json'], betaEnv)).stdout);
    expect(quota.quota.categories[0].items[0].used).toBe('0B');
    const clean = await cli(['build', 'clean', '-y'], betaEnv);
    expect(clean.code).toBe(0);
    expect(clean.stderr).toContain('Nothing to clean up.');
    // alpha's build and image are untouched
    const res = await fetch(`${a.url}/v1/tool/alpha/builds/${id}`, {
      headers: { authorization: `Bearer ${alpha}` },
    });
    expect(((await res.json()) as any).build.status).toBe('BUILD_SUCCESS');
    execFileSync('skopeo', ['inspect', `oci:${a.dataDir}/images/tool-alpha:tool-alpha:latest`], {
      stdio: 'ignore',
    });
  });
});

describe('clean and quota', () => {
  it('clean removes the images except those running workloads pin, and says what it did; quota warns above 90 %', async () => {
    let pinned = '';
    const a = await startApi(
      { BUILDER: HARNESS_BUILDER, TOOLFORGE_QUOTA_MB: '1' },
      { pins: { pinned: async () => new Set([pinned]) } },
    );
    try {
      const env = { TOOLFORGE_API_URL: a.url, TOOLFORGE_TOOL: 'alpha', TOOLFORGE_TOKEN: a.token('alpha') };
      expect((await cli(['build', 'start', quick().url], env)).code).toBe(0);
      const second = await cli(['build', 'start', quick().url, '-i', 'other'], env);
      expect(second.stderr).toMatch(/Warning: Tool alpha has used up \d+% of it's alloted quota/);
      const quota = await cli(['build', 'quota'], env);
      expect(quota.stdout).toMatch(
        /Registry\n=+\nStorage\n-+\nLimit\s+Used\s+Available\s+Capacity\n1\.00Mi\s+\S+Mi\s+0B\s+\d+%/,
      );
      const { builds } = JSON.parse((await cli(['build', 'list', '--json'], env)).stdout);
      pinned = builds.find((b: any) => b.parameters.image_name === 'other').destination_image.split('@')[1];
      const clean = await cli(['build', 'clean', '-y', '--json'], env);
      const report = JSON.parse(clean.stdout);
      expect(report.images.filter((i: any) => i.action === 'kept').map((i: any) => i.digest)).toContain(
        pinned,
      );
      expect(
        report.images.some(
          (i: any) => i.action === 'removed' && i.image.startsWith('tool-alpha/tool-alpha:'),
        ),
      ).toBe(true);
      expect(report.freed_bytes).toBeGreaterThan(0);
      expect(report.messages.info.join('\n')).toContain('used by a running webservice or job');
      const text = await cli(['build', 'clean', '-y'], env);
      expect(text.stdout).toContain('If you still need more space');
    } finally {
      await a.close();
    }
  });
});

describe('mutual TLS', () => {
  it('a client certificate names the tool; one from another CA is refused', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tf-tls-'));
    const ossl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    const ca = (name: string) => {
      ossl(
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        `${name}.key`,
        '-out',
        `${name}.crt`,
        '-days',
        '2',
        '-subj',
        `/CN=${name}`,
      );
    };
    const cert = (name: string, cn: string, signer: string, ext?: string) => {
      ossl(
        'req',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        `${name}.key`,
        '-out',
        `${name}.csr`,
        '-subj',
        `/CN=${cn}`,
      );
      const args = [
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        `${signer}.crt`,
        '-CAkey',
        `${signer}.key`,
        '-CAcreateserial',
        '-out',
        `${name}.crt`,
        '-days',
        '2',
      ];
      if (ext) {
        writeFileSync(path.join(dir, `${name}.ext`), ext);
        args.push('-extfile', `${name}.ext`);
      }
      ossl(...args);
    };
    ca('ca');
    ca('evil-ca');
    cert('server', '127.0.0.1', 'ca', 'subjectAltName=IP:127.0.0.1\n');
    cert('alpha', 'alpha', 'ca');
    cert('mallory', 'alpha', 'evil-ca');
    const a = await startApi({
      TOOLFORGE_AUTH: 'certificate',
      TOOLFORGE_TLS_CERT: path.join(dir, 'server.crt'),
      TOOLFORGE_TLS_KEY: path.join(dir, 'server.key'),
      TOOLFORGE_TLS_CLIENT_CA: path.join(dir, 'ca.crt'),
    });
    try {
      expect(a.url).toMatch(/^https:/);
      const base = {
        TOOLFORGE_API_URL: a.url,
        TOOLFORGE_TOOL: 'alpha',
        TOOLFORGE_CA: path.join(dir, 'ca.crt'),
      };
      const good = await cli(['build', 'list'], {
        ...base,
        TOOLFORGE_CERT: path.join(dir, 'alpha.crt'),
        TOOLFORGE_KEY: path.join(dir, 'alpha.key'),
      });
      expect(good.code, good.stderr).toBe(0);
      expect(good.stdout).toContain('No builds found');
      const other = await cli(['build', 'list', '--tool', 'beta'], {
        ...base,
        TOOLFORGE_CERT: path.join(dir, 'alpha.crt'),
        TOOLFORGE_KEY: path.join(dir, 'alpha.key'),
      });
      expect(other.code).toBe(1);
      expect(other.stderr).toContain("You are authenticated as tool 'alpha', not 'beta'");
      const evil = await cli(['build', 'list'], {
        ...base,
        TOOLFORGE_CERT: path.join(dir, 'mallory.crt'),
        TOOLFORGE_KEY: path.join(dir, 'mallory.key'),
      });
      expect(evil.code).toBe(1);
      expect(evil.stdout).not.toContain('No builds found');
      const none = await cli(['build', 'list'], base);
      expect(none.code).toBe(1);
    } finally {
      await a.close();
    }
  });
});

describe('behind the API gateway', () => {
  it('trusts the gateway’s X-Toolforge-Tool, serves under its path prefix, and streams through it', async () => {
    const a = await startApi({ TOOLFORGE_AUTH: 'gateway', BUILDER: HARNESS_BUILDER });
    // A stand-in for Toolforge's gateway: it authenticates the caller (here by a token of its own),
    // drops any identity header the caller sent, and forwards /builds/* to the API.
    const gateway = http.createServer((req, res) => {
      const tool = { 'Bearer gw-alpha': 'alpha' }[req.headers.authorization ?? ''];
      if (!tool || !req.url?.startsWith('/builds/')) return void res.writeHead(401).end();
      const headers = { ...req.headers, 'x-toolforge-tool': tool };
      delete headers.authorization;
      const up = http.request(
        `${a.url}${req.url.slice('/builds'.length)}`,
        { method: req.method, headers },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        },
      );
      req.pipe(up);
    });
    await new Promise<void>((r) => gateway.listen(0, '127.0.0.1', r));
    try {
      const { port } = gateway.address() as AddressInfo;
      const env = {
        TOOLFORGE_API_URL: `http://127.0.0.1:${port}/builds`,
        TOOLFORGE_TOOL: 'alpha',
        TOOLFORGE_TOKEN: 'gw-alpha',
      };
      const started = await cli(['build', 'start', quick().url], env);
      expect(started.code, started.stderr).toBe(0);
      expect(started.stdout).toContain('consumer built');
      const list = await cli(['build', 'list'], env);
      expect(list.stdout).toMatch(/alpha-buildpacks-pipelinerun-\w{5}.*ok/);
      // The API itself: no header, or a header naming another tool than the path, is refused.
      expect((await fetch(`${a.url}/v1/tool/alpha/builds`)).status).toBe(401);
      const other = await fetch(`${a.url}/v1/tool/alpha/builds`, { headers: { 'x-toolforge-tool': 'beta' } });
      expect(other.status).toBe(403);
    } finally {
      gateway.close();
      await a.close();
    }
  });
});

describe('pushing built images to a registry', () => {
  it('pushes <registry>/tool-<tool>/<image>:latest with the digest the build reports', async () => {
    await using registry = await startRegistry();
    const a = await startApi({ BUILDER: HARNESS_BUILDER, TOOLFORGE_REGISTRY_URL: registry.url });
    try {
      const env = { TOOLFORGE_API_URL: a.url, TOOLFORGE_TOOL: 'alpha', TOOLFORGE_TOKEN: a.token('alpha') };
      expect((await cli(['build', 'start', quick().url], env)).code).toBe(0);
      const { build } = JSON.parse((await cli(['build', 'show', '--json'], env)).stdout);
      expect(build.destination_image).toMatch(
        new RegExp(`^${registry.host}/tool-alpha/tool-alpha:latest@sha256:`),
      );
      const digest = build.destination_image.split('@')[1];
      const inspected = JSON.parse(
        execFileSync(
          'skopeo',
          ['inspect', '--tls-verify=false', `docker://${registry.host}/tool-alpha/tool-alpha:latest`],
          { encoding: 'utf8' },
        ),
      );
      expect(inspected.Digest).toBe(digest);
    } finally {
      await a.close();
    }
  });
});
