// Downloads .deb files into a content-addressed cache, `<cacheDir>/debs/<sha256>.deb`, each verified
// against the size and SHA256 of its signed index entry. A cached file is re-hashed before use, so a
// corrupted cache heals itself instead of producing a corrupted image.
import { join } from 'node:path';
import { mapConcurrent } from '../concurrency.ts';
import { downloadVerified, HttpError, isCached, type RetryOptions } from './download.ts';
import type { PackageRecord } from './package-index.ts';

export interface FetchProgress {
  /** Packages ready (downloaded or found in the cache). */
  done: number;
  total: number;
  /** Bytes transferred from the network so far. */
  bytes: number;
  /** Packages that had to be downloaded so far. */
  downloaded: number;
}

export interface FetchOptions {
  cacheDir: string;
  /** Parallel downloads (default 6). */
  concurrency?: number;
  retry?: RetryOptions;
  onProgress?: (p: FetchProgress) => void;
}

export interface FetchedDeb {
  record: PackageRecord;
  path: string;
}

export const debPath = (cacheDir: string, sha256: string) => join(cacheDir, 'debs', `${sha256}.deb`);

/** Results come back in the order of `records`, whatever order the downloads finished in. */
export async function fetchDebs(
  records: readonly PackageRecord[],
  opts: FetchOptions,
): Promise<FetchedDeb[]> {
  const progress: FetchProgress = { done: 0, total: records.length, bytes: 0, downloaded: 0 };
  const report = () => opts.onProgress?.({ ...progress });
  report();
  return mapConcurrent(records, opts.concurrency ?? 6, async (record) => {
    const path = debPath(opts.cacheDir, record.sha256);
    if (!(await isCached(path, record))) {
      const url = `${record.archiveUrl}/${record.filename}`;
      try {
        await downloadVerified(url, path, record, {
          ...opts.retry,
          onBytes: (n) => {
            progress.bytes += n;
          },
        });
      } catch (e) {
        // Superseded versions disappear from the archive (security updates especially), so a 404
        // usually means the cached InRelease is older than the archive.
        if (e instanceof HttpError && e.status === 404) {
          e.message += ` (${record.name} ${record.version} from ${record.suite} is gone from the archive; refresh the indexes)`;
        }
        throw e;
      }
      progress.downloaded++;
    }
    progress.done++;
    report();
    return { record, path };
  });
}
