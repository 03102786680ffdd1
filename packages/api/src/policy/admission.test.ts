import { describe, expect, it } from 'vitest';
import { type AdmissionResult, reviewRegistryPolicy } from './admission.ts';
import { policyFromConfigMap } from './configmap.ts';
import { DECISION_TABLE, TABLE_CONFIGMAP_DATA } from './decision-table.ts';
import { COVERED_KINDS, review } from './review-fixtures.ts';

const policy = policyFromConfigMap(TABLE_CONFIGMAP_DATA);
const load = () => policy;
const OK = 'tools-harbor.wmcloud.org/tool-a/web:latest';

const response = (r: AdmissionResult) => {
  if (r.status !== 200) throw new Error(`expected a review, got ${JSON.stringify(r)}`);
  return r.body.response;
};
const badRequest = (r: AdmissionResult) => (r.status === 400 ? r.body.error : `status ${r.status}`);

describe('reviewRegistryPolicy', () => {
  it.each(COVERED_KINDS)('%s: allows allowed images and echoes the uid', async (kind) => {
    const r = await reviewRegistryPolicy(review(kind, { containers: [OK, OK], initContainers: [OK] }), load);
    expect(r).toEqual({
      status: 200,
      body: {
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        response: { uid: 'b6a1f1e2-0000-4000-8000-000000000001', allowed: true },
      },
    });
  });

  it.each(COVERED_KINDS)('%s: denies one bad container next to a good one, naming it', async (kind) => {
    const res = response(await reviewRegistryPolicy(review(kind, { containers: [OK, 'nginx'] }), load));
    expect(res.allowed).toBe(false);
    expect(res.status?.code).toBe(403);
    expect(res.status?.reason).toBe('Forbidden');
    const k = kind.split('/')[1];
    expect(res.status?.message).toBe(
      'The following container images did not match any of the allowed registries ([tools-harbor.wmcloud.org, ' +
        'docker-registry.tools.wmflabs.org, docker-registry.svc.toolforge.org]) or the curated catalogue: ' +
        `[Kind=${k}, Namespace=tool-a, Name=web, Image="nginx": it is an implicit Docker Hub image (docker.io/library/nginx)]`,
    );
  });

  it.each([
    ['init containers', { containers: [OK], initContainers: ['quay.io/x/init:1'] }],
    ['ephemeral containers', { containers: [OK], ephemeralContainers: ['busybox'] }],
    ['image volumes', { containers: [OK], volumes: ['quay.io/x/data:1'] }],
    ['an absent image', { containers: [OK], volumes: [undefined as unknown as string] }],
  ])('checks %s', async (_what, images) => {
    expect(response(await reviewRegistryPolicy(review('/Pod', images), load)).allowed).toBe(false);
  });

  it('lists every denied image, and checks UPDATE like CREATE', async () => {
    const images = { containers: ['nginx', OK], initContainers: ['quay.io/a/b'], ephemeralContainers: [''] };
    const res = response(
      await reviewRegistryPolicy(review('batch/CronJob', images, { operation: 'UPDATE' }), load),
    );
    expect(res.status?.message).toContain('Image="nginx"');
    expect(res.status?.message).toContain('Image="quay.io/a/b": registry "quay.io" is not allowed');
    expect(res.status?.message).toContain('Image="": it is not a valid image reference: it is empty');
    expect(res.status?.message).not.toContain(OK);
  });

  it('applies a namespace exception in that namespace only', async () => {
    const images = { containers: ['quay.io/foo/bar:1'] };
    expect(
      response(await reviewRegistryPolicy(review('apps/Deployment', images, { namespace: 'tool-b' }), load))
        .allowed,
    ).toBe(true);
    expect(response(await reviewRegistryPolicy(review('apps/Deployment', images), load)).allowed).toBe(false);
  });

  it('decides every decision-table row as checkImage does', async () => {
    for (const row of DECISION_TABLE) {
      const r = await reviewRegistryPolicy(
        review('/Pod', { containers: [row.image] }, { namespace: row.namespace }),
        load,
      );
      expect(response(r).allowed, JSON.stringify(row)).toBe(row.allowed);
    }
  });

  it.each(['DELETE', 'CONNECT'])('allows %s without looking', async (operation) => {
    const r = await reviewRegistryPolicy(review('/Pod', { containers: ['nginx'] }, { operation }), () => {
      throw new Error('not needed');
    });
    expect(response(r)).toEqual({ uid: 'b6a1f1e2-0000-4000-8000-000000000001', allowed: true });
  });

  it('takes the namespace from the object when the request has none', async () => {
    const body = review('/Pod', { containers: ['quay.io/foo/bar:1'] }, { namespace: 'tool-b' });
    (body.request as { namespace?: string }).namespace = undefined;
    expect(response(await reviewRegistryPolicy(body, load)).allowed).toBe(true);
  });

  it('denies, explaining, when the policy cannot be read', async () => {
    const r = await reviewRegistryPolicy(review('/Pod', { containers: [OK] }), () =>
      Promise.reject(new Error('configmaps "registry-policy" not found')),
    );
    expect(response(r)).toMatchObject({
      allowed: false,
      status: { code: 500, message: expect.stringContaining('not found') },
    });
  });

  it('rejects malformed reviews with a 400 and a reason', async () => {
    const valid = review('apps/Deployment', { containers: [OK] });
    const cases: [unknown, string][] = [
      [null, '(root)'],
      ['{}', '(root)'],
      [{ ...valid, apiVersion: 'admission.k8s.io/v1beta1' }, 'apiVersion'],
      [{ ...valid, request: undefined }, 'request'],
      [{ ...valid, request: { ...valid.request, uid: '' } }, 'request.uid'],
      [{ ...valid, request: { ...valid.request, operation: 'PATCH' } }, 'request.operation'],
      [
        { ...valid, request: { ...valid.request, namespace: '', object: { spec: {} } } },
        'namespace is missing',
      ],
      [{ ...valid, request: { ...valid.request, object: { spec: {} } } }, 'no valid spec.template.spec'],
      [
        {
          ...valid,
          request: {
            ...valid.request,
            object: { spec: { template: { spec: { containers: [{ image: 7 }] } } } },
          },
        },
        'no valid',
      ],
      [
        { ...valid, request: { ...valid.request, kind: { group: 'apps', version: 'v1', kind: 'Other' } } },
        'apps/Other is not covered',
      ],
    ];
    for (const [body, reason] of cases) {
      const r = await reviewRegistryPolicy(body, load);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(badRequest(r)).toContain(reason);
    }
  });
});
