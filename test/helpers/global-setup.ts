// Global setup for the integration and e2e projects: the Debian stacks, the built-in builders and the
// spec harness's builder are built once per run (and cached on disk under .tmp/test-stacks, so a second
// local run reuses them; CI starts empty and builds them once).

import { readdirSync } from 'node:fs';
import path from 'node:path';
import { ensureBuilder, ensureStacks, stackStorePaths, withStackLock } from '@toolforge/buildpacks';
import { OciLayout } from '@toolforge/oci';
import { FIXTURE_BUILDERS_DIR, TEST_STACK_DIR } from './paths.ts';

export default async function setup(): Promise<void> {
  const t0 = Date.now();
  const progress = (e: { stage: string; detail: string }) =>
    process.stderr.write(
      `[global-setup ${((Date.now() - t0) / 1000).toFixed(1)}s] ${e.stage}: ${e.detail}\n`,
    );
  await ensureStacks(TEST_STACK_DIR, { progress });
  const layout = await OciLayout.open(stackStorePaths(TEST_STACK_DIR).layout);
  // Every test builder under test/fixtures/builders (the spec harness's, and per-language ones).
  await withStackLock(TEST_STACK_DIR, async () => {
    for (const name of readdirSync(FIXTURE_BUILDERS_DIR).sort()) {
      await ensureBuilder(layout, path.join(FIXTURE_BUILDERS_DIR, name, 'builder.toml'), progress);
    }
  });
}
