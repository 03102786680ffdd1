import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { HarborClient } from './client.ts';
import { HarborRegistry } from './registry.ts';
import { desiredRetention, sameRetention } from './retention.ts';

const harbor = new HarborRegistry({
  client: new HarborClient({ url: 'https://harbor.example', username: 'u', password: 'p' }),
  retentionKeep: 5,
  log: pino({ level: 'silent' }),
});

describe('Harbor project names', () => {
  it('are exactly tool-<tool>, the name the push target uses too', () => {
    expect(harbor.project('mytool')).toBe('tool-mytool');
    expect(harbor.repository('my-tool', 'web')).toBe('tool-my-tool/web');
  });

  it.each(['a--b', 'a-', 'x--'])(
    'a tool name Harbor would refuse (%s) is refused, never rewritten into another tool’s project',
    (tool) => {
      expect(() => harbor.project(tool)).toThrow(/cannot be a Harbor project name/);
    },
  );
});

describe('the retention policy', () => {
  it('is recognised as ours, and a changed one is not', () => {
    const want = desiredRetention(12, 5);
    const stored = {
      id: 3,
      ...structuredClone(want),
      trigger: { kind: 'Schedule', settings: { cron: '0 0 3 * * *' } },
    };
    expect(sameRetention(stored, want)).toBe(true);
    const other = structuredClone(stored);
    other.rules[0]!.params.latestPushedK = 50;
    expect(sameRetention(other, want)).toBe(false);
    expect(sameRetention({ ...stored, scope: { level: 'project', ref: 13 } }, want)).toBe(false);
  });
});
