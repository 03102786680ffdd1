// Bad input and isolation: each bad request is a clear 4xx in the reference envelope, creates nothing and
// logs nothing sensitive; another tool's build answers exactly like a build that never existed.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type TestApi } from '../helpers/api.ts';
import { cli } from '../helpers/cli.ts';
import { makeRepo, type Repo } from '../helpers/git.ts';
import { APPS_DIR } from '../helpers/paths.ts';

async function post(
  api: TestApi,
  token: string,
  tool: string,
  body: unknown,
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${api.url}/v1/tool/${tool}/builds`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

describe('bad input to start', () => {
  let api: TestApi;
  let token: string;
  let repo: Repo;
  beforeAll(async () => {
    api = await startApi();
    token = api.token('alpha');
    repo = makeRepo(path.join(APPS_DIR, 'static-site'));
  });
  afterAll(() => api.close());

  const bad: [string, Record<string, unknown>, number, RegExp][] = [
    ['ftp scheme', { source_url: 'ftp://example.org/x.git' }, 400, /scheme "ftp" is not accepted/],
    ['ssh scheme', { source_url: 'ssh://git@example.org/x.git' }, 400, /scheme "ssh"/],
    ['ext:: transport', { source_url: 'ext::sh -c touch% /tmp/pwned' }, 400, /remote-helper URLs/],
    [
      'option injection',
      { source_url: '--upload-pack=touch /tmp/pwned' },
      400,
      /must not start with "-"|spaces/,
    ],
    ['leading dash', { source_url: '-oProxyCommand=x' }, 400, /must not start with "-"/],
    [
      'credentials',
      { source_url: 'https://bob:hunter2-SECRET@example.org/x.git' },
      400,
      /carrying credentials/,
    ],
    ['link-local host', { source_url: 'http://169.254.169.254/latest/meta-data' }, 400, /link-local/],
    ['private host', { source_url: 'https://10.1.2.3/x.git' }, 400, /private or reserved/],
    [
      'unresolvable ref',
      { source_url: '', ref: 'no-such-branch' },
      400,
      /Failed to resolve ref no-such-branch/,
    ],
    ['ref option injection', { source_url: '', ref: '--upload-pack=x' }, 400, /ref:/],
    ['image name with /', { source_url: '', image_name: 'a/b' }, 400, /must not contain "\/"/],
    ['image name with ..', { source_url: '', image_name: 'a..b' }, 400, /must not contain "\.\."/],
    ['image name upper case', { source_url: '', image_name: 'MyImage' }, 400, /lower case/],
    ['image name too long', { source_url: '', image_name: 'a'.repeat(129) }, 400, /at most 128/],
    ['envvar short name', { source_url: '', envvars: { AB: 'x' } }, 400, /invalid name "AB"/],
    ['envvar CNB_', { source_url: '', envvars: { CNB_APP_DIR: 'x' } }, 400, /reserved/],
    ['envvar NUL', { source_url: '', envvars: { GOOD_NAME: 'a\u0000b' } }, 400, /NUL/],
    [
      'envvar too big',
      { source_url: '', envvars: { BIG_VALUE: 'x'.repeat(65 * 1024) } },
      400,
      /over 65536 bytes/,
    ],
    [
      'too many envvars',
      {
        source_url: '',
        envvars: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`VAR_${i}`, 'x'])),
      },
      400,
      /at most 100/,
    ],
    ['missing source_url', {}, 400, /source_url/],
    ['wrong type', { source_url: 'x', use_latest_versions: 'yes' }, 400, /use_latest_versions/],
  ];
  it.each(bad)('%s → %i with a clear message, nothing created', async (_name, body, status, message) => {
    const b = { ...body };
    if (b.source_url === '') b.source_url = repo.url;
    const res = await post(api, token, 'alpha', b);
    expect(res.status).toBe(status);
    expect(res.json.info).toEqual([]);
    expect(res.json.error.join(' ')).toMatch(message);
    expect(JSON.stringify(res.json)).not.toContain('hunter2');
    const list = await fetch(`${api.url}/v1/tool/alpha/builds`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(((await list.json()) as { builds: unknown[] }).builds).toEqual([]);
  });

  it('credentials and envvar values never reach the logs', async () => {
    const logged = await startApi({}, { captureLogs: true });
    try {
      const t = logged.token('alpha');
      await post(logged, t, 'alpha', { source_url: 'https://bob:hunter2-SECRET@example.org/x.git' });
      await post(logged, t, 'alpha', {
        source_url: repo.url,
        ref: 'no-such-branch',
        envvars: { API_KEY: 'hunter2-SECRET' },
      });
      expect(logged.logs()).toContain('incoming request');
      expect(logged.logs()).not.toContain('hunter2');
      expect(logged.logs()).not.toContain(t);
    } finally {
      await logged.close();
    }
  });

  it('malformed JSON, a wrong content type and a body over 1 MiB answer 4xx in the envelope', async () => {
    const broken = await post(api, token, 'alpha', '{"source_url":');
    expect(broken).toMatchObject({ status: 400, json: { code: 'INVALID_JSON', info: [], warning: [] } });
    const xml = await post(api, token, 'alpha', '<x/>', { 'content-type': 'application/xml' });
    expect(xml).toMatchObject({ status: 415, json: { code: 'UNSUPPORTED_MEDIA_TYPE' } });
    const huge = await post(api, token, 'alpha', {
      source_url: repo.url,
      envvars: { PAD_DING: 'x'.repeat(1024 * 1024) },
    });
    expect(huge).toMatchObject({ status: 413, json: { code: 'PAYLOAD_TOO_LARGE' } });
  });

  it('unknown request fields are ignored, not refused', async () => {
    const res = await post(api, token, 'alpha', { source_url: 'ftp://x', some_future_field: true });
    expect(res.json.error[0]).toMatch(/scheme/);
  });

  it('needs a valid token, and the path must name the caller’s tool', async () => {
    const none = await fetch(`${api.url}/v1/tool/alpha/builds`);
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ code: 'UNAUTHORIZED', info: [], warning: [] });
    const wrong = await fetch(`${api.url}/v1/tool/alpha/builds`, {
      headers: { authorization: 'Bearer tft_nope' },
    });
    expect(wrong.status).toBe(401);
    const other = await fetch(`${api.url}/v1/tool/beta/builds`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(other.status).toBe(403);
  });

  it('the CLI shows errors with their hint and exits 1; a missing URL is a usage error (2)', async () => {
    const env = { TOOLFORGE_API_URL: api.url, TOOLFORGE_TOOL: 'alpha', TOOLFORGE_TOKEN: token };
    const r = await cli(['build', 'start', 'ftp://example.org/x'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Error: URL scheme "ftp" is not accepted');
    expect(r.stderr).toContain('hint: Use the https URL of a public git repository.');
    const missing = await cli(['build', 'start'], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('Example: toolforge build start');
    const down = await cli(['build', 'list'], { ...env, TOOLFORGE_API_URL: 'http://127.0.0.1:9' });
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('The build service seems to be down');
  });
});
