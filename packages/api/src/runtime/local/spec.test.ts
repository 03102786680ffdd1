import { describe, expect, it } from 'vitest';
import type { WorkloadSpec } from '../../workloads/port.ts';
import { validateSchedule } from './schedule.ts';
import { argvFor, envFor, parseMemory, validateSpec } from './spec.ts';

const image = { requested: 'x', ref: 'x', digest: `sha256:${'a'.repeat(64)}`, type: 'buildservice' as const };
const job = (over: Partial<WorkloadSpec> = {}): WorkloadSpec => ({
  tool: 'tool',
  kind: 'job',
  name: 'job',
  image,
  command: 'worker',
  mount: 'none',
  resources: {},
  ...over,
});

describe('memory quantities', () => {
  it.each([
    ['512Mi', 512 * 2 ** 20],
    ['1Gi', 2 ** 30],
    ['1.5Gi', 1.5 * 2 ** 30],
    ['500M', 500e6],
    ['268435456', 268435456],
  ])('%s', (q, bytes) => expect(parseMemory(q)).toBe(bytes));
  it.each(['', '1 Gi', '-1Gi', '0', '1GB', 'lots'])('refuses %j', (q) =>
    expect(parseMemory(q)).toBeUndefined(),
  );
});

describe('schedules', () => {
  it.each(['* * * * *', '*/5 1-3 * * 1-5', '@daily', '0 12 1 1 *'])('accepts %j', (s) =>
    expect(validateSchedule(s)).toBeUndefined(),
  );
  it.each(['', '* * * *', '* * * * * *', '61 * * * *', '0 0 31 2 *', 'every day'])('refuses %j', (s) =>
    expect(validateSchedule(s)).toBeTruthy(),
  );
});

describe('command lines', () => {
  it('runs buildservice jobs through the launcher, keeping a leading `launcher ` as is', () => {
    expect(argvFor(job({ command: 'worker' }), {})).toEqual(['/cnb/lifecycle/launcher', 'worker']);
    expect(argvFor(job({ command: 'launcher worker' }), {})).toEqual(['/cnb/lifecycle/launcher', 'worker']);
    expect(argvFor(job({ command: 'a && b' }), {})).toEqual(['/cnb/lifecycle/launcher', 'a && b']);
  });
  it('runs standard jobs through /bin/sh and webservices as the web process', () => {
    expect(argvFor(job({ image: { ...image, type: 'standard' }, command: 'a | b' }), {})).toEqual([
      '/bin/sh',
      '-c',
      'a | b',
    ]);
    expect(argvFor(job({ kind: 'webservice', name: 'webservice', command: undefined }), {})).toEqual([
      '/cnb/process/web',
    ]);
  });
});

describe('environment', () => {
  it('is the image Env, then PORT (what listens) and NO_HOME (buildservice images), then the tool env', () => {
    const web = job({ kind: 'webservice', name: 'webservice', port: 9000, env: { EXTRA: '1', HOME: '/x' } });
    expect(envFor(web, ['PATH=/bin', 'HOME=/home/cnb', 'EQ=a=b'])).toEqual({
      PATH: '/bin',
      HOME: '/x',
      EQ: 'a=b',
      PORT: '9000',
      NO_HOME: 'a buildservice pod does not need a home env',
      EXTRA: '1',
    });
    expect(envFor(job(), ['PATH=/bin'])).toEqual({
      PATH: '/bin',
      NO_HOME: 'a buildservice pod does not need a home env',
    });
  });
});

describe('validation', () => {
  it('accepts a plain job and refuses names, digests and ports it cannot use', () => {
    expect(() => validateSpec(job())).not.toThrow();
    expect(() => validateSpec(job({ name: 'x'.repeat(53) }))).toThrow(/invalid job name/);
    expect(() => validateSpec(job({ image: { ...image, digest: 'sha256:../../etc' } }))).toThrow(/digest/);
    expect(() => validateSpec(job({ kind: 'webservice', name: 'webservice', port: 80 }))).toThrow(/port/);
    expect(() => validateSpec(job({ env: { 'A=B': 'x' } }))).toThrow(/env/);
  });
});
