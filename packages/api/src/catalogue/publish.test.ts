import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { matrixRecipe } from '@toolforge/buildpacks';
import pino, { type Logger } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { matrixInput } from './build.ts';
import { parseCatalogue } from './parse.ts';
import { PublishRefused, publishCatalogue } from './publish.ts';
import type { BuildReport } from './report.ts';
import { CatalogueConflict, FileCatalogueSource } from './source.ts';
import { CatalogueStore } from './store.ts';

const SOURCE = `version: 1
builders:
  default: {builder: toolforge/bookworm-builder:latest, runner: toolforge/bookworm-run:latest}
  deprecated: {builder: old-builder:1, runner: old-run:1, valid_until: 2026-01-01}
kinds: {base: {}, web: {}}
flavours: {py: {}, php: {}}
images:
  python:
    state: stable
    aliases: [tf-python]
    variants:
      jobs-framework: {build: {kind: base, flavour: py}}
      webservice: {build: {kind: web, flavour: py}, extra: {wstype: python}}
  php:
    state: beta
    variants:
      webservice: {build: {kind: web, flavour: php}}
  fixed:
    state: stable
    image: registry.example/fixed:1
`;

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const recipe = (source: string, kind: string, flavour: string) => {
  const parsed = parseCatalogue(source);
  if (!parsed.ok) throw new Error(parsed.problems.join('\n'));
  return matrixRecipe(matrixInput(parsed.catalogue), { kind, flavour });
};
/** An entry as `catalogue build` writes it, built from `source`'s recipe (SOURCE's by default). */
const ok = (kind: string, flavour: string, d: string, source = SOURCE) => ({
  kind,
  flavour,
  status: 'ok' as const,
  ref: `toolforge/${flavour}-${kind}:20261121`,
  digest: digest(d),
  recipe: recipe(source, kind, flavour),
});
const report = (entries: BuildReport['entries']): BuildReport => ({ version: 1, created: 'now', entries });
const full = report([ok('base', 'py', 'a'), ok('web', 'py', 'b'), ok('web', 'php', 'c')]);

const LEGACY = 'images-v1.yaml';
const target = () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tf-cat-'));
  return { dir, source: new FileCatalogueSource(path.join(dir, 'catalogue.yaml')) };
};

describe('publishing', () => {
  it('resolves every build reference from the report and writes both documents', async () => {
    const { dir, source } = target();
    const r = await publishCatalogue(source, SOURCE, { report: full, reportName: 'r1.json' });
    expect(r.revision).toBe(1);
    const published = parseCatalogue(readFileSync(path.join(dir, 'catalogue.yaml'), 'utf8'));
    if (!published.ok) throw new Error(published.problems.join('\n'));
    expect(published.catalogue.images.python?.variants.webservice?.image).toBe(
      `toolforge/py-web:20261121@${digest('b')}`,
    );
    expect(published.catalogue.provenance).toMatchObject({
      report: 'r1.json',
      source_sha256: expect.any(String),
    });
    const legacy = parse(readFileSync(path.join(dir, 'images-v1.yaml'), 'utf8'));
    expect(legacy.python).toMatchObject({ image: 'toolforge/py-base:20261121', aliases: ['tf-python'] });
    expect(legacy.fixed.image).toBe('registry.example/fixed:1');
    // jobs-api knows only stable | deprecated: the beta image is offered to it as stable.
    expect(published.catalogue.images.php?.state).toBe('beta');
    expect(legacy.php.state).toBe('stable');
    // Publishing again is the next revision.
    expect((await publishCatalogue(source, SOURCE, { report: full })).revision).toBe(2);
  });

  it('a failed or missing combination publishes nothing and names each pair', async () => {
    const { dir, source } = target();
    const partial = report([
      ok('base', 'py', 'a'),
      { kind: 'web', flavour: 'py', status: 'failed', error: 'E: Unable to locate package python9' },
    ]);
    const refused = await publishCatalogue(source, SOURCE, { report: partial }).catch((e) => e);
    expect(refused).toBeInstanceOf(PublishRefused);
    expect(refused.problems).toEqual([
      'web × php: not in the build report',
      'web × py: its build failed: E: Unable to locate package python9',
    ]);
    expect(existsSync(path.join(dir, 'catalogue.yaml'))).toBe(false);
    expect(existsSync(path.join(dir, 'images-v1.yaml'))).toBe(false);
    expect(await publishCatalogue(source, SOURCE).catch((e) => e.message)).toMatch(
      /publish it with the build report/,
    );
  });

  it('refuses a report built from another recipe, or one that does not say, naming each pair', async () => {
    const { dir, source } = target();
    const changed = SOURCE.replace('py: {}', 'py: {packages: [python3-venv], env: {PYTHONUNBUFFERED: "1"}}');
    const { recipe: _, ...unsaid } = ok('web', 'php', 'c');
    const refused = await publishCatalogue(source, changed, {
      report: report([...full.entries.slice(0, 2), unsaid]),
    }).catch((e) => e);
    expect(refused).toBeInstanceOf(PublishRefused);
    expect(refused.problems).toEqual([
      'base × py: built from another recipe (its packages or environment changed since); build it again',
      'web × php: the report does not say what it was built from; build it again',
      'web × py: built from another recipe (its packages or environment changed since); build it again',
    ]);
    expect(existsSync(path.join(dir, 'catalogue.yaml'))).toBe(false);
    // Rebuilt from the new recipe, it publishes; the order packages are written in does not matter.
    const rebuilt = report([
      ok('base', 'py', 'd', changed),
      ok('web', 'py', 'e', changed),
      ok('web', 'php', 'c'),
    ]);
    expect((await publishCatalogue(source, changed, { report: rebuilt })).revision).toBe(1);
    expect(
      recipe(
        changed.replace('packages: [python3-venv]', 'packages: [python3-venv, python3-venv]'),
        'web',
        'py',
      ),
    ).toBe(recipe(changed, 'web', 'py'));
  });

  it('continues from the revision of an invalid current document instead of restarting at 1', async () => {
    const { dir, source } = target();
    // Broken YAML: nothing parses, but the revision line is still there.
    writeFileSync(path.join(dir, 'catalogue.yaml'), 'version: 1\nrevision: 7\nimages: [unclosed\n');
    expect((await publishCatalogue(source, SOURCE, { report: full })).revision).toBe(8);
    // With no revision to recover, it starts at 1 (and publishing is not refused).
    writeFileSync(path.join(dir, 'catalogue.yaml'), 'images: {x: {state: gone}}\n');
    expect((await publishCatalogue(source, SOURCE, { report: full })).revision).toBe(1);
  });

  it('two concurrent publishers: one wins, the other is refused and overwrites nothing', async () => {
    const { source } = target();
    await publishCatalogue(source, SOURCE, { report: full });
    const other = SOURCE.replace('aliases: [tf-python]', 'aliases: [tf-python, py]');
    const results = await Promise.allSettled([
      publishCatalogue(source, SOURCE, { report: full }),
      publishCatalogue(source, other, { report: full }),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost.map((r) => (r as PromiseRejectedResult).reason)).toEqual([expect.any(CatalogueConflict)]);
    const now = parseCatalogue(((await source.read()) as { text: string }).text);
    expect(now.ok && now.catalogue.revision).toBe(2);
  });
});

describe('the catalogue in force', () => {
  const quiet = pino({ level: 'silent' });
  const fallback = {
    default: { builder: 'cfg-b', runner: 'cfg-r' },
    latest: { builder: 'cfg-b', runner: 'cfg-r' },
  };

  it('uses configured builders until a catalogue is published, then the catalogue’s', async () => {
    const { source } = target();
    const store = new CatalogueStore(source, fallback, quiet);
    await store.start();
    expect(store.builders().default.builder).toBe('cfg-b');
    await publishCatalogue(source, SOURCE, { report: full });
    await store.reload();
    expect(store.builders()).toMatchObject({
      default: { builder: 'toolforge/bookworm-builder:latest' },
      latest: { builder: 'toolforge/bookworm-builder:latest' },
      deprecated: { builder: 'old-builder:1', validUntil: new Date('2026-01-01T00:00:00Z') },
    });
    store.stop();
  });

  it('an invalid new version is reported with its problems; the last good one stays in force', async () => {
    const { dir, source } = target();
    await publishCatalogue(source, SOURCE, { report: full });
    const store = new CatalogueStore(source, fallback, quiet);
    await store.start();
    // A hand edit that broke the published document (its revision line kept).
    writeFileSync(
      path.join(dir, 'catalogue.yaml'),
      'version: 1\nrevision: 1\nbuilders: {}\nimages: {x: {state: gone}}\n',
    );
    await store.reload();
    expect(store.current?.revision).toBe(1);
    expect(store.warnings()).toEqual([
      expect.stringMatching(
        /is invalid and was not loaded: builders.default: .*; images.x.state: unknown state "gone"/,
      ),
    ]);
    // Publishing a good one again clears the warning.
    await publishCatalogue(source, SOURCE, { report: full });
    await store.reload();
    expect(store.warnings()).toEqual([]);
    // The next revision after the invalid document's, never back to 1.
    expect(store.current?.revision).toBe(2);
    store.stop();
  });

  it('repairs an images-v1.yaml that disagrees with catalogue.yaml (a publish interrupted between renames)', async () => {
    const { dir, source } = target();
    const file = (name: string) => path.join(dir, name);
    await publishCatalogue(source, SOURCE, { report: full });
    const [catalogue1, legacy1] = [
      readFileSync(file('catalogue.yaml'), 'utf8'),
      readFileSync(file(LEGACY), 'utf8'),
    ];
    await publishCatalogue(source, SOURCE.replace('tf-python', 'tf-python3'), { report: full });
    const legacy2 = readFileSync(file(LEGACY), 'utf8');
    // The crash: the new legacy file is in place, catalogue.yaml (the commit point) is still the old one.
    writeFileSync(file('catalogue.yaml'), catalogue1);
    const warn = vi.fn();
    const log = { info: () => {}, error: () => {}, warn } as unknown as Logger;
    const store = new CatalogueStore(source, fallback, log);
    await store.start();
    store.stop();
    expect(store.current?.revision).toBe(1);
    expect(legacy2).not.toBe(legacy1);
    expect(readFileSync(file(LEGACY), 'utf8')).toBe(legacy1);
    expect(warn).toHaveBeenCalledWith(
      expect.anything(),
      expect.stringMatching(/images-v1.yaml did not match/),
    );
    // Consistent files are left alone.
    warn.mockClear();
    await publishCatalogue(source, SOURCE, { report: full });
    const again = new CatalogueStore(source, fallback, log);
    await again.start();
    again.stop();
    expect(again.current?.revision).toBe(2);
    expect(warn).not.toHaveBeenCalled();
  });

  it('follows the file: a newly published version is loaded without a restart', async () => {
    const { source } = target();
    const store = new CatalogueStore(source, fallback, quiet);
    await store.start();
    await publishCatalogue(source, SOURCE, { report: full });
    for (let i = 0; i < 50 && store.current?.revision !== 1; i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(store.current?.revision).toBe(1);
    store.stop();
  });
});
