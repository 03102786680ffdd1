// A local HTTP server stands in for the archive: retries, integrity checks and the content-addressed
// .deb cache are exercised without depending on deb.debian.org's behaviour.
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  downloadVerified,
  HttpError,
  IntegrityError,
} from '../../../packages/buildpacks/src/stacks/debian/download.ts';
import {
  debPath,
  type FetchProgress,
  fetchDebs,
} from '../../../packages/buildpacks/src/stacks/debian/fetch.ts';
import type { PackageRecord } from '../../../packages/buildpacks/src/stacks/debian/package-index.ts';

const body = (name: string) => Buffer.from(`contents of ${name}\n`.repeat(1000));
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let server: Server;
let base: string;
let dir: string;
const hits = new Map<string, number>();
let failuresLeft = new Map<string, number>();
let inFlight = 0;
let maxInFlight = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    setTimeout(() => {
      inFlight--;
      const failures = failuresLeft.get(path) ?? 0;
      if (failures > 0) {
        failuresLeft.set(path, failures - 1);
        res.writeHead(503).end();
      } else if (path.startsWith('/pool/')) {
        res.writeHead(200).end(body(path));
      } else if (path === '/wrong') {
        res.writeHead(200).end('not what was promised');
      } else {
        res.writeHead(404).end();
      }
    }, 20);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tf-fetch-'));
  hits.clear();
  failuresLeft = new Map();
  maxInFlight = 0;
  return () => rm(dir, { recursive: true, force: true });
});

const fast = { backoffMs: 10 };

describe('downloadVerified', () => {
  it('retries server errors with backoff, then verifies and renames into place', async () => {
    failuresLeft.set('/pool/a.deb', 2);
    const expected = { sha256: sha256(body('/pool/a.deb')), size: body('/pool/a.deb').length };
    let bytes = 0;
    await downloadVerified(`${base}/pool/a.deb`, join(dir, 'a.deb'), expected, {
      ...fast,
      onBytes: (n) => (bytes += n),
    });
    expect(hits.get('/pool/a.deb')).toBe(3);
    expect(bytes).toBe(expected.size);
    expect(sha256(await readFile(join(dir, 'a.deb')))).toBe(expected.sha256);
  });

  it('gives up after the last attempt', async () => {
    failuresLeft.set('/pool/b.deb', 10);
    await expect(
      downloadVerified(
        `${base}/pool/b.deb`,
        join(dir, 'b.deb'),
        { sha256: '0'.repeat(64), size: 1 },
        { ...fast, attempts: 3 },
      ),
    ).rejects.toThrow(/HTTP 503 \(after 3 attempts/);
    expect(hits.get('/pool/b.deb')).toBe(3);
  });

  it('does not retry a 404 or wrong bytes, and leaves no file behind', async () => {
    await expect(
      downloadVerified(`${base}/nope`, join(dir, 'x'), { sha256: '0'.repeat(64), size: 1 }, fast),
    ).rejects.toThrow(HttpError);
    expect(hits.get('/nope')).toBe(1);
    const wrong = downloadVerified(
      `${base}/wrong`,
      join(dir, 'y'),
      { sha256: '0'.repeat(64), size: 21 },
      fast,
    );
    await expect(wrong).rejects.toThrow(IntegrityError);
    const tooLong = downloadVerified(
      `${base}/wrong`,
      join(dir, 'z'),
      { sha256: '0'.repeat(64), size: 5 },
      fast,
    );
    await expect(tooLong).rejects.toThrow(/more than the expected 5 bytes/);
    expect(hits.get('/wrong')).toBe(2);
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('fetchDebs', () => {
  const records = Array.from({ length: 10 }, (_, i): PackageRecord => {
    const filename = `pool/main/p/p${i}/p${i}_1_amd64.deb`;
    const b = body(`/${filename}`);
    return {
      name: `p${i}`,
      version: '1',
      architecture: 'amd64',
      essential: false,
      source: `p${i}`,
      filename,
      size: b.length,
      sha256: sha256(b),
      suite: 'bookworm',
      archiveUrl: base,
      raw: '',
    };
  });
  const withBase = () => records.map((r) => ({ ...r, archiveUrl: base }));

  it('downloads with bounded concurrency into <cache>/debs/<sha256>.deb, reporting progress', async () => {
    const progress: FetchProgress[] = [];
    const debs = await fetchDebs(withBase(), {
      cacheDir: dir,
      concurrency: 3,
      onProgress: (p) => progress.push(p),
    });
    expect(maxInFlight).toBe(3);
    expect(debs.map((d) => d.record.name)).toEqual(records.map((r) => r.name));
    expect(debs[4]!.path).toBe(debPath(dir, records[4]!.sha256));
    expect(progress[0]).toEqual({ done: 0, total: 10, bytes: 0, downloaded: 0 });
    expect(progress.at(-1)).toEqual({
      done: 10,
      total: 10,
      bytes: records.reduce((n, r) => n + r.size, 0),
      downloaded: 10,
    });
  });

  it('serves a warm cache without the network, and heals a corrupted entry', async () => {
    await fetchDebs(withBase(), { cacheDir: dir });
    hits.clear();
    const corrupted = debPath(dir, records[2]!.sha256);
    await writeFile(corrupted, Buffer.alloc(records[2]!.size));
    let last: FetchProgress | undefined;
    await fetchDebs(withBase(), { cacheDir: dir, onProgress: (p) => (last = p) });
    expect([...hits.keys()]).toEqual([`/${records[2]!.filename}`]);
    expect(last).toMatchObject({ done: 10, downloaded: 1, bytes: records[2]!.size });
    expect(sha256(await readFile(corrupted))).toBe(records[2]!.sha256);
  });

  it('explains a 404 as a stale index', async () => {
    const gone = { ...withBase()[0]!, filename: 'gone/p_1_amd64.deb' };
    await expect(fetchDebs([gone], { cacheDir: dir, retry: fast })).rejects.toThrow(
      /gone from the archive; refresh/,
    );
  });
});
