import { describe, expect, it } from 'vitest';
import type { Build, BuildParametersInput } from '../contract/index.ts';
import type { BuildEngine, StartBuild } from '../engines/port.ts';
import { NO_PINS } from '../engines/port.ts';
import { AppError } from '../errors.ts';
import type { ImageRegistry } from '../registry/port.ts';
import { type BuilderPairs, BuildService } from './build-service.ts';

// Three pairs that differ in both images, so a test cannot pass by picking the wrong one.
const PAIRS: BuilderPairs = {
  default: { builder: 'builder:default', runner: 'run:default' },
  latest: { builder: 'builder:latest', runner: 'run:latest' },
  deprecated: {
    builder: 'builder:deprecated',
    runner: 'run:deprecated',
    validUntil: new Date('2026-04-27T00:00:00Z'),
  },
};

/** A service whose engine records what it was asked to start; the source needs no network (file:// + sha). */
function service(pairs: BuilderPairs, now: string) {
  const started: StartBuild[] = [];
  const engine = {
    name: 'local',
    start: async (input: StartBuild) => {
      started.push(input);
      return { build_id: 'b-1', parameters: input.params } as Build;
    },
  } as unknown as BuildEngine;
  const registry = {
    host: 'registry.test',
    repository: (tool: string, image: string) => `tool-${tool}/${image}`,
    quota: async () => ({ usedBytes: 0, limitBytes: undefined }),
  } as unknown as ImageRegistry;
  const svc = new BuildService({
    engine,
    registry,
    pins: NO_PINS,
    sourcePolicy: { allowFile: true, allowedHosts: new Set() },
    git: { timeoutMs: 1000, allowFile: true },
    envvarLimits: { maxCount: 10, maxValueBytes: 1024, maxTotalBytes: 4096 },
    builders: () => pairs,
    now: () => new Date(now),
  });
  const start = async (flags: Partial<BuildParametersInput> = {}) => {
    const r = await svc.start('tool', {
      source_url: 'file:///srv/repo',
      ref: 'a'.repeat(40),
      use_latest_versions: false,
      use_deprecated_versions: false,
      ...flags,
    });
    const input = started.at(-1);
    return { warnings: r.messages.warning, images: [input?.builderImage, input?.runImage] };
  };
  return { start, started };
}

describe('builder selection', () => {
  it('uses the default pair without flags', async () => {
    const r = await service(PAIRS, '2026-01-01T00:00:00Z').start();
    expect(r.images).toEqual(['builder:default', 'run:default']);
    expect(r.warnings).toEqual([]);
  });

  it('uses the latest pair with use_latest_versions (even with use_deprecated_versions too)', async () => {
    const { start } = service(PAIRS, '2026-01-01T00:00:00Z');
    expect((await start({ use_latest_versions: true })).images).toEqual(['builder:latest', 'run:latest']);
    const both = await start({ use_latest_versions: true, use_deprecated_versions: true });
    expect(both.images).toEqual(['builder:latest', 'run:latest']);
    expect(both.warnings).toEqual([]);
  });

  it('uses the deprecated pair the day before valid_until, warning with the date', async () => {
    const r = await service(PAIRS, '2026-04-26T23:59:59Z').start({ use_deprecated_versions: true });
    expect(r.images).toEqual(['builder:deprecated', 'run:deprecated']);
    expect(r.warnings).toEqual([
      'Using a deprecated version of the builder and run images: this will fail starting on 2026-04-27 UTC.',
    ]);
  });

  it('refuses the deprecated pair from valid_until on (400 DEPRECATED_EXPIRED) and starts nothing', async () => {
    const { start, started } = service(PAIRS, '2026-04-27T00:00:00Z');
    const err = await start({ use_deprecated_versions: true }).catch((e) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: 'DEPRECATED_EXPIRED', status: 400 });
    expect(err.message).toMatch(/not supported anymore \(the deadline was until 2026-04-27\)/);
    expect(started).toEqual([]);
  });

  it('says so when no deprecated pair is configured', async () => {
    const { deprecated: _, ...withoutDeprecated } = PAIRS;
    const { start, started } = service(withoutDeprecated, '2026-01-01T00:00:00Z');
    const err = await start({ use_deprecated_versions: true }).catch((e) => e);
    expect(err).toMatchObject({ code: 'DEPRECATED_EXPIRED', status: 400 });
    expect(err.message).toBe('There is no deprecated builder version to use.');
    expect(err.hint).toMatch(/without --use-deprecated-versions/);
    expect(started).toEqual([]);
  });
});
