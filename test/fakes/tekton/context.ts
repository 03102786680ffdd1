// State shared by the simulator's parts: options, per-run and per-task bookkeeping, timers, and the
// small helpers that read and write PipelineRuns in the fake apiserver.
import type { FakeApiServer } from '../kube-apiserver/server.ts';
import { type KubeObject, kubeTime } from '../kube-apiserver/store.ts';
import type { TaskRunPlan } from './pod.ts';

export const PR = 'pipelineruns.tekton.dev';
export const TR = 'taskruns.tekton.dev';

/** How one PipelineRun behaves. Step names are the Task's (clone, prepare, …), not container names. */
export interface RunScript {
  /** How long the pod takes to initialize (ms): until then every step container waits (PodInitializing). */
  initMs?: number;
  /** How long each step runs (ms), overall or per step. */
  stepMs?: number | Record<string, number>;
  /** Log lines per step (replacing the default lines). */
  logs?: Record<string, string[]>;
  /** This step exits with this code (default 1); later steps are skipped, the run fails. */
  fail?: { step: string; exitCode?: number };
  /** This step is OOM-killed (exit 137, reason OOMKilled). */
  oomKilled?: { step: string };
  /** The pod is evicted while this step runs (pod phase Failed, reason Evicted). */
  evicted?: { step: string; message?: string };
  /** This step's image can't be pulled (ImagePullBackOff; default the first step): the pod stays
   * Pending and the run hangs at that step until it times out or is cancelled. */
  imagePullBackOff?: { step?: string };
  /** The image digest the results report (default: opts.digest). */
  digest?: string;
}

export interface StepContext {
  step: string;
  container: string;
  pipelineRun: KubeObject;
  taskRun: string;
  pod: string;
  /** The Task's params as resolved for this run. */
  params: Record<string, unknown>;
}

export interface Settings {
  stepMs: number;
  initMs: number;
  pickupMs: number;
  defaultTimeout: string;
  specificReasons: boolean;
  keepPodOnCancel: boolean;
  digest?: (pr: KubeObject) => string;
  logs?: (ctx: StepContext) => string[];
}

export interface ContainerModel {
  name: string;
  image: string;
  init: boolean;
  /** A Kubernetes ContainerState: { waiting } | { running } | { terminated }. */
  state: any;
  id?: string;
  /** Tekton's step terminationReason when it differs from the container's reason (e.g. Skipped). */
  terminationReason?: string;
}

export interface TaskCtl {
  plan: TaskRunPlan;
  pipelineTask: string;
  phase: 'running' | 'succeeded' | 'failed' | 'cancelled';
  pod: { phase: string; reason?: string; message?: string; startTime: string; containers: ContainerModel[] };
  timers: Set<NodeJS.Timeout>;
  /** When each step began executing (its entrypoint's StartedAt). */
  stepStarted: Record<string, string>;
}

export interface RunCtl {
  name: string;
  uid: string;
  script: RunScript;
  timers: Set<NodeJS.Timeout>;
  phase: 'pending' | 'starting' | 'running' | 'done';
  stopping?: 'StoppedRunFinally' | 'CancelledRunFinally';
  pipelineSpec?: any;
  tasks: Map<string, TaskCtl | 'skipped'>;
  taskDefs: Map<string, KubeObject>;
  params?: Record<string, unknown>;
}

export class Sim {
  readonly api: FakeApiServer;
  readonly ns: string;
  readonly settings: Settings;
  readonly runs = new Map<string, RunCtl>();
  readonly errors: Error[] = [];
  stopped = false;
  /** Called when a task ends, to start what may follow or finish the run (set by runs.ts). */
  advance: (run: RunCtl) => void = () => undefined;

  constructor(api: FakeApiServer, ns: string, settings: Settings) {
    this.api = api;
    this.ns = ns;
    this.settings = settings;
  }

  /** Run `fn` unless stopped; an exception is recorded in `errors`, never thrown into a test. */
  guard(fn: () => void): () => void {
    return () => {
      if (this.stopped) return;
      try {
        fn();
      } catch (e) {
        this.errors.push(e as Error);
      }
    };
  }

  after(timers: Set<NodeJS.Timeout>, ms: number, fn: () => void): void {
    const t = setTimeout(
      () => {
        timers.delete(t);
        this.guard(fn)();
      },
      Math.min(Math.max(0, ms), 2 ** 31 - 1),
    );
    timers.add(t);
  }

  clear(timers: Set<NodeJS.Timeout>): void {
    for (const t of timers) clearTimeout(t);
    timers.clear();
  }

  getPr(name: string): KubeObject | undefined {
    return this.api.get(PR, this.ns, name);
  }

  /** Read-modify-write the run's PipelineRun (status included); a no-op once it is gone or replaced. */
  updatePr(run: RunCtl, fn: (pr: KubeObject) => void): void {
    const pr = this.getPr(run.name);
    if (!pr || pr.metadata.uid !== run.uid) return;
    pr.status ??= {};
    fn(pr);
    this.api.put(PR, pr);
  }
}

/** Set the Succeeded condition; lastTransitionTime moves only when something changed. */
export function setCondition(
  status: any,
  s: 'True' | 'False' | 'Unknown',
  reason: string,
  message = '',
): void {
  const prev = (status.conditions ?? []).find((c: any) => c.type === 'Succeeded');
  const changed = !prev || prev.status !== s || prev.reason !== reason || prev.message !== message;
  status.conditions = [
    {
      type: 'Succeeded',
      status: s,
      reason,
      message,
      lastTransitionTime: changed ? kubeTime() : prev.lastTransitionTime,
    },
  ];
}

export function isDone(o: KubeObject): boolean {
  return (o.status?.conditions ?? []).some((c: any) => c.type === 'Succeeded' && c.status !== 'Unknown');
}
