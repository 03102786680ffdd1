import { describe, expect, it } from 'vitest';
import { mergeProcesses } from './processes.ts';

const p = (type: string, extra: { default?: boolean; command?: string[] } = {}) => ({
  type,
  command: extra.command ?? [type],
  args: [],
  default: extra.default ?? false,
});

describe('process merging', () => {
  it('later buildpacks replace processes of the same type', () => {
    const { processes } = mergeProcesses(
      [
        { buildpackId: 'a', processes: [p('web', { command: ['node', 'server.js'] }), p('worker')] },
        { buildpackId: 'b', processes: [p('web', { command: ['gunicorn'] })] },
      ],
      '/workspace',
    );
    expect(processes.map((x) => [x.type, x.command.join(' '), x.buildpackId])).toEqual([
      ['web', 'gunicorn', 'b'],
      ['worker', 'worker', 'a'],
    ]);
  });

  it('the default is the last marked one; a later non-default of that type clears it', () => {
    expect(
      mergeProcesses(
        [{ buildpackId: 'a', processes: [p('x', { default: true }), p('y', { default: true })] }],
        '/w',
      ).defaultType,
    ).toBe('y');
    expect(
      mergeProcesses(
        [
          { buildpackId: 'a', processes: [p('x', { default: true })] },
          { buildpackId: 'b', processes: [p('x')] },
        ],
        '/w',
      ).defaultType,
    ).toBeUndefined();
  });

  it('falls back to web when nothing is marked default', () => {
    expect(mergeProcesses([{ buildpackId: 'a', processes: [p('worker'), p('web')] }], '/w').defaultType).toBe(
      'web',
    );
    expect(
      mergeProcesses([{ buildpackId: 'a', processes: [p('worker')] }], '/w').defaultType,
    ).toBeUndefined();
  });
});
