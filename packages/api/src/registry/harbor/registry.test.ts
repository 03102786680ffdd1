import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { HarborClient, HarborError, harborUnavailable } from './client.ts';
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

describe('the 503 for a Harbor failure', () => {
  it('names the operation and the HTTP status or the timeout, nothing else', () => {
    expect(harborUnavailable('listing tool-a', new HarborError(502, 'GET /projects: HTTP 502')).message).toBe(
      'Harbor unavailable (listing tool-a: HTTP 502).',
    );
    expect(harborUnavailable('listing tool-a', new HarborError(0, 'timed out')).message).toBe(
      'Harbor unavailable (listing tool-a: timed out).',
    );
    // Anything else (a parse error quoting Harbor's answer, say) is not repeated.
    const odd = harborUnavailable('listing tool-a', new SyntaxError('Unexpected token "s3cret"'));
    expect(odd.message).toBe('Harbor unavailable (listing tool-a: unexpected error).');
    expect(odd.code).toBe('REGISTRY_UNAVAILABLE');
  });
});
