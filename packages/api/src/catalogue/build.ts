import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  buildMatrix,
  type MatrixInput,
  type StackProgress,
  stackStorePaths,
  withStackLock,
} from '@toolforge/buildpacks';
import { type OciLayout, pushImage, type RegistryClient } from '@toolforge/oci';
import type { BuildReport } from './report.ts';
import type { BuildRef, Catalogue } from './schema.ts';

/** The stack builder's input from the catalogue's kinds and flavours. */
export function matrixInput(c: Catalogue): MatrixInput {
  return {
    kinds: Object.fromEntries(
      Object.entries(c.kinds).map(([k, v]) => [k, { packages: v.packages, env: v.env }]),
    ),
    flavours: Object.fromEntries(
      Object.entries(c.flavours).map(([f, v]) => [
        f,
        { packages: v.packages, env: v.env, kinds: v.kinds, ...(v.only ? { only: v.only } : {}) },
      ]),
    ),
  };
}

/**
 * Build the catalogue's kind × flavour images (all, or `select`) into the stack store, in parallel, and
 * return the build report. With `push`, each built image is also pushed (`<host>/<repo>:<tag>`) and the
 * report names the pushed copy, which is what a cluster pulls.
 */
export async function buildCatalogueImages(
  c: Catalogue,
  opts: {
    stackDir: string;
    layout: OciLayout;
    select?: readonly BuildRef[];
    concurrency?: number;
    refresh?: boolean;
    push?: RegistryClient;
    progress?: StackProgress;
  },
): Promise<BuildReport> {
  const paths = stackStorePaths(opts.stackDir);
  // One builder at a time per store, like `stack ensure` (scratch space and tags are shared).
  const entries = await withStackLock(opts.stackDir, () =>
    buildMatrix(opts.layout, matrixInput(c), {
      workDir: path.join(paths.work, 'catalogue'),
      cacheDir: paths.downloads,
      refresh: opts.refresh ?? false,
      ...(opts.select ? { select: opts.select } : {}),
      ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
      ...(opts.progress ? { progress: opts.progress } : {}),
    }),
  );
  const reported: BuildReport['entries'] = [];
  for (const e of entries) {
    if (e.status !== 'ok' || !opts.push) {
      reported.push(e);
      continue;
    }
    const [repo = '', tag = 'latest'] = e.ref.split(':');
    try {
      const digest = await pushImage(opts.layout, e.ref, opts.push, repo, tag);
      reported.push({ ...e, ref: `${opts.push.url.host}/${repo}:${tag}`, digest });
    } catch (err) {
      reported.push({
        kind: e.kind,
        flavour: e.flavour,
        status: 'failed',
        error: `push: ${(err as Error).message}`,
      });
    }
  }
  return { version: 1, created: new Date().toISOString(), entries: reported };
}

/** Reports go to `<stack dir>/catalogue/reports/`, named by time, unless a file is given. */
export async function writeReport(report: BuildReport, stackDir: string, file?: string): Promise<string> {
  const target =
    file ??
    path.join(
      stackDir,
      'catalogue',
      'reports',
      `report-${report.created.replaceAll(':', '').replace(/\..*/, '')}.json`,
    );
  await mkdir(path.dirname(target), { recursive: true });
  await writeFile(target, `${JSON.stringify(report, null, 2)}\n`);
  return target;
}
