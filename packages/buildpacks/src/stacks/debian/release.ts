// Suite metadata from the Debian archive, verified the way apt does: the InRelease file must carry a
// good signature by a key in the Debian archive keyring; everything else (the Packages index, then each
// .deb) is trusted only through the SHA256 sums of that signed file.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { fieldLines, parseDeb822 } from './deb822.ts';
import { downloadVerified, type Expected, fetchBytes, isCached, type RetryOptions } from './download.ts';
import { DEBIAN_KEYRING, verifyClearsigned } from './gpgv.ts';
import { buildIndex, type PackageIndex, type PackageRecord, PackagesParser } from './package-index.ts';

export interface SuiteSource {
  /** Suite (codename) as in the URL: `bookworm`, `bookworm-updates`, `bookworm-security`. */
  suite: string;
  /** Archive root: `http://deb.debian.org/debian`. */
  url: string;
  /** Defaults to `main`. */
  component?: string;
}

export const DEFAULT_SUITES: readonly SuiteSource[] = [
  { suite: 'bookworm', url: 'http://deb.debian.org/debian' },
  { suite: 'bookworm-updates', url: 'http://deb.debian.org/debian' },
  { suite: 'bookworm-security', url: 'http://deb.debian.org/debian-security' },
];

export const ARCH = 'amd64';

export interface Release {
  suite: string;
  url: string;
  component: string;
  codename: string;
  /** The archive's `Date:` as written, and as ISO 8601. */
  date: string;
  dateIso: string;
  validUntil?: string;
  /** SHA256 of the InRelease file as downloaded (signature included). */
  inReleaseSha256: string;
  /** Whether indexes may be fetched by hash (immune to the archive updating mid-download). */
  acquireByHash: boolean;
  /** Index path relative to `dists/<suite>/` → size and SHA256. */
  files: Map<string, Expected>;
}

export interface ReleaseOptions {
  /** Cache root: InRelease copies under `inrelease/`, indexes under `indexes/<sha256>.xz`. */
  cacheDir: string;
  /** Re-fetch InRelease even if a verified copy is cached (otherwise the cached one is used). */
  refresh?: boolean;
  keyring?: string;
  retry?: RetryOptions;
  /** For Valid-Until checks; defaults to now. */
  now?: Date;
}

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** Parses the verified text of an InRelease file (exported for tests). */
export function parseRelease(text: string, source: SuiteSource, inReleaseSha256: string): Release {
  const [stanza] = parseDeb822(text);
  if (!stanza) throw new Error(`empty Release file for ${source.suite}`);
  const f = stanza.fields;
  const date = f.get('date');
  if (!date || Number.isNaN(Date.parse(date)))
    throw new Error(`Release file for ${source.suite} has no valid Date`);
  const files = new Map<string, Expected>();
  for (const line of fieldLines(f.get('sha256'))) {
    const [hash, size, path] = line.split(/\s+/);
    if (!hash || !size || !path || !/^[0-9a-f]{64}$/i.test(hash))
      throw new Error(`bad SHA256 line '${line}'`);
    files.set(path, { sha256: hash.toLowerCase(), size: Number(size) });
  }
  const release: Release = {
    suite: source.suite,
    url: source.url,
    component: source.component ?? 'main',
    codename: f.get('codename') ?? '',
    date,
    dateIso: new Date(date).toISOString(),
    inReleaseSha256,
    acquireByHash: f.get('acquire-by-hash')?.toLowerCase() === 'yes',
    files,
  };
  const validUntil = f.get('valid-until');
  if (validUntil) release.validUntil = validUntil;
  // A signed file for another suite (a replay of e.g. an old or different suite's InRelease) would pass
  // the signature check, so the suite it names must be the one asked for, as apt checks.
  if (release.codename !== source.suite && f.get('suite') !== source.suite) {
    throw new Error(
      `InRelease at ${source.url}/dists/${source.suite} is for '${release.codename}', not '${source.suite}'`,
    );
  }
  return release;
}

const cacheName = (source: SuiteSource) =>
  `${source.url.replace(/^[a-z]+:\/\//, '').replace(/[^A-Za-z0-9.-]+/g, '_')}_${source.suite}.InRelease`;

async function readIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

async function writeAtomic(path: string, data: Buffer | string): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

/**
 * Returns the suite's verified Release data. A cached InRelease is re-verified on every load (gpgv is
 * cheap) but not re-checked against Valid-Until: reusing a snapshot is a deliberate choice made by not
 * refreshing. A fresh one must not be expired, and never replaces a newer cached copy (rollback
 * protection: the newer one is used instead).
 */
export async function loadRelease(source: SuiteSource, opts: ReleaseOptions): Promise<Release> {
  const dir = join(opts.cacheDir, 'inrelease');
  await mkdir(dir, { recursive: true });
  const path = join(dir, cacheName(source));
  const cached = await readIfExists(path);
  if (cached && !opts.refresh) {
    const verified = await verifyClearsigned(cached, opts.keyring ?? DEBIAN_KEYRING);
    return parseRelease(verified.text, source, sha256(cached));
  }
  const url = `${source.url}/dists/${source.suite}/InRelease`;
  const fresh = await fetchBytes(url, opts.retry);
  const verified = await verifyClearsigned(fresh, opts.keyring ?? DEBIAN_KEYRING);
  const release = parseRelease(verified.text, source, sha256(fresh));
  const now = opts.now ?? new Date();
  if (release.validUntil && Date.parse(release.validUntil) < now.getTime()) {
    throw new Error(`${url} expired at ${release.validUntil} (a stale mirror or a replay)`);
  }
  if (cached) {
    // A CDN backend lagging behind can serve an older file; never go back to it (nor fail on it).
    const verifiedCached = await verifyClearsigned(cached, opts.keyring ?? DEBIAN_KEYRING);
    const previous = parseRelease(verifiedCached.text, source, sha256(cached));
    if (Date.parse(previous.date) > Date.parse(release.date)) return previous;
  }
  await writeAtomic(path, fresh);
  return release;
}

export interface LoadedSuite {
  release: Release;
  packages: PackageRecord[];
}

/** The component's `binary-amd64/Packages.xz`, downloaded (or taken from the cache) and verified. */
export async function loadPackages(release: Release, opts: ReleaseOptions): Promise<PackageRecord[]> {
  const base = `${release.component}/binary-${ARCH}/Packages`;
  const xzEntry = release.files.get(`${base}.xz`);
  const plainEntry = release.files.get(base);
  if (!xzEntry) throw new Error(`${release.suite}: InRelease lists no ${base}.xz`);
  const cachePath = join(opts.cacheDir, 'indexes', `${xzEntry.sha256}.xz`);
  if (!(await isCached(cachePath, xzEntry))) {
    const dists = `${release.url}/dists/${release.suite}`;
    const url = release.acquireByHash
      ? `${dists}/${release.component}/binary-${ARCH}/by-hash/SHA256/${xzEntry.sha256}`
      : `${dists}/${base}.xz`;
    await downloadVerified(url, cachePath, xzEntry, opts.retry);
  }
  const parser = new PackagesParser(release.suite, release.url);
  const { size, sha256: plainSha } = await decompress(cachePath, (text) => parser.push(text));
  // The uncompressed index is listed too; checking it catches a decompressor problem, cheaply.
  if (plainEntry && (size !== plainEntry.size || plainSha !== plainEntry.sha256)) {
    throw new Error(`${release.suite}: ${base} does not match its InRelease entry after decompression`);
  }
  return parser.end();
}

/** Streams `xz -dc file` to `onText`, returning the decompressed size and SHA256. */
function decompress(file: string, onText: (text: string) => void): Promise<{ size: number; sha256: string }> {
  return new Promise((resolve, reject) => {
    const xz = spawn('xz', ['-dc', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    const hash = createHash('sha256');
    const decoder = new StringDecoder('utf8');
    let size = 0;
    let stderr = '';
    let failed: Error | undefined;
    xz.stdout.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      hash.update(chunk);
      try {
        onText(decoder.write(chunk));
      } catch (e) {
        failed = e as Error;
        xz.kill();
      }
    });
    xz.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    xz.on('error', (e) => reject(new Error(`cannot run xz: ${e.message}`)));
    xz.on('close', (code) => {
      if (failed) return reject(failed);
      if (code !== 0) return reject(new Error(`xz -dc ${file} failed (exit ${code}): ${stderr.trim()}`));
      try {
        onText(decoder.end());
      } catch (e) {
        return reject(e);
      }
      resolve({ size, sha256: hash.digest('hex') });
    });
  });
}

export interface LoadedIndexes {
  releases: Release[];
  index: PackageIndex;
}

/** Loads all suites (in parallel) and merges them into one index. */
export async function loadIndexes(
  opts: ReleaseOptions & { suites?: readonly SuiteSource[] },
): Promise<LoadedIndexes> {
  const suites = opts.suites ?? DEFAULT_SUITES;
  const loaded = await Promise.all(
    suites.map(async (source) => {
      const release = await loadRelease(source, opts);
      return { release, packages: await loadPackages(release, opts) };
    }),
  );
  return {
    releases: loaded.map((l) => l.release),
    index: buildIndex(loaded.map((l) => ({ suite: l.release.suite, packages: l.packages }))),
  };
}
