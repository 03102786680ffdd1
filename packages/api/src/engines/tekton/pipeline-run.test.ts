import { describe, expect, it } from 'vitest';
import { nanos } from './logs.ts';
import { PipelineRunSchema, statusOf } from './pipeline-run.ts';

const run = (conditions?: { status: string; reason?: string; message?: string }[], specStatus?: string) =>
  PipelineRunSchema.parse({
    metadata: { name: 'tool-buildpacks-pipelinerun-abcde' },
    spec: { ...(specStatus ? { status: specStatus } : {}) },
    status: conditions ? { conditions: conditions.map((c) => ({ type: 'Succeeded', ...c })) } : {},
  });

describe('PipelineRun condition → build status (upstream mapping)', () => {
  it.each([
    [undefined, 'BUILD_PENDING'],
    [[{ status: 'Unknown', reason: 'PipelineRunPending' }], 'BUILD_PENDING'],
    [[{ status: 'Unknown', reason: 'Started' }], 'BUILD_RUNNING'],
    [[{ status: 'Unknown', reason: 'Running' }], 'BUILD_RUNNING'],
    [[{ status: 'Unknown', reason: 'CancelledRunningFinally' }], 'BUILD_RUNNING'],
    [[{ status: 'True', reason: 'Succeeded' }], 'BUILD_SUCCESS'],
    [[{ status: 'True', reason: 'Completed' }], 'BUILD_SUCCESS'],
    [[{ status: 'False', reason: 'Failed', message: 'Tasks Completed: 1 (Failed: 1' }], 'BUILD_FAILURE'],
    [[{ status: 'False', reason: 'ParameterMissing' }], 'BUILD_FAILURE'],
    [[{ status: 'False', reason: 'PipelineRunTimeout' }], 'BUILD_TIMEOUT'],
    [[{ status: 'False', reason: 'Cancelled' }], 'BUILD_CANCELLED'],
    [[{ status: 'False', reason: 'PipelineRunCancelled' }], 'BUILD_CANCELLED'],
    [[{ status: 'False', reason: 'CancelledRunFinally' }], 'BUILD_CANCELLED'],
    [[{ status: 'False', reason: 'StoppedRunFinally' }], 'BUILD_CANCELLED'],
  ] as const)('%j → %s', (conditions, expected) => {
    expect(statusOf(run(conditions as never)).status).toBe(expected);
  });

  it('a failure message points at the logs, as upstream does', () => {
    expect(statusOf(run([{ status: 'False', reason: 'Failed', message: 'boom' }])).message).toBe(
      'boom. Check the logs with `toolforge build logs tool-buildpacks-pipelinerun-abcde`',
    );
  });
});

describe('kubelet timestamps', () => {
  it('compare by time, whatever the number of fractional digits', () => {
    expect(nanos('2026-01-01T00:00:05Z') < nanos('2026-01-01T00:00:05.1Z')).toBe(true);
    expect(nanos('2026-01-01T00:00:05.45Z') < nanos('2026-01-01T00:00:05.5Z')).toBe(true);
    expect(nanos('2026-01-01T00:00:05.500000000Z')).toBe(nanos('2026-01-01T00:00:05.5Z'));
    expect(nanos('2026-01-01T00:00:04.999999999Z') < nanos('2026-01-01T00:00:05Z')).toBe(true);
  });
});
