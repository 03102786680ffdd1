// Export throughput and per-phase build times of the embedded platform.
//   node bench/export.ts [runs=5]
// 1. Export throughput: our layer writer (deterministic tar + gzip -1 + both sha256 digests, written to
//    disk) on the build image's /usr tree, against `tar --sort=name -cf - DIR | gzip -1 >/dev/null` on the
//    same files; median of N runs each, interleaved, in the same process run.
// 2. Per-phase times of building the Procfile sample app with the real builder (median of N).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureStacks, loadBuilder, stackStorePaths } from '@toolforge/buildpacks';
import { layerFromDirectory, OciLayout } from '@toolforge/oci';
import { harnessBuild } from '../test/helpers/lifecycle.ts';
import { APPS_DIR, BUILDER, TEST_STACK_DIR } from '../test/helpers/paths.ts';
import { machine, median, timeIt, writeSection } from './lib.ts';

const runs = Number(process.argv[2] ?? 5);

await ensureStacks(TEST_STACK_DIR, { progress: (e) => console.error(`${e.stage}: ${e.detail}`) });
const stacks = stackStorePaths(TEST_STACK_DIR);
const builder = await loadBuilder(await OciLayout.open(stacks.layout), BUILDER, stacks.rootfs);
const tree = path.join(builder.rootfs, 'usr');
const bytes = Number(execFileSync('du', ['-sb', tree], { encoding: 'utf8' }).split('\t')[0]);
const files = Number(
  execFileSync('sh', ['-c', `find '${tree}' -type f | wc -l`], { encoding: 'utf8' }).trim(),
);

const ours: number[] = [];
const baseline: number[] = [];
const scratch = mkdtempSync(path.join(os.tmpdir(), 'tf-bench-'));
let blob = 0;
for (let i = 0; i < runs; i++) {
  baseline.push(
    await timeIt(() => {
      const r = spawnSync('sh', ['-c', `tar --sort=name -cf - -C '${tree}' . | gzip -1 >/dev/null`]);
      if (r.status !== 0) throw new Error(`baseline failed: ${r.stderr}`);
    }),
  );
  const file = path.join(scratch, `layer-${i}`);
  ours.push(await timeIt(() => layerFromDirectory({ root: tree, prefix: '/usr', uid: 0, gid: 0 }, file)));
  blob = statSync(file).size;
  rmSync(file);
}
const mOurs = median(ours);
const mBase = median(baseline);
console.error(`export: ours ${mOurs.toFixed(2)} s, baseline ${mBase.toFixed(2)} s`);

const phases = new Map<string, number[]>();
const totals: number[] = [];
for (let i = 0; i < runs; i++) {
  const t0 = performance.now();
  const b = await harnessBuild(path.join(APPS_DIR, 'procfile-app'), { builder: BUILDER });
  if (!b.result) throw new Error(`sample build failed: ${b.failure?.message}`);
  totals.push((performance.now() - t0) / 1000);
  for (const t of b.result.timings) {
    const list = phases.get(t.phase) ?? [];
    list.push((t.endedAt.getTime() - t.startedAt.getTime()) / 1000);
    phases.set(t.phase, list);
  }
  rmSync(b.workDir, { recursive: true, force: true });
}
rmSync(scratch, { recursive: true, force: true });

const ratio = mOurs / mBase;
writeSection(
  'export',
  `## Export throughput (issue: embedded CNB platform)

${machine()}. Command: \`node bench/export.ts ${runs}\`.

Our layer writer (deterministic tar with sorted entries and normalised headers, gzip level 1, sha256 of the
tar and of the blob, written to disk) on the build image's \`/usr\` (${files} files, ${(bytes / 2 ** 20).toFixed(1)} MiB,
${(blob / 2 ** 20).toFixed(1)} MiB compressed), against \`tar --sort=name -cf - DIR | gzip -1 >/dev/null\` on the same tree.
Median of ${runs} interleaved runs.

| | median seconds | MiB/s |
|---|---|---|
| baseline: tar \\| gzip -1 | ${mBase.toFixed(2)} | ${(bytes / 2 ** 20 / mBase).toFixed(1)} |
| ours: layerFromDirectory | ${mOurs.toFixed(2)} | ${(bytes / 2 ** 20 / mOurs).toFixed(1)} |
| **ratio ours / baseline** | **${ratio.toFixed(2)}** | target ≤ 1.20 |

## Build phases of the Procfile sample app

Median of ${runs} builds of \`test/apps/procfile-app\` with the \`toolforge/bookworm-builder\` (no cache, fresh layout each time).

| phase | median seconds |
|---|---|
${[...phases].map(([p, xs]) => `| ${p} | ${median(xs).toFixed(3)} |`).join('\n')}
| **whole build** | **${median(totals).toFixed(3)}** |
`,
);
console.log(`ratio ${ratio.toFixed(2)}; wrote docs/performance.md`);
