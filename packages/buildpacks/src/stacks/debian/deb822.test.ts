import { describe, expect, it } from 'vitest';
import { fieldLines, parseDeb822 } from './deb822.ts';

describe('parseDeb822', () => {
  it('splits paragraphs, lower-cases names and keeps continuation lines', () => {
    const [a, b, ...rest] = parseDeb822(
      'Package: a\nDescription: short\n long line\n .\nSHA256:\n 00 1 x\n\n  \nPackage: b\r\nVersion: 1\r\n\n\n',
    );
    expect(rest).toEqual([]);
    expect(a!.fields.get('package')).toBe('a');
    expect(a!.fields.get('description')).toBe('short\n long line\n .');
    expect(fieldLines(a!.fields.get('sha256'))).toEqual(['00 1 x']);
    expect(a!.raw).toBe('Package: a\nDescription: short\n long line\n .\nSHA256:\n 00 1 x');
    expect(b!.fields.get('version')).toBe('1');
  });

  it('rejects a line that is neither a field nor a continuation', () => {
    expect(() => parseDeb822('Package: a\nnonsense\n')).toThrow(/malformed control line/);
  });
});
