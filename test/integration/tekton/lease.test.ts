// The scheduler's leader election against the fake kube-apiserver (a fake: it enforces resourceVersion
// preconditions and the Role from tekton/rbac.yaml, as a real apiserver does).
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SchedulerLease } from '../../../packages/api/src/engines/tekton/lease.ts';
import { connect, type Kube } from '../../../packages/api/src/kube/client.ts';
import { loadRoleRules } from '../../fakes/kube-apiserver/rbac.ts';
import { type FakeApiServer, startFakeApiServer } from '../../fakes/kube-apiserver.ts';
import { REPO_ROOT } from '../../helpers/paths.ts';

let api: FakeApiServer;
let kube: Kube;
beforeAll(async () => {
  api = await startFakeApiServer({
    rbac: {
      rules: loadRoleRules(path.join(REPO_ROOT, 'tekton/rbac.yaml'), 'builds-api-access'),
      namespace: 'image-build',
      user: 'system:serviceaccount:builds-api:builds-api',
    },
  });
  kube = connect('image-build', api.kubeconfigFile());
});
afterAll(() => api?.stop());

const holder = (name: string) =>
  (api.get({ group: 'coordination.k8s.io', plural: 'leases' }, 'image-build', name) as any)?.spec;
const later = (s: number) => new Date(Date.now() + s * 1000);

describe('the scheduler lease', () => {
  it('one replica holds it; the other waits until it expires, then takes over', async () => {
    const a = new SchedulerLease(kube, 'a', { name: 'expiry', durationSeconds: 15 });
    const b = new SchedulerLease(kube, 'b', { name: 'expiry', durationSeconds: 15 });
    expect(await a.acquire()).toBe(true);
    expect(await b.acquire()).toBe(false);
    expect(await a.acquire(later(10))).toBe(true); // renewed
    expect(await b.acquire(later(20))).toBe(false); // 10 s after the renewal: still held
    expect(holder('expiry')).toMatchObject({ holderIdentity: 'a', leaseTransitions: 0 });
    expect(await b.acquire(later(26))).toBe(true); // 16 s after: expired
    expect(holder('expiry')).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    expect(await a.acquire(later(27))).toBe(false);
  });

  it('of replicas racing for a free or expired lease, exactly one wins', async () => {
    const replicas = ['r1', 'r2', 'r3', 'r4'].map((id) => new SchedulerLease(kube, id, { name: 'race' }));
    // Nobody holds it yet: four concurrent creates.
    expect((await Promise.all(replicas.map((r) => r.acquire()))).filter(Boolean)).toHaveLength(1);
    for (let round = 1; round <= 10; round++) {
      const at = later(20 * round);
      const won = await Promise.all(replicas.map((r) => r.acquire(at)));
      expect(won.filter(Boolean), `round ${round}`).toHaveLength(1);
    }
  });

  it('a replica that shuts down hands over at once', async () => {
    const a = new SchedulerLease(kube, 'a', { name: 'handover' });
    const b = new SchedulerLease(kube, 'b', { name: 'handover' });
    expect(await a.acquire()).toBe(true);
    await b.release(); // not the holder: changes nothing
    expect(await b.acquire()).toBe(false);
    await a.release();
    expect(await b.acquire()).toBe(true);
  });
});
