// Launching built images on the embedded engine, end to end: build the Node.js sample app, run it as a
// webservice (HTTP 200 from the URL status shows, restart, stop), run Procfile jobs and a scheduled job,
// and the registry policy and clean around them. Everything real: builds, images, the sandbox.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type TestApi } from '../helpers/api.ts';
import { cli } from '../helpers/cli.ts';
import { makeRepo } from '../helpers/git.ts';
import { APPS_DIR, HARNESS_BUILDER } from '../helpers/paths.ts';

const PROCFILE = [
  'web: node server.js',
  "greet: node -e \"console.log('hello from a Procfile job', process.env.NO_HOME ? '(no home)' : '')\"",
  '',
].join('\n');

let api: TestApi;
let repo: ReturnType<typeof makeRepo>;
let env: Record<string, string>;
const as = (tool: string) => ({
  TOOLFORGE_API_URL: api.url,
  TOOLFORGE_TOOL: tool,
  TOOLFORGE_TOKEN: api.token(tool),
});
const json = async (args: string[], e = env) => {
  const r = await cli([...args, '--json'], e);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
};
const until = async <T>(f: () => Promise<T | undefined>, ms: number, what: string): Promise<T> => {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    const v = await f();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
};
const get = (url: string) =>
  fetch(url).then(
    async (r) => ({ status: r.status, body: await r.text() }),
    () => undefined,
  );

beforeAll(async () => {
  api = await startApi();
  env = as('alpha');
  repo = makeRepo(path.join(APPS_DIR, 'nodejs-app'));
  repo.commitFiles({ Procfile: PROCFILE });
  const built = await cli(['build', 'start', repo.url], env);
  expect(built.code, built.stderr).toBe(0);
}, 300_000);
afterAll(() => api?.close());

describe('a webservice from a built image', () => {
  it('starts, answers HTTP 200 at the URL status shows, restarts, and stops', async () => {
    const started = await cli(
      ['webservice', 'buildservice', 'start', '--buildservice-image', 'tool-alpha/tool-alpha:latest'],
      env,
    );
    expect(started.code, started.stderr).toBe(0);
    const { webservice } = await json(['webservice', 'status']);
    expect(webservice).toMatchObject({
      type: 'buildservice',
      mount: 'none',
      image: 'tool-alpha/tool-alpha:latest',
    });
    expect(webservice.image_info.ref).toMatch(/^toolforge.local\/tool-alpha\/tool-alpha@sha256:/);
    const url = webservice.url as string;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const ok = await until(
      async () => ((await get(url))?.status === 200 ? get(url) : undefined),
      30_000,
      'the webservice',
    );
    expect(ok?.body).toContain('Hello from the Toolforge Node.js sample app');
    expect((await cli(['webservice', 'status'], env)).stdout).toContain(
      `Your webservice of type buildservice is running at ${url}`,
    );

    // clean keeps what the webservice runs.
    const clean = await json(['build', 'clean', '-y']);
    expect(JSON.stringify(clean)).toContain('used by a running webservice or job');

    const restarted = await json(['webservice', 'restart']);
    expect(restarted.webservice.url).toBe(url);
    expect(
      await until(async () => ((await get(url))?.status === 200 ? true : undefined), 30_000, 'a restart'),
    ).toBe(true);
    const logs = await cli(['webservice', 'logs'], env);
    expect(logs.stdout).toMatch(/--- started \(run 2\) ---/);

    // After a new build, restart runs what :latest means now, at the same URL.
    const before = restarted.webservice.image_info.digest as string;
    repo.commitFiles({ 'NEW.txt': 'a second build\n' });
    expect((await cli(['build', 'start', repo.url], env)).code).toBe(0);
    const renewed = await cli(['webservice', 'restart'], env);
    expect(renewed.code, renewed.stderr).toBe(0);
    expect(renewed.stderr + renewed.stdout).toContain(`(was ${before})`);
    const after = (await json(['webservice', 'status'])).webservice;
    expect(after.image_info.digest).toMatch(/^sha256:/);
    expect(after.image_info.digest).not.toBe(before);
    expect(after.url).toBe(url);
    expect(
      await until(async () => ((await get(url))?.status === 200 ? true : undefined), 30_000, 'the new build'),
    ).toBe(true);

    expect((await cli(['webservice', 'stop'], env)).code).toBe(0);
    await until(async () => ((await get(url)) === undefined ? true : undefined), 10_000, 'the stop');
    const gone = await cli(['webservice', 'status'], env);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('Your webservice is not running.');
  });
});

describe('jobs from a built image', () => {
  it('a Procfile process name and a shell line run to completion; their logs are kept', async () => {
    for (const [name, cmd] of [
      ['hello', 'greet'],
      ['sum', 'node -e "console.log(2 + 3)"'],
    ]) {
      const r = await cli(
        [
          'jobs',
          'run',
          name as string,
          '--image',
          'tool-alpha/tool-alpha:latest',
          '--command',
          cmd as string,
        ],
        env,
      );
      expect(r.code, r.stderr).toBe(0);
    }
    const done = (name: string) =>
      until(
        async () => {
          const { job } = await json(['jobs', 'show', name]);
          return job.status.state === 'succeeded' || job.status.state === 'failed' ? job : undefined;
        },
        60_000,
        name,
      );
    expect((await done('hello')).status_short).toBe('Completed');
    expect((await done('sum')).status.last_run.exit_code).toBe(0);
    expect((await cli(['jobs', 'logs', 'hello'], env)).stdout).toContain(
      'hello from a Procfile job (no home)',
    );
    expect((await cli(['jobs', 'logs', 'sum'], env)).stdout).toMatch(/ 5\n/);
    const list = await cli(['jobs', 'list'], env);
    expect(list.stdout).toMatch(/hello\s+one-off\s+Completed/);
    // Another tool sees none of it.
    expect((await cli(['jobs', 'list'], as('beta'))).stdout).toContain('No jobs found');
    expect((await cli(['jobs', 'show', 'hello'], as('beta'))).code).toBe(1);
  });

  it('a scheduled job runs at its time and records its last run', async () => {
    const r = await cli(
      [
        'jobs',
        'run',
        'tick',
        '--image',
        'tool-alpha/tool-alpha:latest',
        '--command',
        'greet',
        '--schedule',
        '* * * * *',
      ],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    const { job } = await json(['jobs', 'show', 'tick']);
    expect(job).toMatchObject({ schedule: '* * * * *', status: { state: 'scheduled' } });
    expect(job.status.next_run).toBeDefined();
    const ran = await until(
      async () => {
        const { job: j } = await json(['jobs', 'show', 'tick']);
        return j.status.last_run?.ended_at ? j : undefined;
      },
      75_000,
      'the scheduled run',
    );
    expect(ran.status.last_run.exit_code).toBe(0);
    expect((await cli(['jobs', 'logs', 'tick'], env)).stdout).toContain('hello from a Procfile job');
    expect((await cli(['jobs', 'delete', 'tick'], env)).code).toBe(0);
  }, 120_000);
});

describe('bad input', () => {
  it.each([
    [
      ['webservice', 'buildservice', 'start', '--buildservice-image', 'tool-alpha/nope:latest'],
      /No such image 'tool-alpha\/nope:latest'/,
    ],
    [
      ['jobs', 'run', 'x', '--image', 'nginx', '--command', 'true'],
      /No such image 'nginx'\. Image "nginx" is not allowed: it is an implicit Docker Hub image.*may use images from toolforge\.local/,
    ],
    [
      [
        'webservice',
        'buildservice',
        'start',
        '--buildservice-image',
        'toolforge.local.evil.com/tool-alpha/x',
      ],
      /No such image .*registry "toolforge\.local\.evil\.com" is not allowed.*may use images from toolforge\.local/,
    ],
    [['jobs', 'run', 'Bad_Name', '--image', 'tool-alpha/tool-alpha:latest', '--command', 'true'], /name/],
    [
      [
        'jobs',
        'run',
        'x',
        '--image',
        'tool-alpha/tool-alpha:latest',
        '--command',
        'true',
        '--schedule',
        'every day',
      ],
      /schedule/i,
    ],
    [
      ['jobs', 'run', 'x', '--image', `tool-alpha/tool-alpha@sha256:${'0'.repeat(64)}`, '--command', 'true'],
      /No such image/,
    ],
    [['webservice', 'php', 'start'], /not run by this service/],
  ])('%j is refused clearly', async (args, message) => {
    const r = await cli(args, env);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/);
  });

  it('the registry policy is checked before anything runs: an image from a registry it does not allow is refused', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tf-policy-'));
    writeFileSync(
      path.join(dir, 'policy.yaml'),
      'allowedRegistries: tools-harbor.wmcloud.org\nnamespace.tool-beta: quay.io\n',
    );
    const strict = await startApi({
      BUILDER: HARNESS_BUILDER,
      TOOLFORGE_REGISTRY_POLICY: `file:${path.join(dir, 'policy.yaml')}`,
    });
    try {
      const e = {
        TOOLFORGE_API_URL: strict.url,
        TOOLFORGE_TOOL: 'alpha',
        TOOLFORGE_TOKEN: strict.token('alpha'),
      };
      const repo = makeRepo({ 'provide.txt': '', 'require.txt': '' });
      expect((await cli(['build', 'start', repo.url], e)).code).toBe(0);
      const r = await cli(
        ['jobs', 'run', 'x', '--image', 'tool-alpha/tool-alpha:latest', '--command', 'true'],
        e,
      );
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /Image "toolforge.local\/tool-alpha\/tool-alpha@sha256:[0-9a-f]{64}" is not allowed.*tools-harbor.wmcloud.org/,
      );
      expect((await cli(['jobs', 'list'], e)).stdout).toContain('No jobs found');

      // Bypass attempts: each refused naming the image and the registries allowed.
      for (const image of [
        'tools-harbor.wmcloud.org.evil.com/x',
        'nginx',
        'Tools-Harbor.wmcloud.org/tool-alpha/x',
        'tool-Alpha/tool-alpha:latest',
        'tools-harbor.wmcloud.org:5000/tool-alpha/x',
        `sha256:${'a'.repeat(64)}`,
        'tools-harbor.wmcloud.org/tool-alpha/../tool-beta/x',
        'quay.io/tool-alpha/x', // allowlisted for tool-beta only
      ]) {
        const bypass = await cli(['jobs', 'run', 'x', '--image', image, '--command', 'true'], e);
        expect(bypass.code, image).toBe(1);
        expect(bypass.stderr, image).toContain(`Image ${JSON.stringify(image)} is not allowed`);
        expect(bypass.stderr, image).toContain('may use images from tools-harbor.wmcloud.org');
      }
      // The other namespace's entry does apply to it: quay.io passes the policy (and is then unknown).
      const beta = await cli(['jobs', 'run', 'x', '--image', 'quay.io/tool-alpha/x', '--command', 'true'], {
        ...e,
        TOOLFORGE_TOOL: 'beta',
        TOOLFORGE_TOKEN: strict.token('beta'),
      });
      expect(beta.stderr).toContain("No such image 'quay.io/tool-alpha/x'.");
      expect(beta.stderr).not.toContain('not allowed');
    } finally {
      await strict.close();
    }
  });
});

describe('the admission webhook the API serves', () => {
  const review = (image: string) => ({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: 'abc',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      operation: 'CREATE',
      namespace: 'tool-alpha',
      name: 'p',
      object: { kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image }] } },
    },
  });
  const post = async (body: unknown) => {
    const res = await fetch(`${api.url}/v1/admission/registry-policy`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };

  it('answers AdmissionReviews with the same policy: its own registry allowed, anything else denied', async () => {
    const allowed = await post(review(`toolforge.local/tool-alpha/x@sha256:${'a'.repeat(64)}`));
    expect(allowed.body).toMatchObject({ kind: 'AdmissionReview', response: { uid: 'abc', allowed: true } });
    const denied = await post(review('tools-harbor.wmcloud.org.evil.com/x'));
    expect(denied.body.response.allowed).toBe(false);
    expect(denied.body.response.status.message).toContain('tools-harbor.wmcloud.org.evil.com/x');
    expect((await post({ kind: 'nonsense' })).status).toBe(400);
  });
});
