// Reads vitest's JSON reports (one per project) and prints a summary; exits 1 when a test failed, a report
// is missing, or a test was skipped without being on the allowlist (cluster-only tests).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const [dir = '.tmp/reports', allowFile = '.ci/skip-allowlist.txt'] = process.argv.slice(2);
const allow = new Set(
  readFileSync(allowFile, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#')),
);

type Assertion = { fullName: string; status: string };
type Report = {
  numTotalTests: number;
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  testResults: { name: string; assertionResults: Assertion[] }[];
};

let bad = false;
for (const project of ['unit', 'integration', 'e2e']) {
  const file = path.join(dir, `${project}.json`);
  if (!existsSync(file)) {
    console.log(`ci: ${project}: no report (the project did not run)`);
    bad = true;
    continue;
  }
  const r = JSON.parse(readFileSync(file, 'utf8')) as Report;
  console.log(
    `ci: ${project}: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped, ${r.numTotalTests} total`,
  );
  if (r.numFailedTests > 0) bad = true;
  for (const f of r.testResults) {
    for (const a of f.assertionResults) {
      if (a.status !== 'skipped' && a.status !== 'pending' && a.status !== 'todo') continue;
      const name = `${path.relative(process.cwd(), f.name)} > ${a.fullName}`;
      if (allow.has(name)) console.log(`ci:   skipped (allowlisted): ${name}`);
      else {
        console.log(`ci:   SKIPPED, not allowlisted: ${name}`);
        bad = true;
      }
    }
  }
}
process.exit(bad ? 1 : 0);
