import { readFile } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { ErrorCodeSchema, STATUS_BY_CODE } from '../src/contract/index.ts';

it('docs/errors.md documents every error code with its HTTP status', async () => {
  const doc = await readFile(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
  for (const code of ErrorCodeSchema.options) {
    expect(doc, code).toContain(`| \`${code}\` | ${STATUS_BY_CODE[code]} |`);
  }
});
