import { type V1Lease, V1MicroTime } from '@kubernetes/client-node';
import { type Kube, statusCode } from '../../kube/client.ts';

/**
 * Leader election over a coordination.k8s.io Lease, as Kubernetes controllers do it: only the holder
 * releases queued runs, so two API replicas never both fill the same free slot. Every write is
 * conditional on the resourceVersion read, so of two replicas racing for an expired lease one wins.
 */
export class SchedulerLease {
  private readonly kube: Kube;
  private readonly identity: string;
  private readonly durationSeconds: number;
  readonly name: string;

  constructor(kube: Kube, identity: string, opts: { durationSeconds?: number; name?: string } = {}) {
    this.kube = kube;
    this.identity = identity;
    this.durationSeconds = opts.durationSeconds ?? 15;
    this.name = opts.name ?? 'builds-api-scheduler';
  }

  /** Take or renew the lease; true when this replica holds it now. */
  async acquire(now = new Date()): Promise<boolean> {
    const lease = await this.read();
    const time = new V1MicroTime(now.getTime());
    if (!lease) {
      return this.write('create', {
        metadata: { name: this.name },
        spec: {
          holderIdentity: this.identity,
          leaseDurationSeconds: this.durationSeconds,
          acquireTime: time,
          renewTime: time,
          leaseTransitions: 0,
        },
      });
    }
    const spec = lease.spec ?? {};
    const mine = spec.holderIdentity === this.identity;
    const renewed = spec.renewTime ? new Date(spec.renewTime).getTime() : 0;
    const expired = now.getTime() - renewed > (spec.leaseDurationSeconds ?? this.durationSeconds) * 1000;
    if (!mine && spec.holderIdentity && !expired) return false;
    lease.spec = {
      ...spec,
      holderIdentity: this.identity,
      leaseDurationSeconds: this.durationSeconds,
      renewTime: time,
      ...(mine ? {} : { acquireTime: time, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 }),
    };
    return this.write('replace', lease);
  }

  /** Give the lease up at shutdown so another replica takes over at once. */
  async release(): Promise<void> {
    const lease = await this.read().catch(() => undefined);
    if (!lease?.spec || lease.spec.holderIdentity !== this.identity) return;
    lease.spec = { ...lease.spec, holderIdentity: '' };
    await this.write('replace', lease).catch(() => false);
  }

  private async read(): Promise<V1Lease | undefined> {
    try {
      return await this.kube.coordination.readNamespacedLease({
        name: this.name,
        namespace: this.kube.namespace,
      });
    } catch (err) {
      if (statusCode(err) === 404) return undefined;
      throw err;
    }
  }

  /** false when another replica wrote first (409 Conflict, or AlreadyExists on create). */
  private async write(how: 'create' | 'replace', body: V1Lease): Promise<boolean> {
    try {
      if (how === 'create')
        await this.kube.coordination.createNamespacedLease({ namespace: this.kube.namespace, body });
      else
        await this.kube.coordination.replaceNamespacedLease({
          name: this.name,
          namespace: this.kube.namespace,
          body,
        });
      return true;
    } catch (err) {
      if (statusCode(err) === 409) return false;
      throw err;
    }
  }
}
