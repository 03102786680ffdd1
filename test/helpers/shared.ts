import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Where the shared reference material lives: beside the clone (`../shared`) unless TOOLFORGE_SHARED_DIR
 * says otherwise. CI always has it; elsewhere tests that need it skip with a clear message.
 */
export const SHARED_DIR = process.env.TOOLFORGE_SHARED_DIR ?? path.resolve(REPO, '../shared');

/**
 * The path of a file under shared/, or undefined (with a printed reason) when it is missing outside CI.
 * In CI (CI=1) a missing file is an error: those tests must never silently skip there.
 */
export function sharedFile(relative: string): string | undefined {
  const file = path.join(SHARED_DIR, relative);
  if (existsSync(file)) return file;
  if (process.env.CI) throw new Error(`reference file missing in CI: ${file}`);
  process.stderr.write(
    `skipping tests that read ${relative}: ${file} is not there (set TOOLFORGE_SHARED_DIR)\n`,
  );
  return undefined;
}
