import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { pullImage, pushImage, RegistryClient, RegistryError } from '../../../packages/oci/src/index.ts';
import { emptyLayout, makeImage } from '../../helpers/oci-images.ts';
import { startRegistry } from '../../helpers/registry.ts';
import { startTokenServer } from '../../helpers/token-server.ts';
import { startProxy } from './proxy.ts';

const run = promisify(execFile);

/** Push, push again (nothing uploaded), pull back into another layout: digests identical. */
async function roundTrip(client: RegistryClient, repo: string) {
  await using image = await makeImage(repo);
  const digest = await pushImage(image.layout, image.ref, client, repo, 'v1');
  expect(digest).toBe(image.digest);
  expect(client.stats.blobsUploaded).toBe(4);
  expect(client.stats.blobBytesUploaded).toBeGreaterThan(300 * 1024);

  const before = client.stats.blobBytesUploaded;
  expect(await pushImage(image.layout, image.ref, client, repo, 'v2')).toBe(image.digest);
  expect(client.stats.blobBytesUploaded - before).toBe(0);
  expect(client.stats.blobsSkipped).toBe(4);

  await using target = await emptyLayout();
  const pulled = await pullImage(client, repo, 'v2', target.layout, 'pulled:v2');
  expect(pulled.digest).toBe(image.digest);
  for (const b of image.blobs) {
    expect((await target.layout.readBlob(b)).equals(await image.layout.readBlob(b))).toBe(true);
  }
  expect(client.stats.blobBytesDownloaded).toBeGreaterThan(300 * 1024);
  const { stdout } = await run('skopeo', ['inspect', '--raw', `oci:${target.layout.dir}:pulled:v2`]);
  expect(stdout).toBe((await image.layout.readBlob(image.digest)).toString());
  expect((await client.headManifest(repo, 'v1'))?.digest).toBe(image.digest);
}

describe('push and pull against a real registry', () => {
  it('works without auth', async () => {
    await using registry = await startRegistry();
    const client = new RegistryClient({ url: registry.url });
    await client.ping();
    await roundTrip(client, 'tools/app');
  });

  it('works with htpasswd Basic auth', async () => {
    await using registry = await startRegistry({ auth: 'htpasswd' });
    const client = new RegistryClient({ url: registry.url, credentials: registry.credentials });
    await roundTrip(client, 'tools/app');
    const anonymous = new RegistryClient({ url: registry.url, retry: { retries: 0 } });
    await expect(anonymous.ping()).rejects.toMatchObject({ status: 401 });
  });

  it('works with token auth, caching tokens per scope', async () => {
    await using tokens = await startTokenServer();
    await using registry = await startRegistry({ auth: 'token', tokenServer: tokens });
    const client = new RegistryClient({
      url: registry.url,
      credentials: { username: tokens.username, password: tokens.password },
    });
    await roundTrip(client, 'tools/app');
    // One token per distinct scope set, not one per request.
    expect(tokens.requests.length).toBeLessThanOrEqual(3);
    expect(client.stats.requests).toBeGreaterThan(20);
    expect(tokens.requests.every((r) => r.username === tokens.username)).toBe(true);
  });

  it('uploads big blobs in chunks through the latest Location', async () => {
    await using registry = await startRegistry();
    await using proxy = await startProxy(registry.url);
    const client = new RegistryClient({ url: proxy.url, chunkedThreshold: 64 * 1024, chunkSize: 100 * 1024 });
    await using image = await makeImage('chunked');
    await pushImage(image.layout, image.ref, client, 'tools/chunked', 'v1');
    expect(client.stats.chunkedUploads).toBe(1);
    const patches = proxy.requests.filter((r) => r.method === 'PATCH');
    expect(patches.length).toBe(4); // ~300 KiB in 100 KiB chunks
    expect(patches.map((p) => p.headers['content-range'])).toEqual([
      '0-102399',
      '102400-204799',
      '204800-307199',
      expect.stringMatching(/^307200-\d+$/),
    ]);
    // Each PATCH went to the Location returned by the previous step (distribution's _state changes).
    expect(new Set(patches.map((p) => p.url)).size).toBe(4);
    const puts = proxy.requests.filter((r) => r.method === 'PUT' && r.url.includes('/blobs/uploads/'));
    expect(puts.every((p) => /[?&]_state=.*&digest=sha256%3A[0-9a-f]{64}$/.test(p.url))).toBe(true);
    await using target = await emptyLayout();
    expect((await pullImage(client, 'tools/chunked', 'v1', target.layout, 'x')).digest).toBe(image.digest);
  });

  it('resolves relative upload Locations', async () => {
    await using registry = await startRegistry({ relativeUrls: true });
    await using proxy = await startProxy(registry.url);
    const client = new RegistryClient({ url: proxy.url, chunkedThreshold: 64 * 1024, chunkSize: 200 * 1024 });
    await using image = await makeImage('relative');
    expect(await pushImage(image.layout, image.ref, client, 'tools/rel', 'v1')).toBe(image.digest);
    expect(client.stats.chunkedUploads).toBe(1);
    const uploads = proxy.requests.filter((r) => r.url.includes('/blobs/uploads/') && r.method !== 'POST');
    expect(uploads.length).toBeGreaterThan(0);
  });

  it('cross-mounts blobs from another repository (token scopes for both)', async () => {
    await using tokens = await startTokenServer();
    await using registry = await startRegistry({ auth: 'token', tokenServer: tokens });
    const credentials = { username: tokens.username, password: tokens.password };
    await using image = await makeImage('mount');
    await pushImage(
      image.layout,
      image.ref,
      new RegistryClient({ url: registry.url, credentials }),
      'tools/base',
      'v1',
    );

    const client = new RegistryClient({ url: registry.url, credentials });
    const digest = await pushImage(image.layout, image.ref, client, 'tools/app', 'v1', {
      mountFrom: 'tools/base',
    });
    expect(digest).toBe(image.digest);
    expect(client.stats.blobsMounted).toBe(4);
    expect(client.stats.blobBytesUploaded).toBe(0);
    expect(
      tokens.requests.some(
        (r) =>
          r.scopes.includes('repository:tools/base:pull') &&
          r.scopes.includes('repository:tools/app:pull,push'),
      ),
    ).toBe(true);

    // A mount from a repository without the blob falls back to a normal upload (202).
    await using other = await makeImage('other');
    const c2 = new RegistryClient({ url: registry.url, credentials });
    await pushImage(other.layout, other.ref, c2, 'tools/app2', 'v1', { mountFrom: 'tools/base' });
    expect(c2.stats.blobsMounted).toBe(0);
    expect(c2.stats.blobsUploaded).toBe(4);
  });

  it('lists tags across pages and deletes manifests', async () => {
    await using registry = await startRegistry();
    const client = new RegistryClient({ url: registry.url });
    await using image = await makeImage('tags');
    await pushImage(image.layout, image.ref, client, 'tools/tags', 'v1');
    const bytes = await image.layout.readBlob(image.digest);
    for (const tag of ['v2', 'v3', 'v4', 'latest']) {
      await client.putManifest('tools/tags', tag, bytes, 'application/vnd.oci.image.manifest.v1+json');
    }
    // distribution 2.8 ignores `n` and answers in storage order; pagination is covered in registry-client.test.ts.
    expect((await client.listTags('tools/tags', { pageSize: 2 })).sort()).toEqual([
      'latest',
      'v1',
      'v2',
      'v3',
      'v4',
    ]);
    await client.deleteManifest('tools/tags', image.digest);
    const err = await client.getManifest('tools/tags', 'v1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as RegistryError).status).toBe(404);
    expect((err as RegistryError).codes).toEqual(['MANIFEST_UNKNOWN']);
    expect(await client.headManifest('tools/tags', 'v1')).toBeUndefined();
  });

  it('refuses a pushed manifest whose blobs are missing, with the registry error code', async () => {
    await using registry = await startRegistry();
    const client = new RegistryClient({ url: registry.url });
    await using image = await makeImage('missing');
    const bytes = await image.layout.readBlob(image.digest);
    const err = await client
      .putManifest('tools/missing', 'v1', bytes, 'application/vnd.oci.image.manifest.v1+json')
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 400, codes: expect.arrayContaining(['MANIFEST_BLOB_UNKNOWN']) });
  });
});
