import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CATALOGUE_SCHEMA_FILE, renderCatalogueSchema } from '../../scripts/generate-catalogue-schema.ts';
import { DEFAULT_CATALOGUE_FILE } from './ensure.ts';
import { toLegacy } from './legacy.ts';
import { parseCatalogue } from './parse.ts';
import { LegacyCatalogueSchema } from './schema.ts';

const fixture = (name: string) =>
  readFileSync(path.resolve(import.meta.dirname, '../../../../test/fixtures/catalogue', name), 'utf8');
const builders = { builder: 'b:1', runner: 'r:1' };

/** A small valid catalogue, with `extra` YAML appended under `images:`. */
const catalogue = (images: string, top = '') =>
  `version: 1
builders: {default: {builder: b:1, runner: r:1}}
kinds: {base: {}, web: {env: {PORT: "8000"}}}
flavours: {py: {packages: [python3]}, php: {only: [web]}}
${top}images:
${images}`;

const problems = (text: string) => {
  const r = parseCatalogue(text, { legacyBuilders: builders });
  return r.ok ? [] : r.problems;
};

describe('the shipped catalogue', () => {
  it('is a valid version 1 catalogue', () => {
    const r = parseCatalogue(readFileSync(DEFAULT_CATALOGUE_FILE, 'utf8'));
    expect(r.ok && r.format).toBe('v1');
  });

  it('catalogue.schema.json is what the zod schema generates (run `npm run openapi`)', () => {
    expect(readFileSync(CATALOGUE_SCHEMA_FILE, 'utf8')).toBe(renderCatalogueSchema());
  });
});

describe('legacy images-v1.yaml', () => {
  it('parses the legacy format, keeping aliases and variants; a missing state reads as stable', () => {
    const r = parseCatalogue(fixture('legacy-images-v1.yaml'), { legacyBuilders: builders });
    if (!r.ok) throw new Error(r.problems.join('\n'));
    expect(r.format).toBe('legacy');
    expect(r.catalogue.builders.default).toEqual(builders);
    expect(r.catalogue.images['python3.9']).toMatchObject({
      state: 'deprecated',
      aliases: ['tf-python39', 'tf-python39-DEPRECATED'],
    });
    expect(r.catalogue.images.node16?.state).toBe('stable');
    expect(r.catalogue.images.jdk17?.variants.webservice?.extra).toEqual({
      wstype: 'generic',
      resources: 'jdk',
    });
    expect(r.catalogue.images.mariadb?.variants.webservice).toBeUndefined();
  });

  it('needs builders from configuration, and refuses unknown states', () => {
    expect(parseCatalogue(fixture('legacy-images-v1.yaml'))).toMatchObject({
      ok: false,
      problems: [expect.stringContaining('has no builders')],
    });
    expect(problems('x: {image: a, state: experimental}')).toEqual([
      'x.state: unknown state "experimental" (stable, beta or deprecated)',
    ]);
  });

  it('is generated from a catalogue in the shape today’s readers parse, without digests', () => {
    const r = parseCatalogue(
      catalogue(`  python3.11:
    state: stable
    aliases: [tf-python311]
    variants:
      jobs-framework: {image: "reg/py-base:1@sha256:${'a'.repeat(64)}"}
      webservice: {image: "reg/py-web:1@sha256:${'b'.repeat(64)}", extra: {wstype: python}}
`),
    );
    if (!r.ok) throw new Error(r.problems.join('\n'));
    const legacy = parse(toLegacy(r.catalogue));
    expect(LegacyCatalogueSchema.parse(legacy)).toEqual({
      'python3.11': {
        image: 'reg/py-base:1',
        state: 'stable',
        aliases: ['tf-python311'],
        variants: {
          'jobs-framework': { image: 'reg/py-base:1' },
          webservice: { image: 'reg/py-web:1', extra: { wstype: 'python' } },
        },
      },
    });
    // …and our reader takes it back.
    expect(parseCatalogue(toLegacy(r.catalogue), { legacyBuilders: builders }).ok).toBe(true);
  });
});

describe('refused with every problem and its path', () => {
  it.each([
    [
      'an alias that is another image’s name',
      catalogue('  a: {state: stable, image: x, aliases: [b]}\n  b: {state: stable, image: y}\n'),
      ['images.a.aliases[0]: "b" is also the name of images.b'],
    ],
    [
      'an alias used twice',
      catalogue(
        '  a: {state: stable, image: x, aliases: [tf-a]}\n  b: {state: stable, image: y, aliases: [tf-a]}\n',
      ),
      ['images.b.aliases[0]: "tf-a" is also an alias of images.a'],
    ],
    [
      'an unknown state',
      catalogue('  a: {state: retired, image: x}\n'),
      ['images.a.state: unknown state "retired" (stable, beta or deprecated)'],
    ],
    [
      'dates that do not exist or are not dates',
      catalogue(
        '  a: {state: deprecated, valid_until: 2026-02-30, image: x}\n  b: {state: deprecated, valid_until: next week, image: y}\n',
      ),
      ['images.a.valid_until: a date written YYYY-MM-DD', 'images.b.valid_until: a date written YYYY-MM-DD'],
    ],
    [
      'valid_until on an image that is not deprecated',
      catalogue('  a: {state: stable, valid_until: 2027-01-01, image: x}\n'),
      ['images.a.valid_until: only a deprecated image has valid_until'],
    ],
    [
      'kinds and flavours that are not defined, or not built together',
      catalogue(
        '  a:\n    state: stable\n    variants:\n      jobs-framework: {build: {kind: cli, flavour: py}}\n      webservice: {build: {kind: base, flavour: php}}\n',
      ),
      [
        'images.a.variants.jobs-framework.build: kind "cli" is not defined in kinds',
        'images.a.variants.webservice.build: flavour "php" is only built for web',
      ],
    ],
    [
      'a name with dots, shown unambiguously',
      catalogue('  python3.11: {state: stable}\n'),
      ['images["python3.11"]: needs `image`, `build` or at least one variant'],
    ],
    [
      'an unknown key',
      catalogue('  a: {state: stable, image: x, colour: blue}\n'),
      ['images.a: Unrecognized key: "colour"'],
    ],
    [
      'another schema version',
      'version: 2\nbuilders: {}\nimages: {}\n',
      ['version: 2 is not supported (this service reads version 1)'],
    ],
    [
      'a duplicate key',
      catalogue('  a: {state: stable, image: x}\n  a: {state: beta, image: y}\n'),
      [expect.stringMatching(/^YAML: Map keys must be unique/)],
    ],
    ['a list instead of a mapping', '- a\n- b\n', ['(top level): a mapping is needed']],
  ])('%s', (_what, text, expected) => {
    expect(problems(text)).toEqual(expected);
  });

  it('a YAML bomb (aliases expanding exponentially)', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (const [name, prev] of [
      ['b', 'a'],
      ['c', 'b'],
      ['d', 'c'],
      ['e', 'd'],
      ['f', 'e'],
    ])
      bomb.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(', ')}]`);
    expect(problems(bomb.join('\n'))).toEqual([expect.stringContaining('refused as a possible YAML bomb')]);
  });

  it('a document over 1 MiB', () => {
    expect(problems(`# ${'x'.repeat(1024 * 1024)}\n`)).toEqual([
      expect.stringContaining('the limit is 1048576'),
    ]);
  });

  it('accepts a few YAML anchors for repeated variants', () => {
    expect(
      problems(
        catalogue(
          '  a: {state: stable, variants: {jobs-framework: &v {build: {kind: base, flavour: py}}, other: *v}}\n',
        ),
      ),
    ).toEqual([]);
  });
});
