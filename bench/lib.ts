// Shared helpers for benchmarks: medians, machine facts, and writing one section of docs/performance.md.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const PERF_DOC = path.join(REPO, 'docs/performance.md');

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

export async function timeIt(fn: () => Promise<unknown> | unknown): Promise<number> {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}

export function machine(): string {
  const commit = (() => {
    try {
      return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  })();
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `commit ${commit}, ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node.js ${process.version}, ${new Date().toISOString().slice(0, 10)}`;
}

/** Replace (or append) the section between `<!-- bench:NAME -->` markers in docs/performance.md. */
export function writeSection(name: string, markdown: string): void {
  const start = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  let doc = existsSync(PERF_DOC)
    ? readFileSync(PERF_DOC, 'utf8')
    : '# Performance\n\nFigures written by the benchmarks in `bench/` (see bench/README.md); each section says how it was measured. Machines of this kind are noisy: compare ratios measured in the same run, not absolute times across runs.\n';
  const block = `${start}\n${markdown.trim()}\n${end}`;
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  doc =
    i >= 0 && j > i
      ? `${doc.slice(0, i)}${block}${doc.slice(j + end.length)}`
      : `${doc.trimEnd()}\n\n${block}\n`;
  writeFileSync(PERF_DOC, doc);
}
