// The PipelineRun reconciler: pick a run up, resolve its Pipeline and Tasks, check params, workspaces
// and taskRunSpecs (failing the run with Tekton's reasons and messages), start tasks as their runAfter
// allow, and finish, time out, cancel or stop the run.
import type { KubeObject } from '../kube-apiserver/store.ts';
import { kubeTime } from '../kube-apiserver/store.ts';
import { isDone, type RunCtl, type RunScript, type Sim, setCondition, type TaskCtl, TR } from './context.ts';
import { checkParams, goList, type ParamSpec, resolveParams } from './definitions.ts';
import { formatGoDuration, parseGoDuration } from './durations.ts';
import { substituteString, type Vars } from './substitute.ts';
import { cancelTask, startTask } from './tasks.ts';

const CANCEL = ['Cancelled', 'CancelledRunFinally', 'StoppedRunFinally'];
const CANCELLED_MSG = 'TaskRun cancelled as the PipelineRun it belongs to has been cancelled.';
const TIMED_OUT_MSG = 'TaskRun cancelled as the PipelineRun it belongs to has timed out.';

export function pickup(sim: Sim, name: string, script: (pr: KubeObject) => RunScript): void {
  const pr = sim.getPr(name);
  if (!pr || sim.runs.has(name) || isDone(pr)) return;
  const run: RunCtl = {
    name,
    uid: pr.metadata.uid,
    script: script(pr),
    timers: new Set(),
    phase: 'starting',
    tasks: new Map(),
    taskDefs: new Map(),
  };
  sim.runs.set(name, run);
  const wanted = pr.spec?.status;
  if (wanted === 'PipelineRunPending') {
    run.phase = 'pending';
    sim.updatePr(run, (p) =>
      setCondition(p.status, 'Unknown', 'PipelineRunPending', `PipelineRun "${name}" is pending`),
    );
    return;
  }
  if (CANCEL.includes(wanted)) {
    sim.updatePr(run, (p) => (p.status.startTime ??= kubeTime()));
    failRun(sim, run, 'Cancelled', `PipelineRun "${name}" was cancelled`);
    return;
  }
  sim.updatePr(run, (p) => {
    p.status.startTime ??= kubeTime();
    setCondition(p.status, 'Unknown', 'Started');
  });
  sim.after(run.timers, sim.settings.pickupMs, () => resolveRun(sim, run));
}

function failRun(sim: Sim, run: RunCtl, reason: string, message: string): void {
  sim.updatePr(run, (p) => {
    setCondition(p.status, 'False', reason, message);
    p.status.completionTime = kubeTime();
  });
  run.phase = 'done';
  sim.clear(run.timers);
}

/** What the controller checks before creating anything; a failure ends the run (returns false). */
function validate(sim: Sim, run: RunCtl, pr: KubeObject, pspec: any, pname: string): boolean {
  const ns = sim.ns;
  const where = `${ns}/${run.name}`;
  const problems = checkParams(pspec.params ?? [], pr.spec.params ?? []);
  const fail = (reason: string, message: string) => {
    failRun(sim, run, reason, message);
    return false;
  };
  if (problems.missing.length) {
    return fail(
      'ParameterMissing',
      `PipelineRun ${where} is missing some parameters required by Pipeline ${ns}/${pname}: [User error] pipelineRun missing parameters: ${goList(problems.missing)}`,
    );
  }
  if (problems.mismatched.length) {
    return fail(
      'ParameterTypeMismatch',
      `PipelineRun ${where} parameters have mismatching types with Pipeline ${ns}/${pname}'s parameters: [User error] parameters have inconsistent types : ${goList(problems.mismatched)}`,
    );
  }
  const bound = new Set((pr.spec.workspaces ?? []).map((w: any) => w.name));
  const unbound = (pspec.workspaces ?? []).find((w: any) => !w.optional && !bound.has(w.name));
  if (unbound) {
    return fail(
      'InvalidWorkspaceBindings',
      `PipelineRun ${where} doesn't bind Pipeline ${ns}/${pname}'s Workspaces correctly: [User error] pipeline requires workspace with name "${unbound.name}" be provided by pipelinerun`,
    );
  }
  const taskNames = new Set([...(pspec.tasks ?? []), ...(pspec.finally ?? [])].map((t: any) => t.name));
  const badSpec = (pr.spec.taskRunSpecs ?? []).find((s: any) => !taskNames.has(s.pipelineTaskName));
  if (badSpec) {
    return fail(
      'InvalidTaskRunSpecs',
      `PipelineRun ${where} doesn't define taskRunSpecs correctly: [User error] pipelineRun's taskrunSpecs defined wrong taskName: "${badSpec.pipelineTaskName}", does not exist in Pipeline`,
    );
  }
  for (const t of pspec.tasks ?? []) {
    if (t.taskSpec) {
      run.taskDefs.set(t.name, {
        apiVersion: 'tekton.dev/v1',
        kind: 'Task',
        metadata: { name: t.name } as any,
        spec: t.taskSpec,
      });
      continue;
    }
    const def = t.taskRef?.name ? sim.api.get('tasks.tekton.dev', ns, t.taskRef.name) : undefined;
    if (!def) {
      return fail(
        'CouldntGetTask',
        `Pipeline ${ns}/${pname} can't be Run; it contains Tasks that don't exist: Couldn't retrieve Task "${t.taskRef?.name}": tasks.tekton.dev "${t.taskRef?.name}" not found`,
      );
    }
    run.taskDefs.set(t.name, def);
  }
  return true;
}

function resolveRun(sim: Sim, run: RunCtl): void {
  const pr = sim.getPr(run.name);
  if (!pr) return;
  let pspec = pr.spec.pipelineSpec;
  let pmeta: any = { name: run.name, labels: {} };
  const ref = pr.spec.pipelineRef;
  if (ref) {
    const p = ref.name ? sim.api.get('pipelines.tekton.dev', sim.ns, ref.name) : undefined;
    if (!p) {
      const why = ref.resolver
        ? `resolver "${ref.resolver}" is not supported by the fake`
        : `pipelines.tekton.dev "${ref.name}" not found`;
      failRun(
        sim,
        run,
        'CouldntGetPipeline',
        `Error retrieving pipeline for pipelinerun ${sim.ns}/${run.name}: ${why}`,
      );
      return;
    }
    pspec = p.spec;
    pmeta = p.metadata;
  }
  if (!validate(sim, run, pr, pspec, pmeta.name)) return;
  run.pipelineSpec = pspec;
  run.params = resolveParams((pspec.params ?? []) as ParamSpec[], pr.spec.params ?? []);
  run.phase = 'running';
  sim.updatePr(run, (p) => {
    const labels = { ...(pmeta.labels ?? {}), ...(p.metadata.labels ?? {}) };
    if (ref?.name) labels['tekton.dev/pipeline'] = ref.name;
    p.metadata.labels = labels;
    p.status.pipelineSpec = pspec;
    p.status.observedGeneration = p.metadata.generation;
  });
  const timeout = parseGoDuration(pr.spec.timeouts?.pipeline ?? sim.settings.defaultTimeout) ?? 0;
  if (timeout > 0) {
    const start = Date.parse(pr.status?.startTime ?? new Date().toISOString());
    sim.after(run.timers, start + timeout - Date.now(), () => timeOut(sim, run, timeout));
  }
  advance(sim, run);
}

function counts(run: RunCtl) {
  const c = { completed: 0, failed: 0, cancelled: 0, skipped: 0, incomplete: 0 };
  for (const t of run.pipelineSpec?.tasks ?? []) {
    const s = run.tasks.get(t.name);
    if (s === 'skipped') c.skipped++;
    else if (!s || s.phase === 'running') c.incomplete++;
    else {
      c.completed++;
      if (s.phase === 'failed') c.failed++;
      if (s.phase === 'cancelled') c.cancelled++;
    }
  }
  return c;
}

/** Start the tasks whose runAfter are satisfied, skip those that can no longer run, finish when all are done. */
export function advance(sim: Sim, run: RunCtl): void {
  if (run.phase !== 'running') return;
  const tasks: any[] = run.pipelineSpec.tasks ?? [];
  let progressed = true;
  while (progressed) {
    progressed = false;
    for (const t of tasks.filter((x) => !run.tasks.has(x.name))) {
      const deps = (t.runAfter ?? []).map((d: string) => run.tasks.get(d));
      const blocked = deps.some(
        (d: TaskCtl | 'skipped' | undefined) =>
          d === 'skipped' || (d && d.phase !== 'running' && d.phase !== 'succeeded'),
      );
      if (run.stopping || blocked) {
        run.tasks.set(t.name, 'skipped');
        progressed = true;
      } else if (
        deps.every((d: TaskCtl | 'skipped' | undefined) => d && d !== 'skipped' && d.phase === 'succeeded')
      ) {
        startTask(sim, run, t);
        progressed = true;
      }
    }
  }
  const c = counts(run);
  if (c.incomplete === 0) {
    finish(sim, run);
    return;
  }
  const reason =
    run.stopping === 'StoppedRunFinally'
      ? 'StoppedRunningFinally'
      : run.stopping === 'CancelledRunFinally'
        ? 'CancelledRunningFinally'
        : c.failed || c.cancelled
          ? 'PipelineRunStopping'
          : 'Running';
  sim.updatePr(run, (p) =>
    setCondition(
      p.status,
      'Unknown',
      reason,
      `Tasks Completed: ${c.completed} (Failed: ${c.failed}, Cancelled ${c.cancelled}), Incomplete: ${c.incomplete}, Skipped: ${c.skipped}`,
    ),
  );
}

function finish(sim: Sim, run: RunCtl): void {
  const c = counts(run);
  const summary = `Tasks Completed: ${c.completed} (Failed: ${c.failed}, Cancelled ${c.cancelled}), Skipped: ${c.skipped}`;
  const results = pipelineResults(sim, run);
  sim.updatePr(run, (p) => {
    if (c.failed) setCondition(p.status, 'False', 'Failed', summary);
    else if (run.stopping)
      setCondition(p.status, 'False', 'Cancelled', `PipelineRun "${run.name}" was cancelled`);
    else if (c.cancelled) setCondition(p.status, 'False', 'Cancelled', summary);
    else setCondition(p.status, 'True', c.skipped ? 'Completed' : 'Succeeded', summary);
    if (results.length) p.status.results = results;
    p.status.completionTime = kubeTime();
  });
  run.phase = 'done';
  sim.clear(run.timers);
}

/** The Pipeline's results, from its tasks' TaskRun results ($(tasks.<t>.results.<r>)). */
function pipelineResults(sim: Sim, run: RunCtl): { name: string; value: unknown }[] {
  const vars: Vars = { strings: {}, arrays: {} };
  for (const [name, t] of run.tasks) {
    if (t === 'skipped') continue;
    for (const r of sim.api.get(TR, sim.ns, t.plan.name)?.status?.results ?? []) {
      vars.strings[`tasks.${name}.results.${r.name}`] = r.value;
    }
  }
  return (run.pipelineSpec?.results ?? []).flatMap((r: any) => {
    const value = substituteString(String(r.value), vars);
    return value.includes('$(tasks.') ? [] : [{ name: r.name, value }];
  });
}

function runningTasks(run: RunCtl): TaskCtl[] {
  return [...run.tasks.values()].filter((t): t is TaskCtl => t !== 'skipped' && t.phase === 'running');
}

function timeOut(sim: Sim, run: RunCtl, timeoutMs: number): void {
  if (run.phase === 'done') return;
  for (const t of runningTasks(run)) cancelTask(sim, t, TIMED_OUT_MSG);
  failRun(
    sim,
    run,
    'PipelineRunTimeout',
    `PipelineRun "${run.name}" failed to finish within "${formatGoDuration(timeoutMs)}"`,
  );
}

/** spec.status changed on a run we know. */
export function onSpecStatus(
  sim: Sim,
  run: RunCtl,
  pr: KubeObject,
  script: (pr: KubeObject) => RunScript,
): void {
  const wanted = pr.spec?.status ?? '';
  if (run.phase === 'done') return;
  if (run.phase === 'pending') {
    if (wanted === 'PipelineRunPending') return;
    sim.runs.delete(run.name);
    pickup(sim, run.name, script);
    return;
  }
  const notStarted = run.phase !== 'running';
  if (wanted === 'Cancelled' || (notStarted && CANCEL.includes(wanted))) {
    for (const t of runningTasks(run)) cancelTask(sim, t, CANCELLED_MSG);
    failRun(sim, run, 'Cancelled', `PipelineRun "${run.name}" was cancelled`);
  } else if (wanted === 'CancelledRunFinally') {
    // Running tasks are cancelled, then `finally` tasks would run (this Pipeline has none).
    run.stopping = 'CancelledRunFinally';
    advance(sim, run);
    sim.after(run.timers, sim.settings.pickupMs, () => {
      for (const t of runningTasks(run)) cancelTask(sim, t, CANCELLED_MSG);
      advance(sim, run);
    });
  } else if (wanted === 'StoppedRunFinally') {
    // Running tasks finish; no new task starts; then `finally` tasks would run.
    run.stopping = 'StoppedRunFinally';
    advance(sim, run);
  }
}

/** Forget a run whose PipelineRun was deleted (garbage collection removes its TaskRuns and pods). */
export function forget(sim: Sim, name: string): void {
  const run = sim.runs.get(name);
  if (!run) return;
  sim.clear(run.timers);
  for (const t of run.tasks.values()) if (t !== 'skipped') sim.clear(t.timers);
  sim.runs.delete(name);
}
