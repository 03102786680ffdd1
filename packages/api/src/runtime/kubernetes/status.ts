import type { V1Pod } from '@kubernetes/client-node';
import type { WorkloadSpec, WorkloadStatus } from '../../workloads/port.ts';
import type { RuntimeSettings } from './objects.ts';

/** A top object as listed: a Deployment, Job or CronJob with the workload's spec annotation. */
export interface Top {
  apiVersion: string;
  kind: string;
  metadata: { name: string; annotations: Record<string, string>; creationTimestamp?: string | Date };
  status?: {
    readyReplicas?: number;
    lastScheduleTime?: string | Date;
    lastSuccessfulTime?: string | Date;
    succeeded?: number;
    failed?: number;
    active?: number;
  };
}

const waiting = (pods: V1Pod[]) =>
  pods
    .flatMap((p) => p.status?.containerStatuses ?? [])
    .map((c) => c.state?.waiting)
    .find((w) => w?.reason);

const restartsOf = (pods: V1Pod[]) =>
  pods.flatMap((p) => p.status?.containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0);

/** The workload's state from its top object and its pods, in the runtime port's words. */
export function statusOf(
  top: Top,
  pods: V1Pod[],
  spec: WorkloadSpec,
  settings: RuntimeSettings,
): WorkloadStatus {
  const s = top.status ?? {};
  const restarts = restartsOf(pods);
  const url = spec.kind === 'webservice' ? `https://${spec.tool}.${settings.webDomain}/` : undefined;
  const base = { restarts, ...(url ? { url } : {}) };
  const w = waiting(pods);
  if (top.kind === 'Deployment') {
    if (w?.reason === 'CrashLoopBackOff')
      return { ...base, state: 'restarting', message: `crashing and being restarted (${restarts} restarts)` };
    if (w?.reason && /ImagePull|ErrImage|InvalidImageName|CreateContainer/.test(w.reason))
      return {
        ...base,
        state: 'failed',
        message: `cannot start: ${w.reason}${w.message ? `: ${w.message}` : ''}`,
      };
    if ((s.readyReplicas ?? 0) >= 1) return { ...base, state: 'running', message: 'running' };
    return { ...base, state: 'starting', message: 'starting' };
  }
  if (top.kind === 'CronJob') {
    const last = s.lastScheduleTime ? String(s.lastScheduleTime) : undefined;
    return {
      ...base,
      state: 'scheduled',
      message: `scheduled: ${spec.schedule} (UTC)`,
      ...(last
        ? {
            lastRun: {
              startedAt: last,
              ...(s.lastSuccessfulTime ? { endedAt: String(s.lastSuccessfulTime) } : {}),
            },
          }
        : {}),
    };
  }
  if ((s.succeeded ?? 0) > 0) return { ...base, state: 'succeeded', message: 'completed' };
  if ((s.failed ?? 0) > 0) {
    const code = pods
      .flatMap((p) => p.status?.containerStatuses ?? [])
      .map((c) => c.state?.terminated?.exitCode)
      .find((c) => c !== undefined);
    return {
      ...base,
      state: 'failed',
      message: `failed${code !== undefined ? ` with exit code ${code}` : ''}`,
    };
  }
  if ((s.active ?? 0) > 0) return { ...base, state: 'running', message: 'running' };
  return { ...base, state: 'pending', message: w?.reason ? `waiting: ${w.reason}` : 'waiting to start' };
}
