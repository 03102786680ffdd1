// Network: deb.debian.org (indexes only, from the shared cache after the first run).
import { beforeAll, describe, expect, it } from 'vitest';
import { type LoadedIndexes, loadIndexes } from '../../../packages/buildpacks/src/stacks/debian/release.ts';
import { resolve } from '../../../packages/buildpacks/src/stacks/debian/resolve.ts';
import { BUILD_RECIPE, RUN_RECIPE } from '../../../packages/buildpacks/src/stacks/recipes.ts';
import { CACHE_DIR } from './helpers.ts';

let loaded: LoadedIndexes;
beforeAll(async () => {
  loaded = await loadIndexes({ cacheDir: CACHE_DIR, refresh: true });
});

describe('default recipes', () => {
  it('resolve the run image to a small closure without debconf or perl', () => {
    const r = resolve(loaded.index, RUN_RECIPE);
    const names = r.packages.map((p) => p.name);
    expect(names).toEqual(
      expect.arrayContaining([...RUN_RECIPE.packages, 'debianutils', 'libtinfo6', 'mawk']),
    );
    for (const absent of ['debconf', 'perl-base', 'dash', 'dpkg', 'apt']) expect(names).not.toContain(absent);
    expect(r.excluded).toEqual(['debconf']);
    expect(r.cuts.map((c) => c.dependent)).toEqual(['ca-certificates', 'tzdata']);
    expect(names.length).toBeLessThan(30);
    // Security updates win over the point release when newer.
    const suites = new Set(r.packages.map((p) => p.suite));
    expect(suites.has('bookworm')).toBe(true);
    expect(names).toEqual([...names].sort());
  });

  it('resolve the build image to a superset of the run image, still without perl', () => {
    const run = resolve(loaded.index, RUN_RECIPE).packages.map((p) => p.name);
    const r = resolve(loaded.index, BUILD_RECIPE);
    const names = r.packages.map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(BUILD_RECIPE.packages as string[]));
    expect(names).toEqual(expect.arrayContaining(run.filter((n) => n !== 'mawk'))); // gawk provides awk here
    for (const absent of ['debconf', 'perl', 'perl-base', 'adduser', 'git-man', 'usrmerge'])
      expect(names).not.toContain(absent);
    expect(names).toEqual(expect.arrayContaining(['libapt-pkg6.0', 'libcurl4', 'libcurl3-gnutls', 'libjq1']));
    expect(r.excluded).toEqual(expect.arrayContaining(['debconf', 'perl', 'adduser']));
  });
});
