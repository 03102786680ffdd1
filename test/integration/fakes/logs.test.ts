// Pod logs through client-node: Log.log with follow, readNamespacedPodLog, and the errors a client sees
// before a container starts.
import { PassThrough } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeApiServer, startFakeApiServer } from '../../fakes/kube-apiserver.ts';
import { apiError, NS, sleep } from './helpers.ts';

function collect(): { stream: PassThrough; text: () => string; ended: Promise<void> } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d) => (text += d));
  const ended = new Promise<void>((r) => stream.on('end', () => r()));
  return { stream, text: () => text, ended };
}

describe('fake kube-apiserver: pod logs', () => {
  let api: FakeApiServer;
  let kc: k8s.KubeConfig;
  let core: k8s.CoreV1Api;
  beforeAll(async () => {
    api = await startFakeApiServer();
    kc = api.makeKubeConfig();
    core = kc.makeApiClient(k8s.CoreV1Api);
  });
  afterAll(() => api.stop());

  const makePod = (name: string) =>
    api.put('pods', {
      metadata: { name, namespace: NS },
      spec: {
        initContainers: [{ name: 'prepare', image: 'e' }],
        containers: [
          { name: 'step-one', image: 'a' },
          { name: 'step-two', image: 'b' },
        ],
      },
      status: { phase: 'Pending' },
    });

  it('answers 400 while the container waits, then follows live lines until it terminates', async () => {
    makePod('follow');
    const log = new k8s.Log(kc);
    const waiting = collect();
    const e = await log.log(NS, 'follow', 'step-one', waiting.stream, { follow: true }).catch((x) => x);
    expect(e).toBeInstanceOf(k8s.ApiException);
    expect(e.code).toBe(400);
    // The same through the generated client, with the Status message a client would show.
    const status = await apiError(
      core.readNamespacedPodLog({ namespace: NS, name: 'follow', container: 'step-one' }),
    );
    expect(status.status.message).toBe(
      'container "step-one" in pod "follow" is waiting to start: PodInitializing',
    );

    api.setContainerState(NS, 'follow', 'step-one', { running: {} });
    api.appendLog(NS, 'follow', 'step-one', 'first');
    const out = collect();
    await log.log(NS, 'follow', 'step-one', out.stream, { follow: true });
    await sleep(30);
    api.appendLog(NS, 'follow', 'step-one', 'second\nthird');
    await sleep(30);
    expect(out.text()).toBe('first\nsecond\nthird\n');
    api.appendLog(NS, 'follow', 'step-one', 'last');
    api.setContainerState(NS, 'follow', 'step-one', { terminated: { exitCode: 0 } });
    await out.ended;
    expect(out.text()).toBe('first\nsecond\nthird\nlast\n');
  });

  it('resumes with timestamps + sinceTime: lines from that second repeat, so a client skips what it has seen', async () => {
    makePod('resume');
    api.setContainerState(NS, 'resume', 'step-one', { running: {} });
    const t0 = Date.now() - 3000;
    for (let i = 0; i < 4; i++) api.appendLog(NS, 'resume', 'step-one', `line ${i}`, new Date(t0 + i * 400));
    const all = await core.readNamespacedPodLog({
      namespace: NS,
      name: 'resume',
      container: 'step-one',
      timestamps: true,
    });
    const lines = all.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z line 0$/);
    // The client saw up to line 1 and resumes from its timestamp.
    const seen = lines[1]!.split(' ')[0]!;
    const resumed = collect();
    await new k8s.Log(kc).log(NS, 'resume', 'step-one', resumed.stream, {
      follow: true,
      timestamps: true,
      sinceTime: seen,
    });
    await sleep(30);
    api.appendLog(NS, 'resume', 'step-one', 'line 4');
    api.setContainerState(NS, 'resume', 'step-one', { terminated: { exitCode: 0 } });
    await resumed.ended;
    const got = resumed.text().trimEnd().split('\n');
    // sinceTime has second precision: lines of the same second as `seen` come again, none before it.
    expect(got.every((l) => l.split(' ')[0]! >= `${seen.slice(0, 19)}`)).toBe(true);
    const fresh = got.filter((l) => l.split(' ')[0]! > seen).map((l) => l.split(' ').slice(1).join(' '));
    expect(fresh).toEqual(['line 2', 'line 3', 'line 4']);
  });

  it('serves tailLines and limitBytes, and refuses unknown pods and containers', async () => {
    makePod('misc');
    api.setContainerState(NS, 'misc', 'step-two', { running: {} });
    for (const l of ['a', 'b', 'c']) api.appendLog(NS, 'misc', 'step-two', l);
    expect(
      await core.readNamespacedPodLog({ namespace: NS, name: 'misc', container: 'step-two', tailLines: 2 }),
    ).toBe('b\nc\n');
    expect(
      await core.readNamespacedPodLog({ namespace: NS, name: 'misc', container: 'step-two', limitBytes: 3 }),
    ).toBe('a\nb');
    expect(
      (await apiError(core.readNamespacedPodLog({ namespace: NS, name: 'nope', container: 'x' }))).code,
    ).toBe(404);
    const bad = await apiError(
      core.readNamespacedPodLog({ namespace: NS, name: 'misc', container: 'step-nine' }),
    );
    expect(bad).toMatchObject({
      code: 400,
      status: { message: 'container step-nine is not valid for pod misc' },
    });
    const none = await apiError(core.readNamespacedPodLog({ namespace: NS, name: 'misc' }));
    expect(none.status.message).toBe(
      'a container name must be specified for pod misc, choose one of: [step-one step-two] or one of the init containers: [prepare]',
    );
  });

  it('ends follow streams when the pod is deleted, and the logs go with it', async () => {
    makePod('gone');
    api.setContainerState(NS, 'gone', 'step-one', { running: {} });
    const out = collect();
    await new k8s.Log(kc).log(NS, 'gone', 'step-one', out.stream, { follow: true });
    api.appendLog(NS, 'gone', 'step-one', 'bye');
    api.delete('pods', NS, 'gone');
    await out.ended;
    expect(out.text()).toBe('bye\n');
    expect(
      (await apiError(core.readNamespacedPodLog({ namespace: NS, name: 'gone', container: 'step-one' })))
        .code,
    ).toBe(404);
  });
});
