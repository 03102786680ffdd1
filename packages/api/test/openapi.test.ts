import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { sharedFile } from '../../../test/helpers/shared.ts';
import { OPENAPI_FILE, renderOpenApi } from '../scripts/generate-openapi.ts';
import { supersetProblems } from './openapi-compat.ts';

type Json = Record<string, any>;

const committed = async () => JSON.parse(await readFile(OPENAPI_FILE, 'utf8')) as Json;

describe('openapi.json', () => {
  it('is what the contract generates (run `npm run openapi` after changing the contract)', async () => {
    expect(await readFile(OPENAPI_FILE, 'utf8')).toBe(renderOpenApi());
  });

  it('is OpenAPI 3.1 with every operation documented once and every $ref resolvable', async () => {
    const doc = await committed();
    expect(doc.openapi).toBe('3.1.0');
    const ids = new Set<string>();
    for (const item of Object.values(doc.paths as Json)) {
      for (const op of Object.values(item as Json)) {
        expect(ids.has(op.operationId), op.operationId).toBe(false);
        ids.add(op.operationId);
      }
    }
    for (const m of JSON.stringify(doc).matchAll(/"#\/components\/schemas\/([^"]+)"/g)) {
      expect(doc.components.schemas, m[1]).toHaveProperty(m[1] as string);
    }
  });
});

const referenceFile = sharedFile('reference/toolforge-builds-api.openapi.yaml');

describe.skipIf(!referenceFile)('compatibility with the reference builds API 2.4.0', () => {
  const reference = async () => parse(await readFile(referenceFile as string, 'utf8')) as Json;

  it('ours is a superset: every path, method, parameter, response, property, type and enum value', async () => {
    expect(supersetProblems(await reference(), await committed())).toEqual([]);
  });

  it('the check fails when a reference property is removed', async () => {
    const ours = await committed();
    delete ours.components.schemas.Build.properties.destination_image;
    expect(supersetProblems(await reference(), ours)).toContain(
      'GET /v1/tool/{toolname}/builds/latest 200.build.destination_image: property missing',
    );
  });

  it('the check fails when a property changes type', async () => {
    const ours = await committed();
    ours.components.schemas.BuildParameters.properties.use_latest_versions = { type: 'string' };
    const problems = supersetProblems(await reference(), ours);
    expect(
      problems.some((p) => p.includes('use_latest_versions: type "boolean" in the reference, "string"')),
    ).toBe(true);
  });

  it('the check fails when an enum value is dropped', async () => {
    const ours = await committed();
    const status = ours.components.schemas.BuildStatus;
    status.enum = status.enum.filter((v: string) => v !== 'BUILD_TIMEOUT');
    expect(
      supersetProblems(await reference(), ours).some((p) => p.endsWith('enum value "BUILD_TIMEOUT" missing')),
    ).toBe(true);
  });

  it('the check fails when an operation or a response status is missing', async () => {
    const ours = await committed();
    delete ours.paths['/v1/tool/{toolname}/clean'].post;
    delete ours.paths['/v1/tool/{toolname}/builds/{id}/cancel'].put.responses['409'];
    const problems = supersetProblems(await reference(), ours);
    expect(problems).toContain('POST /v1/tool/{toolname}/clean: operation missing');
    expect(problems).toContain('PUT /v1/tool/{toolname}/builds/{id}/cancel: response 409 missing');
  });
});
