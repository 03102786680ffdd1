import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** Stacks and builders shared by every integration and e2e test (see global-setup.ts). */
export const TEST_STACK_DIR = path.join(REPO_ROOT, '.tmp', 'test-stacks');
export const FIXTURE_BUILDERS_DIR = path.join(REPO_ROOT, 'test/fixtures/builders');
export const HARNESS_BUILDER_FILE = path.join(FIXTURE_BUILDERS_DIR, 'harness/builder.toml');
export const HARNESS_BUILDER = 'toolforge/harness-builder:latest';
export const BUILDER = 'toolforge/bookworm-builder:latest';
export const RUNNER = 'toolforge/bookworm-run:latest';
export const APPS_DIR = path.join(REPO_ROOT, 'test/apps');
