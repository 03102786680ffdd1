import { describe, expect, it, vi } from 'vitest';
import { policyFromConfigMap, policyProblems } from './configmap.ts';
import { TABLE_CONFIGMAP_DATA } from './decision-table.ts';
import { cachedPolicyLoader } from './source.ts';

describe('policyFromConfigMap', () => {
  it('splits, trims and drops empty entries and comments', () => {
    expect(policyFromConfigMap(TABLE_CONFIGMAP_DATA)).toEqual({
      allowedRegistries: [
        'tools-harbor.wmcloud.org',
        'docker-registry.tools.wmflabs.org',
        'docker-registry.svc.toolforge.org',
      ],
      curated: [
        'quay.io/wikimedia/curated-tool:1.0',
        expect.stringMatching(/^ghcr\.io\/wikimedia\/pinned:2\.0@sha256:[a-f0-9]{64}$/),
      ],
      namespaceAllowlist: { 'tool-b': ['quay.io'], 'tool-hub': ['docker.io', 'localhost:5000'] },
    });
    expect(policyFromConfigMap({ allowedRegistries: ' , a.org,,\n' })).toEqual({
      allowedRegistries: ['a.org'],
      curated: [],
      namespaceAllowlist: {},
    });
  });

  it('needs allowedRegistries (an empty list is allowed)', () => {
    expect(() => policyFromConfigMap(undefined)).toThrow(
      'registry policy ConfigMap has no "allowedRegistries" key',
    );
    expect(policyFromConfigMap({ allowedRegistries: '' }).allowedRegistries).toEqual([]);
  });

  it('keeps prototype-looking namespaces as plain data', () => {
    const policy = policyFromConfigMap({ allowedRegistries: 'a.org', 'namespace.__proto__': 'quay.io' });
    expect(Object.getPrototypeOf(policy.namespaceAllowlist)).toBe(Object.prototype);
    expect(Object.hasOwn(policy.namespaceAllowlist, '__proto__')).toBe(true);
  });
});

describe('policyProblems', () => {
  it('is empty for a well-formed ConfigMap', () => {
    expect(policyProblems(TABLE_CONFIGMAP_DATA)).toEqual([]);
  });

  it('reports what an operator got wrong', () => {
    expect(
      policyProblems({
        allowedRegistries: 'quay.io/foo, https://a.org, ok.org',
        curated: 'Nginx\nquay.io/ok:1',
        'namespace.Tool_A': 'quay.io',
        'namespace.tool-c': 'a b',
        allowedRegistry: 'typo.org',
      }),
    ).toEqual([
      'allowedRegistries: "quay.io/foo" is not host[:port]',
      'allowedRegistries: "https://a.org" is not host[:port]',
      'namespace.Tool_A: "Tool_A" is not a namespace name',
      'namespace.tool-c: "a b" is not host[:port]',
      'curated: "Nginx" its repository path is not all lower case',
      'unknown key "allowedRegistry" (ignored)',
    ]);
    expect(policyProblems({})).toEqual(['registry policy ConfigMap has no "allowedRegistries" key']);
  });
});

describe('cachedPolicyLoader', () => {
  it('reads once per ttl, shares a read in flight, and does not cache failures', async () => {
    let t = 0;
    const read = vi
      .fn()
      .mockResolvedValueOnce({ allowedRegistries: 'a.org' })
      .mockRejectedValueOnce(new Error('apiserver down'))
      .mockResolvedValueOnce({ allowedRegistries: 'b.org' });
    const load = cachedPolicyLoader(read, { ttlMs: 1000, now: () => t });
    const [p1, p2] = await Promise.all([load(), load()]);
    expect(p1).toBe(p2);
    expect(p1.allowedRegistries).toEqual(['a.org']);
    t = 999;
    await load();
    expect(read).toHaveBeenCalledTimes(1);
    t = 1000;
    await expect(load()).rejects.toThrow('apiserver down');
    expect((await load()).allowedRegistries).toEqual(['b.org']);
    expect(read).toHaveBeenCalledTimes(3);
  });
});
