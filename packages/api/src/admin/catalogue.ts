// `toolforge-admin catalogue …`: check the catalogue, build its kind × flavour images, publish it.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from '@commander-js/extra-typings';
import { stackStorePaths } from '@toolforge/buildpacks';
import { OciLayout } from '@toolforge/oci';
import { buildCatalogueImages, writeReport } from '../catalogue/build.ts';
import { catalogueLocation, catalogueSource } from '../catalogue/factory.ts';
import { parseCatalogue } from '../catalogue/parse.ts';
import { PublishRefused, publishCatalogue } from '../catalogue/publish.ts';
import { BuildReportSchema } from '../catalogue/report.ts';
import type { BuildRef } from '../catalogue/schema.ts';
import { CatalogueConflict } from '../catalogue/source.ts';
import { registryClientFor } from '../registry/client.ts';
import { AdminError, config, err, out } from './common.ts';

async function readCatalogue(file: string) {
  const text = await readFile(file, 'utf8').catch(() => {
    throw new AdminError(`cannot read ${file}`);
  });
  const parsed = parseCatalogue(text);
  if (!parsed.ok) throw new AdminError(`${file} is invalid:\n  ${parsed.problems.join('\n  ')}`);
  if (parsed.format !== 'v1')
    throw new AdminError(`${file} is a legacy images-v1.yaml: write a version 1 catalogue`);
  return { text, catalogue: parsed.catalogue };
}

function parsePairs(list: string): BuildRef[] {
  return list.split(',').map((s) => {
    const [kind, flavour, rest] = s.trim().split('/');
    if (!kind || !flavour || rest !== undefined) throw new AdminError(`--only: "${s}" is not kind/flavour`);
    return { kind, flavour };
  });
}

const stackDir = () => {
  const c = config();
  return c.TOOLFORGE_STACK_DIR ?? c.TOOLFORGE_DATA_DIR;
};

export function catalogueCommands(program: Command): void {
  const cat = program
    .command('catalogue')
    .description('the image catalogue: curated images, builders, kinds and flavours (docs/catalogue.md)');

  cat
    .command('check <file>')
    .description('check a catalogue: schema, unique aliases, known kinds and flavours')
    .action(async (file) => {
      const { catalogue } = await readCatalogue(file);
      out(
        `${file}: OK (${Object.keys(catalogue.images).length} images, ${Object.keys(catalogue.kinds).length} kinds, ${Object.keys(catalogue.flavours).length} flavours)`,
      );
    });

  cat
    .command('build <file>')
    .description('build the kind × flavour images (all, or --only) in parallel and write a build report')
    .option('--only <pairs>', 'comma-separated kind/flavour pairs, e.g. web/python3.11,base/php8.2')
    .option('--concurrency <n>', 'images built at once', '2')
    .option('--report <file>', 'where to write the report (default: <stack dir>/catalogue/reports/)')
    .option(
      '--push <registry-url>',
      'also push each image (credentials: TOOLFORGE_REGISTRY_USERNAME/PASSWORD)',
    )
    .option('--refresh', "re-read Debian's indexes first")
    .action(async (file, o) => {
      const { catalogue } = await readCatalogue(file);
      const dir = stackDir();
      const c = config();
      const concurrency = Number(o.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1)
        throw new AdminError('--concurrency: a positive integer');
      const t0 = Date.now();
      const report = await buildCatalogueImages(catalogue, {
        stackDir: dir,
        layout: await OciLayout.open(stackStorePaths(dir).layout, { create: true }),
        ...(o.only ? { select: parsePairs(o.only) } : {}),
        concurrency,
        refresh: Boolean(o.refresh),
        ...(o.push ? { push: registryClientFor(o.push, c) } : {}),
        progress: (e) => err(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${e.stage}: ${e.detail}`),
      });
      const where = await writeReport(report, dir, o.report);
      for (const e of report.entries)
        out(
          `${`${e.kind}/${e.flavour}`.padEnd(28)} ${e.status === 'ok' ? `${e.ref}@${e.digest}` : `FAILED: ${e.error}`}`,
        );
      out(`report: ${where}`);
      const failed = report.entries.filter((e) => e.status === 'failed').length;
      if (failed)
        throw new AdminError(`${failed} of ${report.entries.length} images failed (see the report)`);
    });

  cat
    .command('publish <file>')
    .description('check every image against the build report, then publish the catalogue atomically')
    .option('--report <file>', 'the build report of its kind × flavour images')
    .option('--to <location>', 'file:<path> or configmap:<namespace>/<name> (default: TOOLFORGE_CATALOGUE)')
    .action(async (file, o) => {
      const { text } = await readCatalogue(file);
      const c = config();
      const location = o.to ?? catalogueLocation(c);
      const target = catalogueSource(location, c);
      if (!target) throw new AdminError('TOOLFORGE_CATALOGUE is none: say where with --to');
      let report: ReturnType<typeof BuildReportSchema.parse> | undefined;
      if (o.report) {
        const parsed = BuildReportSchema.safeParse(
          JSON.parse(await readFile(o.report, 'utf8').catch(() => 'null')),
        );
        if (!parsed.success) throw new AdminError(`${o.report} is not a build report`);
        report = parsed.data;
      }
      try {
        const r = await publishCatalogue(target, text, {
          ...(report ? { report, reportName: path.resolve(o.report as string) } : {}),
        });
        out(`published revision ${r.revision} to ${target.description}`);
      } catch (e) {
        if (e instanceof PublishRefused) throw new AdminError(`${e.message}:\n  ${e.problems.join('\n  ')}`);
        if (e instanceof CatalogueConflict) throw new AdminError(e.message);
        throw e;
      }
    });

  cat
    .command('show')
    .description('print the published catalogue')
    .option('--from <location>', 'file:<path> or configmap:<namespace>/<name> (default: TOOLFORGE_CATALOGUE)')
    .action(async (o) => {
      const c = config();
      const source = catalogueSource(o.from ?? catalogueLocation(c), c);
      const doc = await source?.read();
      if (!doc) throw new AdminError('no catalogue is published there');
      process.stdout.write(doc.text);
    });
}
