// One TaskRun's life: its TaskRun and Pod are created, init containers finish, every step container
// starts (Tekton starts them together; the entrypoint wrapper runs them one after the other), each step
// logs and terminates in turn, and the TaskRun ends Succeeded, Failed or Cancelled.
import { createHash } from 'node:crypto';
import { type KubeObject, kubeTime } from '../kube-apiserver/store.ts';
import { type RunCtl, type Sim, type StepContext, setCondition, type TaskCtl, TR } from './context.ts';
import { formatGoDuration, parseGoDuration } from './durations.ts';
import { makePod, makeTaskRun, planTaskRun } from './pod.ts';
import { setState, waitingMessage, writePod, writeTaskRun } from './status.ts';

export function startTask(sim: Sim, run: RunCtl, pt: any): void {
  const pr = sim.getPr(run.name)!;
  const plan = planTaskRun(pr, pt, run.taskDefs.get(pt.name)!, run.params!);
  const timeoutMs = parseGoDuration(pr.spec.timeouts?.pipeline ?? sim.settings.defaultTimeout) ?? 0;
  const tr = makeTaskRun(pr, plan, timeoutMs ? formatGoDuration(timeoutMs) : undefined);
  tr.status = { podName: plan.podName, startTime: kubeTime(), taskSpec: plan.task.spec };
  setCondition(tr.status, 'Unknown', 'Pending', 'Pending');
  const trObj = sim.api.put(TR, tr);
  const pod = sim.api.put('pods', makePod(pr, trObj, plan));
  const waiting = (c: any, init: boolean) => ({
    name: c.name,
    image: c.image,
    init,
    state: { waiting: { reason: 'PodInitializing' } },
  });
  const ctl: TaskCtl = {
    plan,
    pipelineTask: pt.name,
    phase: 'running',
    timers: new Set(),
    stepStarted: {},
    pod: {
      phase: 'Pending',
      startTime: kubeTime(),
      containers: [
        ...(pod.spec.initContainers ?? []).map((c: any) => waiting(c, true)),
        ...pod.spec.containers.map((c: any) => waiting(c, false)),
      ],
    },
  };
  run.tasks.set(pt.name, ctl);
  writePod(sim, ctl);
  writeTaskRun(sim, ctl, (s) => setCondition(s, 'Unknown', 'Pending', waitingMessage(ctl)));
  sim.updatePr(run, (p) => {
    p.status.childReferences = [
      ...(p.status.childReferences ?? []).filter((c: any) => c.name !== plan.name),
      { apiVersion: 'tekton.dev/v1', kind: 'TaskRun', name: plan.name, pipelineTaskName: pt.name },
    ];
  });
  sim.after(ctl.timers, run.script.initMs ?? sim.settings.initMs, () => initDone(sim, run, ctl));
}

function blockedContainer(run: RunCtl, ctl: TaskCtl): string | undefined {
  const ipb = run.script.imagePullBackOff;
  if (!ipb) return undefined;
  return ipb.step ? `step-${ipb.step}` : ctl.plan.steps[0]?.container;
}

function initDone(sim: Sim, run: RunCtl, ctl: TaskCtl): void {
  const now = kubeTime();
  for (const c of ctl.pod.containers.filter((x) => x.init)) {
    setState(ctl, c.name, {
      terminated: { exitCode: 0, reason: 'Completed', startedAt: ctl.pod.startTime, finishedAt: now },
    });
  }
  // Every step container starts now; a step whose image can't be pulled stays waiting (pod Pending).
  const blocked = blockedContainer(run, ctl);
  for (const c of ctl.pod.containers.filter((x) => !x.init)) {
    if (c.name === blocked) {
      setState(ctl, c.name, {
        waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${c.image}"` },
      });
    } else setState(ctl, c.name, { running: { startedAt: now } });
  }
  ctl.pod.phase = blocked ? 'Pending' : 'Running';
  writePod(sim, ctl);
  writeTaskRun(sim, ctl, (s) =>
    blocked
      ? setCondition(s, 'Unknown', 'PullImageFailed', waitingMessage(ctl))
      : setCondition(s, 'Unknown', 'Running', 'Not all Steps in the Task have finished executing'),
  );
  runStep(sim, run, ctl, 0);
}

function digestOf(sim: Sim, run: RunCtl, pr: KubeObject): string {
  return (
    run.script.digest ??
    sim.settings.digest?.(pr) ??
    `sha256:${createHash('sha256').update(run.uid).digest('hex')}`
  );
}

function stepDuration(sim: Sim, run: RunCtl, step: string): number {
  const s = run.script.stepMs;
  if (typeof s === 'number') return s;
  return s?.[step] ?? sim.settings.stepMs;
}

function log(sim: Sim, ctl: TaskCtl, container: string, line: string): void {
  if (sim.api.get('pods', sim.ns, ctl.plan.podName))
    sim.api.appendLog(sim.ns, ctl.plan.podName, container, line);
}

function runStep(sim: Sim, run: RunCtl, ctl: TaskCtl, i: number): void {
  const step = ctl.plan.steps[i];
  const pr = sim.getPr(run.name);
  if (!pr) return;
  if (!step) {
    ctl.pod.phase = 'Succeeded';
    endTask(
      sim,
      run,
      ctl,
      'succeeded',
      'Succeeded',
      'All Steps have completed executing',
      taskResults(sim, run, ctl, pr),
    );
    return;
  }
  if (step.container === blockedContainer(run, ctl)) return; // waits for its image forever
  ctl.stepStarted[step.name] = new Date().toISOString();
  const ms = stepDuration(sim, run, step.name);
  const context: StepContext = {
    step: step.name,
    container: step.container,
    pipelineRun: pr,
    taskRun: ctl.plan.name,
    pod: ctl.plan.podName,
    params: ctl.plan.taskParams,
  };
  const lines = run.script.logs?.[step.name] ??
    sim.settings.logs?.(context) ?? [
      `step ${step.name} running`,
      step.name === 'results' && ctl.plan.taskParams.APP_IMAGE !== undefined
        ? `Built image ${ctl.plan.taskParams.APP_IMAGE}@${digestOf(sim, run, pr)}`
        : `step ${step.name} done`,
    ];
  lines.forEach((line, k) => {
    sim.after(ctl.timers, ((k + 1) * ms) / (lines.length + 1), () => log(sim, ctl, step.container, line));
  });
  const s = run.script;
  if (s.evicted?.step === step.name) {
    sim.after(ctl.timers, ms / 2, () => evict(sim, run, ctl, s.evicted!.message));
    return;
  }
  sim.after(ctl.timers, ms, () => {
    if (s.oomKilled?.step === step.name) return stepFailed(sim, run, ctl, i, 137, 'OOMKilled');
    if (s.fail?.step === step.name) return stepFailed(sim, run, ctl, i, s.fail.exitCode ?? 1, 'Error');
    const last = i === ctl.plan.steps.length - 1;
    setState(ctl, step.container, {
      terminated: {
        exitCode: 0,
        reason: 'Completed',
        message: terminationMessage(ctl.stepStarted[step.name]!, last ? taskResults(sim, run, ctl, pr) : []),
        startedAt: ctl.pod.startTime,
        finishedAt: kubeTime(),
      },
    });
    writePod(sim, ctl);
    writeTaskRun(sim, ctl);
    runStep(sim, run, ctl, i + 1);
  });
}

function taskResults(sim: Sim, run: RunCtl, ctl: TaskCtl, pr: KubeObject) {
  const known: Record<string, string> = {
    APP_IMAGE_URL: String(ctl.plan.taskParams.APP_IMAGE ?? ''),
    APP_IMAGE_DIGEST: digestOf(sim, run, pr),
  };
  return (ctl.plan.task.spec?.results ?? []).map((r: any) => ({
    name: r.name,
    type: r.type ?? 'string',
    value: known[r.name] ?? '',
  }));
}

/** The entrypoint's termination message: results and the step's StartedAt. */
function terminationMessage(startedAt: string, results: { name: string; value: string }[]): string {
  return JSON.stringify([
    ...results.map((r) => ({ key: r.name, value: r.value, type: 1 })),
    { key: 'StartedAt', value: startedAt, type: 3 },
  ]);
}

const goLogTime = () => new Date().toISOString().slice(0, 19).replace('T', ' ').replace(/-/g, '/');

function stepFailed(sim: Sim, run: RunCtl, ctl: TaskCtl, i: number, exitCode: number, reason: string): void {
  const failed = ctl.plan.steps[i]!;
  const now = kubeTime();
  setState(ctl, failed.container, {
    terminated: {
      exitCode,
      reason,
      message: terminationMessage(ctl.stepStarted[failed.name]!, []),
      startedAt: ctl.pod.startTime,
      finishedAt: now,
    },
  });
  // The later steps' entrypoints see the failure and exit 1 without running their command.
  for (const later of ctl.plan.steps.slice(i + 1)) {
    log(sim, ctl, later.container, `${goLogTime()} Skipping step because a previous step failed`);
    setState(ctl, later.container, {
      terminated: {
        exitCode: 1,
        reason: 'Error',
        message: JSON.stringify([{ key: 'Reason', value: 'Skipped', type: 3 }]),
        startedAt: ctl.pod.startTime,
        finishedAt: now,
      },
    });
    ctl.pod.containers.find((c) => c.name === later.container)!.terminationReason = 'Skipped';
  }
  ctl.pod.phase = 'Failed';
  const specific = sim.settings.specificReasons;
  const message = `"${failed.container}" exited with code ${exitCode}${specific ? `: ${reason}` : ''}`;
  endTask(
    sim,
    run,
    ctl,
    'failed',
    !specific ? 'Failed' : reason === 'OOMKilled' ? 'StepOOM' : 'StepFailed',
    message,
  );
}

function evict(sim: Sim, run: RunCtl, ctl: TaskCtl, message?: string): void {
  const now = kubeTime();
  for (const c of ctl.pod.containers) {
    if (c.state.terminated) continue;
    setState(ctl, c.name, {
      terminated: {
        exitCode: 137,
        reason: 'ContainerStatusUnknown',
        message: 'The container could not be located when the pod was terminated',
        startedAt: ctl.pod.startTime,
        finishedAt: now,
      },
    });
  }
  ctl.pod.phase = 'Failed';
  ctl.pod.reason = 'Evicted';
  ctl.pod.message =
    message ??
    'The node was low on resource: ephemeral-storage. Threshold quantity: 1Gi, available: 512Mi. Container step-build was using 3Gi, request is 0, has larger consumption of ephemeral-storage. ';
  endTask(sim, run, ctl, 'failed', sim.settings.specificReasons ? 'PodEvicted' : 'Failed', ctl.pod.message);
}

function endTask(
  sim: Sim,
  run: RunCtl,
  ctl: TaskCtl,
  phase: TaskCtl['phase'],
  reason: string,
  message: string,
  results: unknown[] = [],
): void {
  sim.clear(ctl.timers);
  ctl.phase = phase;
  writePod(sim, ctl);
  writeTaskRun(sim, ctl, (s) => {
    setCondition(s, phase === 'succeeded' ? 'True' : 'False', reason, message);
    if (results.length) s.results = results;
    s.completionTime = kubeTime();
  });
  sim.advance(run);
}

/** Cancel a running TaskRun as the PipelineRun and TaskRun reconcilers together do; its pod is deleted. */
export function cancelTask(sim: Sim, ctl: TaskCtl, statusMessage: string): void {
  if (ctl.phase !== 'running') return;
  sim.clear(ctl.timers);
  ctl.phase = 'cancelled';
  const tr = sim.api.get(TR, sim.ns, ctl.plan.name);
  if (tr) {
    tr.spec.status = 'TaskRunCancelled';
    tr.spec.statusMessage = statusMessage;
    sim.api.put(TR, tr);
  }
  const now = kubeTime();
  for (const c of ctl.pod.containers.filter((x) => !x.init && !x.state.terminated)) {
    c.state = {
      terminated: {
        exitCode: 1,
        reason: 'TaskRunCancelled',
        message: `Step ${c.name.replace(/^step-/, '')} terminated as pod ${ctl.plan.podName} is terminated`,
        startedAt: c.state.running?.startedAt ?? tr?.metadata.creationTimestamp ?? now,
        finishedAt: now,
      },
    };
  }
  writeTaskRun(sim, ctl, (s) => {
    setCondition(
      s,
      'False',
      'TaskRunCancelled',
      `TaskRun "${ctl.plan.name}" was cancelled. ${statusMessage}`,
    );
    s.completionTime = now;
  });
  if (!sim.settings.keepPodOnCancel) {
    sim.api.delete('pods', sim.ns, ctl.plan.podName);
    return;
  }
  // keep-pod-on-cancel: the entrypoints stop their steps ("Step was cancelled", exit 9) and the pod stays.
  for (const c of ctl.pod.containers.filter((x) => x.state.terminated?.reason === 'TaskRunCancelled')) {
    log(sim, ctl, c.name, `${goLogTime()} Step was cancelled`);
    c.state = { terminated: { exitCode: 9, reason: 'Error', startedAt: ctl.pod.startTime, finishedAt: now } };
  }
  ctl.pod.phase = 'Failed';
  writePod(sim, ctl);
}
