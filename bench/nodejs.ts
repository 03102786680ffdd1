// Node.js buildpack: cold and warm builds of the Node.js sample app (test/apps/nodejs-app: express, a
// lockfile, a build script) with the Node.js test builder.
//   node bench/nodejs.ts [runs=3]
// Cold: a fresh cache and a fresh layout (Node.js and npm downloaded from the registry, npm ci, build
// script, prune, export). Warm: the same cache and layout as the previous build of the same app,
// unchanged lockfile (Node.js and node_modules reused; the build script still runs). Median of N each,
// interleaved (cold, warm, cold, warm, …) so both see the same machine and network conditions.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureBuilder, ensureStacks, stackStorePaths } from '@toolforge/buildpacks';
import { OciLayout } from '@toolforge/oci';
import { type HarnessBuild, harnessBuild } from '../test/helpers/lifecycle.ts';
import { APPS_DIR, FIXTURE_BUILDERS_DIR, TEST_STACK_DIR } from '../test/helpers/paths.ts';
import { machine, median, writeSection } from './lib.ts';

const runs = Number(process.argv[2] ?? 3);
const BUILDER = 'toolforge/nodejs-builder:latest';
const APP = path.join(APPS_DIR, 'nodejs-app');

const progress = (e: { stage: string; detail: string }) => console.error(`${e.stage}: ${e.detail}`);
await ensureStacks(TEST_STACK_DIR, { progress });
await ensureBuilder(
  await OciLayout.open(stackStorePaths(TEST_STACK_DIR).layout),
  path.join(FIXTURE_BUILDERS_DIR, 'nodejs', 'builder.toml'),
  progress,
);

const scratch = mkdtempSync(path.join(os.tmpdir(), 'tf-bench-nodejs-'));
let n = 0;
const fresh = (what: string) => mkdtempSync(path.join(scratch, `${what}-${n++}-`));

interface Sample {
  total: number;
  build: number;
  export: number;
}

async function timedBuild(cacheDir: string, layoutDir: string): Promise<{ sample: Sample; b: HarnessBuild }> {
  const t0 = performance.now();
  const b = await harnessBuild(APP, { builder: BUILDER, cacheDir, layoutDir });
  const total = (performance.now() - t0) / 1000;
  if (!b.result) throw new Error(`build failed: ${b.failure?.message}`);
  rmSync(b.workDir, { recursive: true, force: true });
  const phase = (name: string) => {
    const t = b.result?.timings.find((x) => x.phase === name);
    return t ? (t.endedAt.getTime() - t.startedAt.getTime()) / 1000 : 0;
  };
  return { sample: { total, build: phase('build'), export: phase('export') }, b };
}

const logOf = (b: HarnessBuild) => b.logs.map((l) => l.text).join('\n');

// The warm builds' cache and layout, primed by one (uncounted) cold build.
const warmCache = fresh('warm-cache');
const warmLayout = fresh('warm-layout');
const primed = await timedBuild(warmCache, warmLayout);
const nodeVersion = /Node\.js (\d+\.\d+\.\d+) \(/.exec(logOf(primed.b))?.[1] ?? 'unknown';
const npmVersion = /Downloading npm (\d+\.\d+\.\d+)/.exec(logOf(primed.b))?.[1] ?? 'unknown';

const cold: Sample[] = [];
const warm: Sample[] = [];
for (let i = 0; i < runs; i++) {
  const cacheDir = fresh('cold-cache');
  const layoutDir = fresh('cold-layout');
  const c = await timedBuild(cacheDir, layoutDir);
  if (!logOf(c.b).includes('Downloading Node.js')) throw new Error('the cold build reused something');
  cold.push(c.sample);
  rmSync(cacheDir, { recursive: true, force: true });
  rmSync(layoutDir, { recursive: true, force: true });
  const w = await timedBuild(warmCache, warmLayout);
  if (!logOf(w.b).includes('Reusing node_modules (lockfile unchanged)'))
    throw new Error('the warm build reinstalled');
  warm.push(w.sample);
  console.error(
    `run ${i + 1}/${runs}: cold ${c.sample.total.toFixed(2)} s, warm ${w.sample.total.toFixed(2)} s`,
  );
}
rmSync(scratch, { recursive: true, force: true });

const med = (xs: Sample[], k: keyof Sample) => median(xs.map((x) => x[k]));
const ratio = med(warm, 'total') / med(cold, 'total');
writeSection(
  'nodejs',
  `## Node.js buildpack: cold and warm builds

${machine()}. Command: \`node bench/nodejs.ts ${runs}\`.

Builds of \`test/apps/nodejs-app\` (express: 68 production packages from a lockfile, plus one dev dependency and
a \`build\` script) with the \`toolforge/nodejs-builder\` test builder: Node.js ${nodeVersion} and npm
${npmVersion} from registry.npmjs.org. **Cold**: fresh cache and layout (Node.js and npm downloaded and
checked, \`npm ci\`, build script, \`npm prune --omit=dev\`, export). **Warm**: the cache and layout of
the previous build of the same commit (Node.js and node_modules reused, the build script runs again, same
image digest). Median of ${runs} of each, interleaved.

| | whole build (s) | build phase (s) | export phase (s) |
|---|---|---|---|
| cold | ${med(cold, 'total').toFixed(2)} | ${med(cold, 'build').toFixed(2)} | ${med(cold, 'export').toFixed(2)} |
| warm | ${med(warm, 'total').toFixed(2)} | ${med(warm, 'build').toFixed(2)} | ${med(warm, 'export').toFixed(2)} |
| **ratio warm / cold** | **${ratio.toFixed(2)}** | ${(med(warm, 'build') / med(cold, 'build')).toFixed(2)} | ${(med(warm, 'export') / med(cold, 'export')).toFixed(2)} |
`,
);
console.log(
  `cold ${med(cold, 'total').toFixed(2)} s, warm ${med(warm, 'total').toFixed(2)} s, ratio ${ratio.toFixed(2)}; wrote docs/performance.md`,
);
