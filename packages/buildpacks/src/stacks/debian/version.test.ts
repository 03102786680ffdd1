import { describe, expect, it } from 'vitest';
import { compareVersions, parseVersion, versionSatisfies } from './version.ts';

// [a, b, expected sign of compare(a, b)]; many are from dpkg's own t-version.c and apt's test suite.
const table: [string, string, -1 | 0 | 1][] = [
  ['1.0', '1.0', 0],
  ['1.0~rc1', '1.0', -1],
  ['1.0~rc1', '1.0~rc2', -1],
  ['1.0~~', '1.0~', -1],
  ['1.0~~a', '1.0~', -1],
  ['1.0~', '1.0', -1],
  ['1.0', '1.0a', -1],
  ['1.0a', '1.0+', -1], // letters sort before non-letters
  ['1.0', '1.0+', -1],
  ['1.0-1', '1.0-1+b1', -1],
  ['1.0-1+b1', '1.0-2', -1],
  ['1.0-1', '1.0-1~bpo1', 1],
  ['1.0+dfsg-1', '1.0-1', 1],
  ['1:0.1', '2.0', 1], // epoch wins
  ['0:1.0', '1.0', 0], // absent epoch is 0
  ['1:1.0', '1.0', 1],
  ['2:1.0', '10:0.1', -1], // epochs compare numerically
  ['1.0-0', '1.0', 0], // absent revision compares like "0"
  ['1.0', '1.0-1', -1],
  ['1.2.3', '1.2.10', -1], // digit runs compare numerically
  ['1.002', '1.2', 0], // leading zeros are ignored
  ['1.10', '1.9', 1],
  ['7.6p2-4', '7.6-0', 1],
  ['1.0.0', '1.0', 1],
  ['1.0.', '1.0', 1],
  ['2.36-9+deb12u10', '2.36-9+deb12u9', 1],
  ['2.36-9+deb12u4', '2.36-9', 1],
  ['3.0.16-1~deb12u1', '3.0.16-1', -1],
  ['3.0.17-1~deb12u2', '3.0.16-1', 1],
  ['1.2-3-4', '1.2-3', 1], // upstream "1.2-3" with revision "4"
  ['1:1.2:3-1', '1:1.2:3-1', 0], // colons are allowed in upstream when there is an epoch
  ['a', 'b', -1],
  ['0.9', '0.10', -1],
  ['1.0~alpha', '1.0~beta', -1],
  ['1.0~beta', '1.0~beta1', -1],
  ['2022g-0+deb12u1', '2024a-0+deb12u1', -1],
  ['1:2.38.1-5+deb12u3', '1:2.38.1-5+b1', 1], // "deb" > "b"
];

describe('compareVersions', () => {
  it.each(table)('%s vs %s → %i', (a, b, expected) => {
    expect(compareVersions(a, b)).toBe(expected);
    expect(compareVersions(b, a)).toBe(-expected || 0);
  });

  it('sorts a list like dpkg', () => {
    const sorted = ['1.0', '1.0~rc1', '1:0.1', '1.0-1+b1', '1.0-1', '0.9', '1.0~~'].sort(compareVersions);
    expect(sorted).toEqual(['0.9', '1.0~~', '1.0~rc1', '1.0', '1.0-1', '1.0-1+b1', '1:0.1']);
  });
});

describe('parseVersion', () => {
  it('splits epoch, upstream and revision', () => {
    expect(parseVersion('1:2.3-4-5')).toEqual({ epoch: 1, upstream: '2.3-4', revision: '5' });
    expect(parseVersion('2.3')).toEqual({ epoch: 0, upstream: '2.3', revision: '' });
  });

  it.each(['', ' ', '1 .0', 'x:1.0', ':1.0', '1:', '-1'])('rejects %j', (v) => {
    expect(() => parseVersion(v)).toThrow(/Debian version/);
  });
});

describe('versionSatisfies', () => {
  const cases: [string, '<<' | '<=' | '=' | '>=' | '>>', string, boolean][] = [
    ['1.0', '>=', '1.0', true],
    ['1.0~rc1', '>=', '1.0', false],
    ['1.0', '>>', '1.0', false],
    ['1.0-1', '>>', '1.0', true],
    ['1.0', '<<', '1.0', false],
    ['1.0~rc1', '<<', '1.0', true],
    ['1.0', '<=', '1.0', true],
    ['0:1.0', '=', '1.0', true],
    ['1.0-1', '=', '1.0', false],
  ];
  it.each(cases)('%s %s %s is %s', (v, op, ref, expected) => {
    expect(versionSatisfies(v, op, ref)).toBe(expected);
  });
});
