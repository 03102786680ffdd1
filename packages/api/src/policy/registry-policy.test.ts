import { describe, expect, it } from 'vitest';
import { policyFromConfigMap } from './configmap.ts';
import { DECISION_TABLE, HEX, TABLE_CONFIGMAP_DATA } from './decision-table.ts';
import { checkImage, parseImageReference, registriesFor } from './registry-policy.ts';

const policy = policyFromConfigMap(TABLE_CONFIGMAP_DATA);

describe('checkImage: the decision table', () => {
  it.each(DECISION_TABLE.map((r) => [JSON.stringify(r.image), r.namespace, r.why, r]))(
    '%s in %s (%s)',
    (_i, _n, _w, row) => {
      const d = checkImage(row.image, row.namespace, policy);
      expect(d.allowed).toBe(row.allowed);
      if (d.allowed) return;
      // Every denial names the image and what is allowed instead.
      expect(d.message).toContain(`Image ${JSON.stringify(row.image)} is not allowed: `);
      for (const r of registriesFor(row.namespace, policy)) expect(d.message).toContain(r);
      expect(d.message).toContain('or the curated catalogue');
      if (row.messageIncludes) expect(d.message).toContain(row.messageIncludes);
    },
  );

  it('covers both outcomes, the exception namespaces and every hostile family', () => {
    const images = DECISION_TABLE.map((r) => r.image);
    expect(DECISION_TABLE.filter((r) => r.allowed).length).toBeGreaterThan(10);
    expect(DECISION_TABLE.filter((r) => !r.allowed).length).toBeGreaterThan(40);
    for (const image of [
      'nginx',
      'library/nginx',
      'docker.io/nginx',
      '',
      ' ',
      'localhost:5000/x',
      'user@host/x',
    ])
      expect(images).toContain(image);
    expect(images).toContain(`@sha256:${HEX}`);
    expect(images).toContain(`sha256:${HEX}`);
  });

  it('lists the namespace exceptions of that namespace only', () => {
    expect(registriesFor('tool-b', policy)).toContain('quay.io');
    expect(registriesFor('tool-a', policy)).not.toContain('quay.io');
    expect(registriesFor('tool-hub', policy)).toEqual([
      ...policy.allowedRegistries,
      'docker.io',
      'localhost:5000',
    ]);
  });

  it('says when only the catalogue is left', () => {
    const none = { allowedRegistries: [], curated: [], namespaceAllowlist: {} };
    const d = checkImage('quay.io/x', 'tool-a', none);
    expect(d.allowed ? '' : d.message).toContain('may use images from the curated catalogue only');
  });
});

describe('parseImageReference', () => {
  it('splits host, path, tag and digest', () => {
    expect(parseImageReference(`tools-harbor.wmcloud.org/tool-x/img:latest@sha256:${HEX}`)).toEqual({
      host: 'tools-harbor.wmcloud.org',
      path: 'tool-x/img',
      tag: 'latest',
      digest: `sha256:${HEX}`,
      explicitHost: true,
    });
    expect(parseImageReference('localhost:5000/a/b')).toEqual({
      host: 'localhost:5000',
      path: 'a/b',
      explicitHost: true,
    });
  });

  it('normalizes implicit Docker Hub names like docker does', () => {
    expect(parseImageReference('nginx:1')).toEqual({
      host: 'docker.io',
      path: 'library/nginx',
      tag: '1',
      explicitHost: false,
    });
    expect(parseImageReference('docker.io/nginx')).toMatchObject({
      host: 'docker.io',
      path: 'library/nginx',
      explicitHost: true,
    });
    expect(parseImageReference('bitnami/redis')).toMatchObject({ host: 'docker.io', path: 'bitnami/redis' });
    expect(parseImageReference('localhost/x')).toMatchObject({ host: 'localhost', path: 'x' });
  });

  it('explains what is wrong', () => {
    expect(parseImageReference('tools-harbor.wmcloud.org/a/../b')).toEqual({
      error: 'its repository path has an empty, "." or ".." component',
    });
    expect(parseImageReference('a@sha256:12')).toHaveProperty(
      'error',
      expect.stringContaining('digest is malformed'),
    );
  });
});
