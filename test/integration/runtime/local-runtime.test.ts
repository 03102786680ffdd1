// The local workload runtime with real images from the real builder: a Procfile app (web, worker, a
// crash switch) and an image without a web process, run as webservices and jobs under bubblewrap.
//
// Schedules: a user's schedule is always validated as 5 fields, but `* * * * *` would make this file take
// minutes. The runtime takes its cron evaluation as an option; here the schedule's minute field is read as
// a seconds field (croner, 6 fields), so `*/2 * * * *` fires every 2 s through the real scheduling loop.
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import type { OciLayout } from '@toolforge/oci';
import { Cron } from 'croner';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalRuntime, NO_WEB_PROCESS } from '../../../packages/api/src/runtime/local/index.ts';
import { openDatabase } from '../../../packages/api/src/store/db.ts';
import type {
  ResolvedImage,
  Workload,
  WorkloadKind,
  WorkloadSpec,
} from '../../../packages/api/src/workloads/port.ts';
import { harnessBuild } from '../../helpers/lifecycle.ts';
import { APPS_DIR, BUILDER } from '../../helpers/paths.ts';
import { waitForHttp } from '../../helpers/run-image.ts';

const PROCFILE = [
  'web: echo "web starting on $PORT ($NO_HOME)"; if [ -n "$CRASH" ]; then echo "crashing on purpose"; exit 1; fi; exec busybox httpd -f -v -p "$PORT" -h site',
  'worker: echo "worker ran in $PWD"',
  '',
].join('\n');

const images = new Map<string, { layout: OciLayout; ref: string }>();
let app: ResolvedImage;
let noWeb: ResolvedImage;
let dataDir: string;
let db: DatabaseSync;
let rt: LocalRuntime;

const fastCron = (schedule: string, after: Date) =>
  new Cron(`${schedule.split(/\s+/)[0]} * * * * *`, { mode: '6-part', timezone: 'UTC' }).nextRun(after) ??
  undefined;

function newRuntime(): LocalRuntime {
  return new LocalRuntime({
    db,
    dataDir,
    images: {
      open: async (image) => {
        const found = images.get(image.digest);
        if (!found) throw new Error(`no image ${image.digest}`);
        return found;
      },
    },
    log: pino({ level: 'silent' }),
    nextRun: fastCron,
    jobTimeoutMs: 60_000,
  });
}

function spec(over: Partial<WorkloadSpec> & Pick<WorkloadSpec, 'tool'>): WorkloadSpec {
  return { kind: 'job', name: 'webservice', image: app, mount: 'none', resources: {}, ...over };
}

function web(tool: string, over: Partial<WorkloadSpec> = {}): WorkloadSpec {
  return spec({ tool, kind: 'webservice', name: 'webservice', ...over });
}

function job(tool: string, name: string, command: string, over: Partial<WorkloadSpec> = {}): WorkloadSpec {
  return spec({ tool, kind: 'job', name, command, ...over });
}

/** Poll a workload until `ok` holds. */
async function waitFor(
  tool: string,
  kind: WorkloadKind,
  name: string,
  ok: (w: Workload) => boolean,
  timeoutMs = 30_000,
): Promise<Workload> {
  const until = Date.now() + timeoutMs;
  let last: Workload | undefined;
  while (Date.now() < until) {
    last = await rt.get(tool, kind, name);
    if (last && ok(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${tool}/${kind}/${name} did not get there: ${JSON.stringify(last?.status)}`);
}

const ended = (w: Workload) => w.status.state === 'succeeded' || w.status.state === 'failed';

async function logText(tool: string, kind: WorkloadKind, name: string): Promise<string> {
  const lines: string[] = [];
  for await (const l of rt.logs(tool, kind, name, { follow: false, signal: new AbortController().signal }))
    lines.push(l);
  return lines.join('\n');
}

async function answers(url: string): Promise<boolean> {
  return fetch(url, { signal: AbortSignal.timeout(1000) }).then(
    () => true,
    () => false,
  );
}

beforeAll(async () => {
  const site = readFileSync(path.join(APPS_DIR, 'procfile-app/site/index.html'), 'utf8');
  const [built, jobsOnly] = await Promise.all([
    harnessBuild({ Procfile: PROCFILE, 'site/index.html': site }, { builder: BUILDER }),
    harnessBuild({ Procfile: 'hello: echo "hello from an image without web"\n' }, { builder: BUILDER }),
  ]);
  for (const [b, tag] of [
    [built, 'app'],
    [jobsOnly, 'jobs-only'],
  ] as const) {
    expect(b.failure).toBeUndefined();
    const digest = b.result!.digest;
    images.set(digest, { layout: b.layout, ref: b.ref });
    const image: ResolvedImage = {
      requested: `tool-test/${tag}:latest`,
      ref: `127.0.0.1/tool-test/${tag}@${digest}`,
      digest,
      type: 'buildservice',
    };
    if (tag === 'app') app = image;
    else noWeb = image;
  }
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'tf-runtime-'));
  chmodSync(dataDir, 0o711); // as in the service: the sandbox's host id must get through to the rootfs
  db = openDatabase(path.join(dataDir, 'builds.sqlite'));
  process.env.TF_RUNTIME_TEST_SECRET = 'must-not-leak';
  rt = newRuntime();
  await rt.recover();
});

afterAll(async () => {
  await rt?.close();
  db?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  delete process.env.TF_RUNTIME_TEST_SECRET;
});

describe('validation', () => {
  it.each([
    ['a bad job name', job('rt-val', 'Bad_Name', 'true')],
    ['a 4-field schedule', job('rt-val', 'cron', 'true', { schedule: '* * * *' })],
    ['a 6-field schedule', job('rt-val', 'cron', 'true', { schedule: '*/5 * * * * *' })],
    ['an out-of-range schedule', job('rt-val', 'cron', 'true', { schedule: '61 * * * *' })],
    ['a schedule that never fires', job('rt-val', 'cron', 'true', { schedule: '0 0 31 2 *' })],
    ['scheduled and continuous', job('rt-val', 'cron', 'true', { schedule: '@daily', continuous: true })],
    ['a job without command', job('rt-val', 'empty', ' ')],
    ['a webservice with another name', web('rt-val', { name: 'web' })],
    ['a bad memory quantity', job('rt-val', 'mem', 'true', { resources: { memory: '12 apples' } })],
    ['a bad tool name', job('../etc', 'x', 'true')],
  ])('refuses %s', async (_, s) => {
    await expect(rt.apply(s)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(await rt.list(s.tool)).toEqual([]);
  });
});

describe('a webservice', () => {
  it('answers at its URL, logs, restarts into a new run, and stops answering when deleted', async () => {
    const applied = await rt.apply(web('rt-web'));
    expect(applied.status.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const url = applied.status.url!;
    const res = await waitForHttp(url);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('procfile app');
    const running = await waitFor('rt-web', 'webservice', 'webservice', (w) => w.status.state === 'running');
    expect(running.status.startedAt).toBeTruthy();
    expect(await rt.pinnedDigests('rt-web')).toEqual(new Set([app.digest]));

    const logs = await logText('rt-web', 'webservice', 'webservice');
    expect(logs).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z --- started \(run 1\) ---$/m);
    expect(logs).toContain('web starting on 8000 (a buildservice pod does not need a home env)');

    await rt.restart('rt-web', 'webservice', 'webservice');
    expect((await waitForHttp(url)).status).toBe(200);
    const again = await waitFor('rt-web', 'webservice', 'webservice', (w) => w.status.state === 'running');
    expect(again.status.url).toBe(url); // same port across restarts
    expect(await logText('rt-web', 'webservice', 'webservice')).toContain('--- started (run 2) ---');

    expect(await rt.delete('rt-web', 'webservice', 'webservice')).toBe(true);
    expect(await answers(url)).toBe(false);
    expect(await rt.get('rt-web', 'webservice', 'webservice')).toBeUndefined();
    expect(await rt.delete('rt-web', 'webservice', 'webservice')).toBe(false);
    expect(await rt.pinnedDigests('rt-web')).toEqual(new Set());
  });

  it('is started again after a crash, with backoff, and followers see each run', async () => {
    await rt.apply(web('rt-crash', { env: { CRASH: '1' } }));
    const abort = new AbortController();
    const seen: string[] = [];
    const follow = (async () => {
      for await (const line of rt.logs('rt-crash', 'webservice', 'webservice', {
        follow: true,
        signal: abort.signal,
      })) {
        seen.push(line);
      }
    })();
    const restarting = await waitFor('rt-crash', 'webservice', 'webservice', (w) => w.status.restarts >= 2);
    expect(['restarting', 'starting', 'running']).toContain(restarting.status.state);
    const r = await waitFor('rt-crash', 'webservice', 'webservice', (w) => w.status.state === 'restarting');
    expect(r.status.message).toMatch(/^exited with code 1; starting again in \d+ s$/);
    expect(seen.filter((l) => l.endsWith(' crashing on purpose')).length).toBeGreaterThanOrEqual(2);
    expect(seen.some((l) => l.includes('--- exited with code 1 (run 1) ---'))).toBe(true);
    // Deleting the workload ends the follow by itself.
    await rt.delete('rt-crash', 'webservice', 'webservice');
    await follow;
    abort.abort();
  });

  it('fails clearly when the image has no web process', async () => {
    await rt.apply(web('rt-noweb', { image: noWeb }));
    const w = await waitFor('rt-noweb', 'webservice', 'webservice', (x) => x.status.state === 'failed');
    expect(w.status.message).toBe(NO_WEB_PROCESS);
    await rt.delete('rt-noweb', 'webservice', 'webservice');
  });
});

describe('one-off jobs', () => {
  it('run a Procfile process and shell lines to completion, and a failing one ends failed', async () => {
    const tool = 'rt-jobs';
    await Promise.all([
      rt.apply(job(tool, 'worker', 'launcher worker')),
      rt.apply(job(tool, 'shell', 'echo "sum=$((2+3))"; env')),
      rt.apply(job(tool, 'fails', 'echo oops >&2; exit 3')),
      rt.apply(job(tool, 'std', 'echo "via $0"', { image: { ...app, type: 'standard' } })),
    ]);
    const [worker, shell, fails, std] = await Promise.all(
      ['worker', 'shell', 'fails', 'std'].map((n) => waitFor(tool, 'job', n, ended)),
    );
    expect(worker!.status).toMatchObject({ state: 'succeeded', message: 'exited with code 0' });
    expect(worker!.status.lastRun).toMatchObject({ exitCode: 0, startedAt: expect.any(String) });
    expect(await logText(tool, 'job', 'worker')).toContain(' worker ran in /workspace');

    expect(shell!.status.state).toBe('succeeded');
    const env = await logText(tool, 'job', 'shell');
    expect(env).toContain(' sum=5');
    expect(env).not.toContain('must-not-leak'); // nothing of the API's environment
    expect(env).toContain('NO_HOME=a buildservice pod does not need a home env'); // as jobs-api sets it

    expect(fails!.status).toMatchObject({ state: 'failed', message: 'exited with code 3' });
    expect(fails!.status.lastRun?.exitCode).toBe(3);
    expect(await logText(tool, 'job', 'fails')).toMatch(/ oops\n.* --- exited with code 3 \(run 1\) ---$/);

    expect(std!.status.state).toBe('succeeded');
    expect(await logText(tool, 'job', 'std')).toContain(' via /bin/sh');

    // Finished one-off jobs pin nothing.
    expect(await rt.pinnedDigests(tool)).toEqual(new Set());
    expect((await rt.list(tool)).map((w) => w.spec.name)).toEqual(['fails', 'shell', 'std', 'worker']);
    for (const n of ['worker', 'shell', 'fails', 'std']) await rt.delete(tool, 'job', n);
  });

  it('mount all sees the tool home at /data/project/<tool> and its writes persist; mount none has none', async () => {
    const tool = 'rt-mount';
    const home = `/data/project/${tool}`;
    await rt.apply(job(tool, 'write', `echo persisted > ${home}/note && echo wrote`, { mount: 'all' }));
    expect((await waitFor(tool, 'job', 'write', ended)).status.state).toBe('succeeded');
    expect(readFileSync(path.join(dataDir, 'runtime/home', tool, 'note'), 'utf8')).toBe('persisted\n');

    await rt.apply(job(tool, 'read', `cat ${home}/note`, { mount: 'all' }));
    expect((await waitFor(tool, 'job', 'read', ended)).status.state).toBe('succeeded');
    expect(await logText(tool, 'job', 'read')).toContain(' persisted');

    await rt.apply(
      job(tool, 'none', `test ! -e ${home} && test ! -e /data/project/${tool}/note && echo no home`),
    );
    expect((await waitFor(tool, 'job', 'none', ended)).status.state).toBe('succeeded');
    expect(await logText(tool, 'job', 'none')).toContain(' no home');
    for (const n of ['write', 'read', 'none']) await rt.delete(tool, 'job', n);
  });
});

describe('scheduled jobs', () => {
  it('run at their times and record lastRun and nextRun', async () => {
    const tool = 'rt-cron';
    const applied = await rt.apply(job(tool, 'tick', 'echo tick', { schedule: '*/2 * * * *' }));
    expect(applied.status.state).toBe('scheduled');
    expect(Date.parse(applied.status.nextRun!)).toBeGreaterThan(Date.now() - 1000);
    expect(await rt.pinnedDigests(tool)).toEqual(new Set([app.digest]));
    const w = await waitFor(
      tool,
      'job',
      'tick',
      (x) => !!x.status.lastRun?.endedAt && x.status.state === 'scheduled',
    );
    expect(w.status.lastRun?.exitCode).toBe(0);
    expect(Date.parse(w.status.nextRun!)).toBeGreaterThan(Date.parse(w.status.lastRun!.startedAt));
    expect(w.status.message).toMatch(/^the last run exited with code 0; next run at /);
    expect(await logText(tool, 'job', 'tick')).toMatch(/ tick$/m);
    await rt.delete(tool, 'job', 'tick');
  });

  it('skip a run while the previous one still runs', async () => {
    const tool = 'rt-cron';
    await rt.apply(job(tool, 'slow', 'sleep 2.5; echo done', { schedule: '* * * * *' }));
    const until = Date.now() + 20_000;
    let logs = '';
    while (Date.now() < until && !logs.includes('skipped the run due at')) {
      await new Promise((r) => setTimeout(r, 250));
      logs = await logText(tool, 'job', 'slow');
    }
    expect(logs).toMatch(/--- skipped the run due at \S+: run 1 is still running ---/);
    await rt.delete(tool, 'job', 'slow');
  });
});

describe('continuous jobs', () => {
  it('are started again whenever they exit, and keep their log across runs', async () => {
    const tool = 'rt-continuous';
    await rt.apply(job(tool, 'loop', 'echo looping; exit 3', { continuous: true }));
    const w = await waitFor(tool, 'job', 'loop', (x) => x.status.restarts >= 2);
    expect(['restarting', 'starting', 'running']).toContain(w.status.state);
    const logs = await logText(tool, 'job', 'loop');
    expect(logs).toMatch(/--- exited with code 3 \(run 1\) ---/);
    expect(logs).toMatch(/--- started \(run 2\) ---/);
    expect(await rt.pinnedDigests(tool)).toEqual(new Set([app.digest]));
    await rt.delete(tool, 'job', 'loop');
  });
});

describe('a restart of the API', () => {
  it('brings the webservice back on its port, continuous and scheduled jobs too, and marks an interrupted one-off job failed', async () => {
    const tool = 'rt-recover';
    const { url } = (await rt.apply(web(tool))).status;
    expect((await waitForHttp(url!)).status).toBe(200);
    await rt.apply(job(tool, 'sleeper', 'sleep 60'));
    await waitFor(tool, 'job', 'sleeper', (w) => w.status.state === 'running');
    await rt.apply(job(tool, 'daemon', 'sleep 60', { continuous: true }));
    await waitFor(tool, 'job', 'daemon', (w) => w.status.state === 'running');
    await rt.apply(job(tool, 'tick', 'echo tick', { schedule: '*/2 * * * *' }));

    await rt.close();
    expect(await answers(url!)).toBe(false);

    rt = newRuntime();
    await rt.recover();
    expect((await rt.get(tool, 'webservice', 'webservice'))?.status.url).toBe(url);
    expect((await waitForHttp(url!)).status).toBe(200);
    const sleeper = await rt.get(tool, 'job', 'sleeper');
    expect(sleeper?.status).toMatchObject({ state: 'failed', message: 'the service restarted while it ran' });
    // A continuous job runs again; a scheduled one waits for its next time and then runs.
    await waitFor(tool, 'job', 'daemon', (w) => w.status.state === 'running');
    const recovered = Date.now();
    const tick = await waitFor(
      tool,
      'job',
      'tick',
      (w) => !!w.status.lastRun?.endedAt && Date.parse(w.status.lastRun.startedAt) >= recovered,
    );
    expect(tick.status).toMatchObject({ state: 'scheduled', lastRun: { exitCode: 0 } });
    expect(Date.parse(tick.status.nextRun!)).toBeGreaterThan(recovered);
    expect(await rt.pinnedDigests(tool)).toEqual(new Set([app.digest]));
    await rt.delete(tool, 'webservice', 'webservice');
    for (const name of ['sleeper', 'daemon', 'tick']) await rt.delete(tool, 'job', name);
  });

  it('removes unpacked images no workload uses', async () => {
    const rootfs = (d: string) => path.join(dataDir, 'runtime/rootfs', d);
    const until = Date.now() + 10_000;
    while (Date.now() < until && (existsSync(rootfs(app.digest)) || existsSync(rootfs(noWeb.digest))))
      await new Promise((r) => setTimeout(r, 100));
    expect(existsSync(rootfs(app.digest))).toBe(false);
    expect(existsSync(rootfs(noWeb.digest))).toBe(false);
  });
});
