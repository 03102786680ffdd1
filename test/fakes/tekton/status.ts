// Rendering a task's container model into the Pod's status (as the kubelet reports it) and the
// TaskRun's status.steps (as the TaskRun reconciler copies it from the pod).
import { createHash } from 'node:crypto';
import { type KubeObject, kubeTime } from '../kube-apiserver/store.ts';
import { type ContainerModel, type Sim, type TaskCtl, TR } from './context.ts';
import { goList } from './definitions.ts';

const imageId = (image: string) =>
  `${image.split('@')[0]}@sha256:${createHash('sha256').update(image).digest('hex')}`;

export function setState(ctl: TaskCtl, name: string, state: any): void {
  const c = ctl.pod.containers.find((x) => x.name === name)!;
  if ((state.running || state.terminated) && !c.id) {
    c.id = `containerd://${createHash('sha256').update(`${name}${Math.random()}`).digest('hex')}`;
  }
  c.state = state;
}

function containerStatus(c: ContainerModel) {
  return {
    name: c.name,
    image: c.image,
    imageID: c.id ? imageId(c.image) : '',
    ...(c.id ? { containerID: c.id } : {}),
    ready: !!c.state.running,
    restartCount: 0,
    started: !!c.state.running,
    state: c.state,
    lastState: {},
  };
}

export function writePod(sim: Sim, ctl: TaskCtl): void {
  const pod = sim.api.get('pods', sim.ns, ctl.plan.podName);
  if (!pod) return;
  const m = ctl.pod;
  const inits = m.containers.filter((c) => c.init);
  const steps = m.containers.filter((c) => !c.init);
  const initPending = inits.filter((c) => c.state.terminated?.exitCode !== 0).map((c) => c.name);
  const unready = steps.filter((c) => !c.state.running).map((c) => c.name);
  const done = m.phase === 'Succeeded' || m.phase === 'Failed';
  const t = kubeTime();
  const cond = (type: string, ok: boolean, reason?: string, message?: string) => ({
    type,
    status: ok ? 'True' : 'False',
    lastProbeTime: null,
    lastTransitionTime: t,
    ...(ok ? {} : { reason, message }),
  });
  const notReady = done ? 'PodCompleted' : 'ContainersNotReady';
  pod.status = {
    phase: m.phase,
    ...(m.reason ? { reason: m.reason } : {}),
    ...(m.message ? { message: m.message } : {}),
    conditions: [
      cond('PodReadyToStartContainers', !done),
      cond(
        'Initialized',
        !initPending.length,
        'ContainersNotInitialized',
        `containers with incomplete status: ${goList(initPending)}`,
      ),
      cond('Ready', !unready.length && !done, notReady, `containers with unready status: ${goList(unready)}`),
      cond(
        'ContainersReady',
        !unready.length && !done,
        notReady,
        `containers with unready status: ${goList(unready)}`,
      ),
      cond('PodScheduled', true),
      ...(m.reason === 'Evicted' ? [cond('DisruptionTarget', true)] : []),
    ],
    hostIP: '10.0.0.10',
    podIP: '10.244.0.23',
    startTime: m.startTime,
    initContainerStatuses: inits.map(containerStatus),
    containerStatuses: steps.map(containerStatus),
    qosClass: 'BestEffort',
  };
  sim.api.put('pods', pod);
}

/** The TaskRun's pending message, as Tekton derives it from the pod (getWaitingMessage). */
export function waitingMessage(ctl: TaskCtl): string {
  for (const c of ctl.pod.containers.filter((x) => !x.init)) {
    if (c.state.waiting?.message)
      return `build step "${c.name}" is pending with reason "${c.state.waiting.message}"`;
  }
  const inits = ctl.pod.containers
    .filter((c) => c.init && c.state.terminated?.exitCode !== 0)
    .map((c) => c.name);
  if (inits.length) {
    return `pod status "Initialized":"False"; message: "containers with incomplete status: ${goList(inits)}"`;
  }
  return 'Pending';
}

/** Copy the step containers' states into the TaskRun's status.steps, then let `fn` edit the status. */
export function writeTaskRun(
  sim: Sim,
  ctl: TaskCtl,
  fn: (status: any, tr: KubeObject) => void = () => undefined,
): void {
  const tr = sim.api.get(TR, sim.ns, ctl.plan.name);
  if (!tr) return;
  tr.status ??= {};
  tr.status.steps = ctl.pod.containers
    .filter((c) => !c.init)
    .map((c) => ({
      name: c.name.replace(/^step-/, ''),
      container: c.name,
      imageID: c.id ? imageId(c.image) : '',
      ...c.state,
      ...(c.state.terminated ? { terminationReason: c.terminationReason ?? c.state.terminated.reason } : {}),
    }));
  fn(tr.status, tr);
  sim.api.put(TR, tr);
}
