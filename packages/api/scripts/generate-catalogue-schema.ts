// Writes catalogue/catalogue.schema.json (JSON Schema of the image catalogue, version 1) from the zod
// schema, for editors and other readers of the catalogue. A test fails when the committed file drifts.
import { writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { CatalogueSchema } from '../src/catalogue/schema.ts';

export const CATALOGUE_SCHEMA_FILE = new URL('../../../catalogue/catalogue.schema.json', import.meta.url);

export function renderCatalogueSchema(): string {
  const schema = z.toJSONSchema(CatalogueSchema, { io: 'input', target: 'draft-2020-12' });
  return `${JSON.stringify({ $id: 'https://toolforge.org/schemas/catalogue-v1.json', ...schema }, null, 2)}\n`;
}

if (import.meta.main) {
  await writeFile(CATALOGUE_SCHEMA_FILE, renderCatalogueSchema());
  console.log(`wrote ${CATALOGUE_SCHEMA_FILE.pathname}`);
}
