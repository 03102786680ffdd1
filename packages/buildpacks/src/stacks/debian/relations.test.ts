import { describe, expect, it } from 'vitest';
import { formatGroup, parseRelation, parseRelations } from './relations.ts';

describe('parseRelations', () => {
  it('parses groups, alternatives, versions and arch qualifiers', () => {
    expect(
      parseRelations('libc6 (>= 2.34), debconf (>= 0.5) | debconf-2.0, perl:any, python3:amd64 (<< 3.12)'),
    ).toEqual([
      [{ name: 'libc6', op: '>=', version: '2.34' }],
      [{ name: 'debconf', op: '>=', version: '0.5' }, { name: 'debconf-2.0' }],
      [{ name: 'perl', arch: 'any' }],
      [{ name: 'python3', arch: 'amd64', op: '<<', version: '3.12' }],
    ]);
  });

  it('accepts the obsolete < and > as <= and >=', () => {
    expect(parseRelation('foo (< 1.0)')).toEqual({ name: 'foo', op: '<=', version: '1.0' });
    expect(parseRelation('foo (> 1.0)')).toEqual({ name: 'foo', op: '>=', version: '1.0' });
  });

  it('tolerates whitespace, line breaks, architecture lists and build profiles', () => {
    expect(parseRelations(' a(=1:2.0-1)  ,\n b [amd64 !i386] <!nocheck> ,')).toEqual([
      [{ name: 'a', op: '=', version: '1:2.0-1' }],
      [{ name: 'b' }],
    ]);
  });

  it('returns nothing for an absent or empty field', () => {
    expect(parseRelations(undefined)).toEqual([]);
    expect(parseRelations('  ')).toEqual([]);
  });

  it.each(['foo (>= )', '(>= 1)', 'foo bar', 'foo (~ 1)'])('rejects %j', (text) => {
    expect(() => parseRelations(text)).toThrow(/malformed package relation/);
  });

  it('formats a group back canonically', () => {
    expect(formatGroup(parseRelations('debconf  (>=0.5)|debconf-2.0')[0]!)).toBe(
      'debconf (>= 0.5) | debconf-2.0',
    );
  });
});
