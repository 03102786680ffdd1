// Writes packages/api/openapi.json from the contract (the same document GET /openapi.json serves).
// A test fails when the committed file drifts from what this script would write.
import { writeFile } from 'node:fs/promises';
import { openApiDocument } from '../src/app.ts';

export const OPENAPI_FILE = new URL('../openapi.json', import.meta.url);

export function renderOpenApi(): string {
  return `${JSON.stringify(openApiDocument(), null, 2)}\n`;
}

if (import.meta.main) {
  await writeFile(OPENAPI_FILE, renderOpenApi());
  console.log(`wrote ${OPENAPI_FILE.pathname}`);
}
