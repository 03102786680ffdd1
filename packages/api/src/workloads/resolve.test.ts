import { describe, expect, it } from 'vitest';
import { parseCatalogue } from '../catalogue/parse.ts';
import type { Catalogue } from '../catalogue/schema.ts';
import { AppError } from '../errors.ts';
import type { ImageRegistry, StoredImage } from '../registry/port.ts';
import { resolveImage } from './resolve.ts';

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;
const stored: Record<string, StoredImage[]> = {
  alpha: [
    { repository: 'tool-alpha', digest: A, tags: ['latest'], sizeBytes: 1 },
    { repository: 'tool-alpha', digest: B, tags: [], sizeBytes: 1 },
  ],
};
// Only what resolution reads: the host, repository names and the list of a tool's images.
const registry = {
  host: 'toolforge.local',
  repository: (tool: string, image: string) => `tool-${tool}/${image}`,
  list: async (tool: string) => stored[tool] ?? [],
} as unknown as ImageRegistry;

const parsed = parseCatalogue(
  `version: 1
builders: {default: {builder: b:1, runner: r:1}}
images:
  python3.11:
    state: stable
    aliases: [tf-python311]
    variants:
      jobs-framework: {image: "reg.example/py-base@${A}"}
      webservice: {image: "reg.example/py-web:1", extra: {wstype: python}}
  python3.9:
    state: deprecated
    valid_until: "2026-06-30"
    aliases: []
    variants:
      jobs-framework: {image: "reg.example/py39:1"}
`,
);
if (!parsed.ok) throw new Error(parsed.problems.join('\n'));
const catalogue: Catalogue = parsed.catalogue;

const resolve = (image: string, kind: 'job' | 'webservice' = 'job', now = new Date('2026-01-01')) =>
  resolveImage(image, kind, { registry, catalogue, now });
const code = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (e) => (e instanceof AppError ? e.code : String(e)),
  );

describe('resolving the image a workload names', () => {
  it('pins a built image to the digest its tag points at now, with or without the registry host', async () => {
    for (const name of [
      'tool-alpha/tool-alpha:latest',
      'toolforge.local/tool-alpha/tool-alpha',
      ' tool-alpha/tool-alpha ',
    ]) {
      expect(await resolve(name)).toMatchObject({
        ref: `toolforge.local/tool-alpha/tool-alpha@${A}`,
        digest: A,
        type: 'buildservice',
      });
    }
  });

  it('accepts a digest pin to any stored build, also one no tag points at any more', async () => {
    expect((await resolve(`tool-alpha/tool-alpha@${B}`)).digest).toBe(B);
    expect((await resolve(`tool-alpha/tool-alpha:latest@${B}`)).digest).toBe(B);
  });

  it('answers No such image for unknown tools, repositories, tags and digests', async () => {
    for (const name of [
      'tool-beta/tool-beta:latest',
      'tool-alpha/other:latest',
      'tool-alpha/tool-alpha:v2',
      `tool-alpha/tool-alpha@sha256:${'c'.repeat(64)}`,
      'python3',
      'reg.example/py-web:1',
    ]) {
      expect(await code(resolve(name)), name).toBe('IMAGE_NOT_FOUND');
    }
  });

  it('picks the curated variant for the workload kind, by name or alias', async () => {
    expect(await resolve('python3.11')).toMatchObject({
      ref: `reg.example/py-base@${A}`,
      digest: A,
      type: 'standard',
      curated: { name: 'python3.11' },
    });
    expect((await resolve('tf-python311', 'webservice')).ref).toBe('reg.example/py-web:1');
  });

  it('refuses a deprecated curated image from its valid-until date on', async () => {
    expect((await resolve('python3.9', 'job', new Date('2026-06-29T23:59:59Z'))).ref).toBe(
      'reg.example/py39:1',
    );
    const err = await resolve('python3.9', 'job', new Date('2026-06-30T00:00:00Z')).catch((e) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err.message).toBe('The image python3.9 is deprecated and was retired on 2026-06-30.');
  });
});
