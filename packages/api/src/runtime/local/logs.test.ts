import { mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { LogFile, RunOutput } from './logs.ts';

const at = new Date('2024-05-01T12:00:00.000Z');
const newLog = (maxBytes = 1 << 20) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tf-logs-'));
  return new LogFile(path.join(dir, 'job-x.log'), {
    maxBytes,
    now: () => at,
    log: pino({ level: 'silent' }),
  });
};
const collect = async (file: LogFile) => {
  const out: string[] = [];
  for await (const l of file.read({ follow: false, signal: new AbortController().signal })) out.push(l);
  return out;
};

describe('workload log files', () => {
  it('stamps lines, splits output by stream and keeps unfinished lines until the end', async () => {
    const file = newLog();
    const out = new RunOutput(file);
    await out.onOutput(Buffer.from('one\ntw'), 'stdout');
    await out.onOutput(Buffer.from('err\n'), 'stderr');
    await out.onOutput(Buffer.from('o\nthree'), 'stdout');
    await out.end();
    expect(await collect(file)).toEqual(
      ['one', 'err', 'two', 'three'].map((l) => `2024-05-01T12:00:00.000Z ${l}`),
    );
  });

  it('rotates into one older file and replays both in order', async () => {
    const file = newLog(100); // 25-byte stamp + line: three lines per file
    for (let i = 0; i < 10; i++) await file.append([`line ${i}`]);
    expect(readdirSync(path.dirname(file.file)).sort()).toEqual(['job-x.log', 'job-x.log.1']);
    const lines = (await collect(file)).map((l) => l.slice(25));
    expect(lines).toEqual(['line 6', 'line 7', 'line 8', 'line 9']);
  });

  it('follows across rotations without losing or repeating a line, and ends when removed', async () => {
    const file = newLog(200);
    await file.append(['first']);
    const seen: string[] = [];
    const done = (async () => {
      for await (const l of file.read({ follow: true, signal: new AbortController().signal }))
        seen.push(l.slice(25));
    })();
    const expected = ['first'];
    for (let i = 0; i < 30; i++) {
      expected.push(`line ${i}`);
      await file.append([`line ${i}`]);
      if (i % 3 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    while (seen.length < expected.length) await new Promise((r) => setTimeout(r, 10));
    expect(seen).toEqual(expected);
    await file.remove();
    await done;
  });

  it('stops following when the signal aborts', async () => {
    const file = newLog();
    const abort = new AbortController();
    const done = (async () => {
      for await (const _ of file.read({ follow: true, signal: abort.signal })) {
        // nothing
      }
    })();
    setTimeout(() => abort.abort(), 50);
    await done;
  });
});
