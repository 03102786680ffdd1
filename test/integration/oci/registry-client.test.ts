import { describe, expect, it } from 'vitest';
import {
  blobFromBuffer,
  DigestMismatchError,
  pullImage,
  pushImage,
  RegistryClient,
  RegistryError,
  sha256,
} from '../../../packages/oci/src/index.ts';
import { emptyLayout, makeImage } from '../../helpers/oci-images.ts';
import { startRegistry } from '../../helpers/registry.ts';
import { grant, startTokenServer } from '../../helpers/token-server.ts';
import { type ProxiedRequest, startProxy } from './proxy.ts';
import { startStub } from './stub-server.ts';

const fast = { retries: 3, baseDelayMs: 5, maxDelayMs: 20 };
const isBlobUploadPut = (r: ProxiedRequest) => r.method === 'PUT' && r.url.includes('/blobs/uploads/');

/** Every text an error exposes: message, stack, String() and its own enumerable fields. */
function exposed(err: unknown): string {
  const e = err as Error;
  return [e.message, e.stack, String(e), JSON.stringify(e)].join('\n');
}

describe('retries', () => {
  it('survives a 503 and a connection reset during a push', async () => {
    await using registry = await startRegistry();
    let failedPut = false;
    let resetPatch = false;
    await using proxy = await startProxy(registry.url, (r) => {
      if (isBlobUploadPut(r) && !failedPut) {
        failedPut = true;
        return { status: 503, body: '{"errors":[{"code":"UNAVAILABLE","message":"try later"}]}' };
      }
      if (r.method === 'PATCH' && !resetPatch) {
        resetPatch = true;
        return 'reset';
      }
      if (r.method === 'GET' && r.url.includes('/manifests/') && r.n % 2 === 0) return 'reset';
      return 'pass';
    });
    const client = new RegistryClient({ url: proxy.url, retry: fast, chunkedThreshold: 100 * 1024 });
    await using image = await makeImage('flaky');
    expect(await pushImage(image.layout, image.ref, client, 'tools/flaky', 'v1')).toBe(image.digest);
    expect(failedPut && resetPatch).toBe(true);
    expect(client.stats.retries).toBeGreaterThanOrEqual(2);
    await using target = await emptyLayout();
    expect((await pullImage(client, 'tools/flaky', 'v1', target.layout, 'x')).digest).toBe(image.digest);
  });

  it('fails after bounded retries on a permanent 500, with a clear error', async () => {
    await using registry = await startRegistry();
    await using proxy = await startProxy(registry.url, (r) =>
      r.url.includes('/blobs/')
        ? { status: 500, body: '{"errors":[{"code":"UNKNOWN","message":"disk on fire"}]}' }
        : 'pass',
    );
    const client = new RegistryClient({ url: proxy.url, retry: fast });
    await using image = await makeImage('broken');
    const err = await pushImage(image.layout, image.ref, client, 'tools/broken', 'v1', {
      concurrency: 1,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as RegistryError).status).toBe(500);
    expect((err as Error).message).toMatch(
      /^HEAD http:\/\/127\.0\.0\.1:\d+\/v2\/tools\/broken\/blobs\/sha256:[0-9a-f]{64}: HTTP 500/,
    );
    // One blob, 1 + 3 attempts, then the push stops.
    expect(proxy.requests.filter((r) => r.url.includes('/blobs/')).length).toBe(4);
  });

  it('honours Retry-After on 429 and never retries other 4xx', async () => {
    await using registry = await startRegistry();
    let limited = 0;
    await using proxy = await startProxy(registry.url, (r) => {
      if (r.url === '/v2/' && limited++ === 0) return { status: 429, headers: { 'retry-after': '1' } };
      if (r.method === 'PUT' && r.url.includes('/manifests/'))
        return { status: 400, body: '{"errors":[{"code":"MANIFEST_INVALID"}]}' };
      return 'pass';
    });
    const client = new RegistryClient({ url: proxy.url, retry: fast });
    const started = Date.now();
    await client.ping();
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    await using image = await makeImage('4xx');
    const err = await pushImage(image.layout, image.ref, client, 'tools/x', 'v1').catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 400, codes: ['MANIFEST_INVALID'] });
    expect(proxy.requests.filter((r) => r.method === 'PUT' && r.url.includes('/manifests/')).length).toBe(1);
  });

  it('times out a request that makes no progress', async () => {
    await using stub = await startStub(() => {}); // never answers
    const client = new RegistryClient({
      url: stub.url,
      timeoutMs: 150,
      retry: { retries: 1, baseDelayMs: 1 },
    });
    const started = Date.now();
    const err = await client.ping().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as RegistryError).status).toBeUndefined();
    expect((err as Error).message).toMatch(/GET .*\/v2\/: timed out after 150 ms/);
    expect(stub.requests.length).toBe(2);
    expect(Date.now() - started).toBeLessThan(3000);
  });
});

describe('auth', () => {
  it('refuses a push when the token lacks push scope', async () => {
    await using tokens = await startTokenServer({
      policy: (u, p, requested) => (u === 'puller' && p === 'pw' ? grant(requested, () => ['pull']) : null),
    });
    await using registry = await startRegistry({ auth: 'token', tokenServer: tokens });
    const client = new RegistryClient({
      url: registry.url,
      credentials: { username: 'puller', password: 'pw' },
      retry: fast,
    });
    await client.ping();
    await using image = await makeImage('noscope');
    const err = await pushImage(image.layout, image.ref, client, 'tools/app', 'v1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect([401, 403]).toContain((err as RegistryError).status);
    expect(client.stats.blobBytesUploaded).toBe(0);
  });

  it('fetches a fresh token once when the registry rejects a cached one mid-push', async () => {
    await using tokens = await startTokenServer();
    await using registry = await startRegistry({ auth: 'token', tokenServer: tokens });
    let rejected = false;
    await using proxy = await startProxy(registry.url, (r) => {
      if (isBlobUploadPut(r) && r.headers.authorization?.startsWith('Bearer ') && !rejected) {
        rejected = true;
        const challenge = `Bearer realm="${tokens.realm}",service="${tokens.service}",error="invalid_token"`;
        return {
          status: 401,
          headers: { 'www-authenticate': challenge },
          body: '{"errors":[{"code":"UNAUTHORIZED"}]}',
        };
      }
      return 'pass';
    });
    const client = new RegistryClient({
      url: proxy.url,
      credentials: { username: tokens.username, password: tokens.password },
      retry: fast,
    });
    await using image = await makeImage('expired');
    const pushScope = (r: { scopes: string[] }) => r.scopes.includes('repository:tools/app:pull,push');
    expect(await pushImage(image.layout, image.ref, client, 'tools/app', 'v1', { concurrency: 1 })).toBe(
      image.digest,
    );
    expect(rejected).toBe(true);
    expect(tokens.requests.filter(pushScope).length).toBe(2);
  });

  it('never puts credentials or tokens in error messages', async () => {
    const password = 'Sup3r-Secret-Pass';
    await using registry = await startRegistry({ auth: 'htpasswd', users: { builder: password } });
    await using proxy = await startProxy(registry.url, (r) =>
      r.url.includes('/manifests/')
        ? {
            status: 500,
            body: JSON.stringify({
              errors: [{ code: 'UNKNOWN', message: `auth ${r.headers.authorization} ${password}` }],
            }),
          }
        : 'pass',
    );
    const client = new RegistryClient({
      url: proxy.url,
      credentials: { username: 'builder', password },
      retry: fast,
    });
    await client.ping(); // learns that the registry wants Basic auth
    const basic = Buffer.from(`builder:${password}`).toString('base64');
    const echoed = await client.getManifest('tools/app', 'v1').catch((e: unknown) => e);
    expect(echoed).toBeInstanceOf(RegistryError);
    expect(exposed(echoed)).not.toContain(password);
    expect(exposed(echoed)).not.toContain(basic);
    expect((echoed as Error).message).toContain('auth Basic *** ***');

    const wrong = new RegistryClient({
      url: registry.url,
      credentials: { username: 'builder', password: 'wrong-Pass-123' },
    });
    const denied = await wrong.ping().catch((e: unknown) => e);
    expect(denied).toMatchObject({ status: 401 });
    expect(exposed(denied)).not.toContain('wrong-Pass-123');

    await using tokens = await startTokenServer();
    await using tokenRegistry = await startRegistry({ auth: 'token', tokenServer: tokens });
    const badToken = new RegistryClient({
      url: tokenRegistry.url,
      credentials: { username: tokens.username, password: 'nope-Nope-1' },
    });
    const refused = await badToken.ping().catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 401 });
    expect((refused as Error).message).toMatch(/token request .* refused/);
    expect(exposed(refused)).not.toContain('nope-Nope-1');
  });

  it('does not forward Authorization when a redirect leaves the registry host', async () => {
    const blob = Buffer.from('redirected blob');
    const digest = sha256(blob);
    await using storage = await startStub((_req, res) => {
      res.writeHead(200, { 'content-length': String(blob.length) });
      res.end(blob);
    });
    await using reg = await startStub((req, res) => {
      if (!req.headers.authorization) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="stub"' });
        res.end();
      } else {
        res.writeHead(307, { location: `${storage.url}/bucket/${digest}?sig=abc` });
        res.end();
      }
    });
    const client = new RegistryClient({ url: reg.url, credentials: { username: 'u', password: 'p4ssw0rd' } });
    expect((await client.getBlobBytes('tools/app', { digest, size: blob.length })).equals(blob)).toBe(true);
    expect(reg.requests.at(-1)?.headers.authorization).toMatch(/^Basic /);
    expect(storage.requests.length).toBe(1);
    expect(storage.requests[0]?.headers.authorization).toBeUndefined();
  });
});

describe('integrity and pagination', () => {
  it('rejects manifests and blobs whose bytes do not match the digest', async () => {
    const body = JSON.stringify({ schemaVersion: 2, manifests: [] });
    await using stub = await startStub((req, res) => {
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.index.v1+json' });
      res.end(req.url?.includes('/blobs/') ? 'tampered' : body);
    });
    const client = new RegistryClient({ url: stub.url });
    const want = sha256('something else');
    const badManifest = await client.getManifest('tools/app', want).catch((e: unknown) => e);
    expect(badManifest).toBeInstanceOf(RegistryError);
    expect(badManifest).toMatchObject({ codes: ['DIGEST_INVALID'] });
    expect((badManifest as Error).cause).toBeInstanceOf(DigestMismatchError);
    await expect(client.getBlobBytes('tools/app', { digest: want })).rejects.toMatchObject({
      codes: ['DIGEST_INVALID'],
    });
    await expect(
      client.getBlobBytes('tools/app', { digest: sha256('tampered'), size: 3 }),
    ).rejects.toMatchObject({
      codes: ['SIZE_INVALID'],
    });
    expect((await client.getManifest('tools/app', 'v1')).descriptor.digest).toBe(sha256(body));
  });

  it('follows Link pagination for tags (relative and absolute links)', async () => {
    await using stub = await startStub((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const last = url.searchParams.get('last');
      const pages: Record<string, [string[], string | undefined]> = {
        '': [['a', 'b'], '</v2/tools/app/tags/list?n=2&last=b>; rel="next"'],
        b: [['c', 'd'], `<http://${req.headers.host}/v2/tools/app/tags/list?n=2&last=d>; rel="next"`],
        d: [['e'], undefined],
      };
      const [tags, link] = pages[last ?? ''] ?? [[], undefined];
      res.writeHead(200, { 'content-type': 'application/json', ...(link ? { link } : {}) });
      res.end(JSON.stringify({ name: 'tools/app', tags }));
    });
    const client = new RegistryClient({ url: stub.url });
    expect(await client.listTags('tools/app', { pageSize: 2 })).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(stub.requests.map((r) => r.url)).toEqual([
      '/v2/tools/app/tags/list?n=2',
      '/v2/tools/app/tags/list?n=2&last=b',
      '/v2/tools/app/tags/list?n=2&last=d',
    ]);
  });

  it('pushes a zero-byte blob and rejects invalid names before any request', async () => {
    await using registry = await startRegistry();
    const client = new RegistryClient({ url: registry.url });
    expect(await client.pushBlob('tools/app', blobFromBuffer(Buffer.alloc(0)))).toBe('uploaded');
    expect(await client.hasBlob('tools/app', sha256(''))).toBe(true);
    expect(() => client.pushBlob('../etc', blobFromBuffer(Buffer.alloc(0)))).toThrow(/invalid repository/);
    await expect(client.getManifest('tools/app', 'bad tag')).rejects.toThrow(/invalid tag/);
  });
});
