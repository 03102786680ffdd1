// Two API replicas on one (fake) cluster share the Tekton queue: the scheduler lease lets only one of them
// release queued runs, so the limits hold however the builds are spread over the replicas.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startApi, type TestApi } from '../helpers/api.ts';
import { cli } from '../helpers/cli.ts';
import { makeRepo } from '../helpers/git.ts';
import { startTektonStack, type TektonStack } from '../helpers/tekton.ts';

let s: TektonStack;
let other: TestApi;
beforeAll(async () => {
  s = await startTektonStack({ TOOLFORGE_MAX_BUILDS: '2', TOOLFORGE_MAX_BUILDS_PER_TOOL: '2' });
  other = await startApi(s.env);
}, 300_000);
afterAll(async () => {
  await other?.close();
  await s?.close();
});

const running = () =>
  s.kube
    .objects('pipelineruns', 'image-build')
    .filter((pr: any) => !pr.spec.status && !pr.status?.conditions?.some((c: any) => c.status !== 'Unknown'));

it('builds started through both replicas at once never run beyond the global limit', async () => {
  const tools = ['alpha', 'beta', 'gamma'];
  const envs = tools.flatMap((tool) =>
    [s.api, other].map((api) => ({
      TOOLFORGE_API_URL: api.url,
      TOOLFORGE_TOOL: tool,
      TOOLFORGE_TOKEN: api.token(tool),
    })),
  );
  const slow = makeRepo({ 'README.md': 'slow' }, { name: 'slow.git' });
  const started = await Promise.all(
    envs.map((env) => cli(['build', 'start', slow.url, '-D', '--json'], env)),
  );
  for (const r of started) expect(r.code, r.stderr).toBe(0);
  // Several scheduler ticks of both replicas.
  let most = 0;
  for (let i = 0; i < 30; i++) {
    most = Math.max(most, running().length);
    await new Promise((r) => setTimeout(r, 200));
  }
  expect(most).toBe(2);
  expect(
    s.kube
      .objects('pipelineruns', 'image-build')
      .filter((pr: any) => pr.spec.status === 'PipelineRunPending'),
  ).toHaveLength(4);
  const lease = s.kube.get(
    { group: 'coordination.k8s.io', plural: 'leases' },
    'image-build',
    'builds-api-scheduler',
  ) as any;
  expect(lease.spec.holderIdentity).toBeTruthy();
  // A cancelled run frees its slot: the holder releases the next in line.
  const [first] = running() as any[];
  const env = envs.find((e) => first.metadata.name.startsWith(`${e.TOOLFORGE_TOOL}-`)) as Record<
    string,
    string
  >;
  expect((await cli(['build', 'cancel', first.metadata.name, '-y'], env)).code).toBe(0);
  for (
    let i = 0;
    i < 50 &&
    s.kube.objects('pipelineruns', 'image-build').filter((pr: any) => pr.spec.status === 'PipelineRunPending')
      .length > 3;
    i++
  )
    await new Promise((r) => setTimeout(r, 200));
  expect(
    s.kube
      .objects('pipelineruns', 'image-build')
      .filter((pr: any) => pr.spec.status === 'PipelineRunPending'),
  ).toHaveLength(3);
  expect(running().length).toBeLessThanOrEqual(2);
}, 120_000);
