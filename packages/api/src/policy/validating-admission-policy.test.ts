import { describe, expect, it } from 'vitest';
import { reviewRegistryPolicy } from './admission.ts';
import { policyFromConfigMap } from './configmap.ts';
import { DECISION_TABLE, HEX, TABLE_CONFIGMAP_DATA } from './decision-table.ts';
import { BARE_DIGEST, EXPLICIT_HOST, FULL_WITH_HOST, FULL_WITHOUT_HOST } from './grammar.ts';
import { checkImage, registriesFor } from './registry-policy.ts';
import { COVERED_KINDS, review, type SpecImages } from './review-fixtures.ts';
import {
  allowedOf,
  bindingsOf,
  compileVap,
  loadVap,
  loadYaml,
  type Outcome,
  type Vap,
} from './vap-eval.test-util.ts';

const vap = loadVap();
const evaluate = compileVap(vap);
const policy = policyFromConfigMap(TABLE_CONFIGMAP_DATA);
const cel = (kind: string, images: SpecImages, namespace = 'tool-a', data = TABLE_CONFIGMAP_DATA): Outcome =>
  evaluate(bindingsOf(review(kind, images, { namespace }), data));
const celImage = (image: string, namespace: string, data = TABLE_CONFIGMAP_DATA) =>
  cel('/Pod', { containers: [image] }, namespace, data);

/** More inputs than the table: each row's image, bent a little, in namespaces with and without exceptions. */
function variants(image: string): string[] {
  return [
    image.toUpperCase(),
    `${image}/x`,
    `x${image}`,
    image.slice(1),
    image.slice(0, -1),
    `${image}:v1`,
    `${image}@sha256:${HEX}`,
    image.replace('.', '_'),
    image.replace('/', '//'),
    image.replace(':', '::'),
    `localhost/${image}`,
    ...Array.from({ length: 8 }, (_, k) => fuzz(image, k * 7919 + image.length)),
  ];
}

/** Seeded random inserts and deletes of the grammar's special characters. */
function fuzz(image: string, seed: number): string {
  let s = seed;
  const rnd = (n: number) => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s % n;
  };
  const bits = ['/', '.', ':', '@', '-', '_', 'A', 'a', '0', ' ', 'sha256:', 'localhost', 'quay.io/', '..'];
  let out = image;
  for (let k = 0, n = 1 + rnd(3); k < n; k++) {
    const at = rnd(out.length + 1);
    out = rnd(2)
      ? out.slice(0, at) + bits[rnd(bits.length)] + out.slice(at)
      : out.slice(0, at) + out.slice(at + 1);
  }
  return out;
}

describe('the ValidatingAdmissionPolicy (CEL, via @bufbuild/cel)', () => {
  it('embeds the grammar of grammar.ts verbatim', () => {
    const text = JSON.stringify(vap.spec);
    for (const re of [FULL_WITH_HOST, FULL_WITHOUT_HOST, EXPLICIT_HOST, BARE_DIGEST])
      expect(text).toContain(`'${re}'`);
  });

  it.each(DECISION_TABLE.map((r) => [JSON.stringify(r.image), r.namespace, r]))(
    '%s in %s: as checkImage',
    (_i, _n, row) => {
      const outcome = celImage(row.image, row.namespace);
      expect(outcome).not.toHaveProperty('error');
      expect(allowedOf(outcome)).toBe(checkImage(row.image, row.namespace, policy).allowed);
      expect(allowedOf(outcome)).toBe(row.allowed);
      if ('message' in outcome) {
        expect(outcome.message).toContain(`Image="${row.image}"`);
        expect(outcome.message).toContain(`Namespace=${row.namespace}, Name=web`);
        expect(outcome.message).toContain(
          `allowed registries ([${registriesFor(row.namespace, policy).join(', ')}])`,
        );
      }
    },
  );

  it('agrees with checkImage on variants of every row', () => {
    const disagreements: string[] = [];
    for (const image of new Set(DECISION_TABLE.flatMap((r) => variants(r.image)))) {
      for (const ns of ['tool-a', 'tool-b', 'tool-hub']) {
        if (allowedOf(celImage(image, ns)) !== checkImage(image, ns, policy).allowed)
          disagreements.push(`${JSON.stringify(image)} in ${ns}`);
      }
    }
    expect(disagreements).toEqual([]);
  });

  it.each(COVERED_KINDS)('%s: finds every image where the webhook does', async (kind) => {
    const cases: SpecImages[] = [
      { containers: ['tools-harbor.wmcloud.org/a/b', 'docker-registry.tools.wmflabs.org/c'] },
      { containers: ['tools-harbor.wmcloud.org/a/b', 'nginx'] },
      { containers: ['tools-harbor.wmcloud.org/a/b'], initContainers: ['quay.io/x/y'] },
      { containers: ['tools-harbor.wmcloud.org/a/b'], ephemeralContainers: ['busybox'] },
      { containers: ['tools-harbor.wmcloud.org/a/b'], volumes: ['quay.io/x/data:1'] },
      { containers: ['tools-harbor.wmcloud.org/a/b'], volumes: ['tools-harbor.wmcloud.org/x/data:1'] },
    ];
    for (const images of cases) {
      const webhook = await reviewRegistryPolicy(review(kind, images), () => policy);
      const expected = webhook.status === 200 && webhook.body.response.allowed;
      expect(allowedOf(cel(kind, images)), JSON.stringify(images)).toBe(expected);
    }
    expect(allowedOf(cel(kind, { containers: ['quay.io/x/y'] }, 'tool-b'))).toBe(true);
  });

  it('lists every denied image in one message', () => {
    const outcome = cel('batch/CronJob', {
      containers: ['nginx', 'tools-harbor.wmcloud.org/a/b'],
      initContainers: ['quay.io/a/b'],
    });
    expect(outcome).toEqual({
      allowed: false,
      message:
        'The following container images did not match any of the allowed registries ([tools-harbor.wmcloud.org, ' +
        'docker-registry.tools.wmflabs.org, docker-registry.svc.toolforge.org]) or the curated catalogue: ' +
        '[Kind=CronJob, Namespace=tool-a, Name=web, Image="nginx": it is an implicit Docker Hub image], ' +
        '[Kind=CronJob, Namespace=tool-a, Name=web, Image="quay.io/a/b": registry "quay.io" is not allowed in namespace "tool-a"]',
    });
  });

  it('fails (so denies) without allowedRegistries, as policyFromConfigMap throws', () => {
    expect(celImage('tools-harbor.wmcloud.org/a/b', 'tool-a', { curated: '' })).toHaveProperty('error');
    expect(() => policyFromConfigMap({ curated: '' })).toThrow(/allowedRegistries/);
  });

  it('decides as checkImage with the deployed ConfigMap', () => {
    const data = loadYaml('params.yaml')[0]?.data as Record<string, string>;
    const deployed = policyFromConfigMap(data);
    for (const image of [
      'tools-harbor.wmcloud.org/tool-a/web:latest',
      'docker-registry.svc.toolforge.org/x',
      'nginx',
      'quay.io/a/b',
    ]) {
      expect(allowedOf(celImage(image, 'tool-a', data))).toBe(checkImage(image, 'tool-a', deployed).allowed);
    }
  });
});

/** Deliberately broken copies of the policy: each must disagree with the decision table somewhere. */
const MUTATIONS: [string, (expr: string) => string][] = [
  [
    'registry as a prefix',
    (e) =>
      e.replace(
        'in variables.registries))',
        'in variables.registries || variables.registries.exists(r, i.startsWith(r))))',
      ),
  ],
  [
    'no bare-digest rule',
    (e) => e.replace("i.matches('^(?:@|sha256:|sha384:|sha512:|[a-f0-9]{64}$)') ||", ''),
  ],
  ['upper case paths', (e) => e.replaceAll('/[a-z0-9]+(?:', '/[a-zA-Z0-9]+(?:')],
  [
    'exceptions of every namespace',
    (e) => e.replaceAll("'namespace.' + request.namespace", "'namespace.tool-b'"),
  ],
  ['curated by prefix', (e) => e.replace("!c.contains('@') && i.startsWith(c + '@')", 'i.startsWith(c)')],
  ['no init containers', (e) => e.replace('has(variables.podSpec.initContainers)', 'false')],
  ['no localhost rule', (e) => e.replaceAll('|localhost)/', ')/')],
  ['unanchored grammar', (e) => e.replaceAll("{128}))?$')", "{128}))?')")],
];

describe('the CEL test can fail', () => {
  const mutate = (f: (expr: string) => string): Vap => {
    const spec = {
      variables: vap.spec.variables.map((v) => ({ ...v, expression: f(v.expression) })),
      validations: vap.spec.validations.map((v) => ({ ...v, expression: f(v.expression) })),
    };
    expect(JSON.stringify(spec)).not.toBe(JSON.stringify(vap.spec));
    return { spec };
  };

  it.each(MUTATIONS)('%s', (_name, f) => {
    const broken = compileVap(mutate(f));
    // Each row's image as a container, and as an init container of a Deployment.
    const disagree = DECISION_TABLE.filter((r) =>
      [
        review('/Pod', { containers: [r.image] }, { namespace: r.namespace }),
        review('apps/Deployment', { containers: [], initContainers: [r.image] }, { namespace: r.namespace }),
      ].some((rv) => allowedOf(broken(bindingsOf(rv, TABLE_CONFIGMAP_DATA))) !== r.allowed),
    );
    expect(disagree.length).toBeGreaterThan(0);
  });
});
