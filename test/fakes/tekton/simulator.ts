// A Tekton controller stand-in for tests (not Tekton): it reconciles the PipelineRuns of one namespace
// of the fake apiserver the way Tekton Pipelines would (v0.59 LTS by default), from the real
// tekton/*.yaml, without running anything. See test/fakes/README.md.
import path from 'node:path';
import type { FakeApiServer } from '../kube-apiserver/server.ts';
import type { KubeObject } from '../kube-apiserver/store.ts';
import { pipelineRunAdmission } from './admission.ts';
import { PR, type RunScript, Sim, type StepContext } from './context.ts';
import { loadYaml } from './definitions.ts';
import { advance, forget, onSpecStatus, pickup } from './runs.ts';

export type { RunScript, StepContext } from './context.ts';

const REPO = path.resolve(import.meta.dirname, '../../..');

export interface TektonSimulatorOptions {
  /** The namespace whose PipelineRuns are reconciled and where the Pipeline and Task are installed. */
  namespace: string;
  /** Default: <repo>/tekton/pipeline.yaml and <repo>/tekton/task-buildpacks-phases.yaml. */
  pipelineFile?: string;
  taskFile?: string;
  /** Put the Pipeline and Task into the store, as `kubectl apply` would. Default true. */
  install?: boolean;
  /** The APP_IMAGE_DIGEST result (default: a sha256 derived from the run's uid). */
  digest?: (pr: KubeObject) => string;
  /** A step's log lines (default: `step <name> running`, `step <name> done`; results: `Built image …`). */
  logs?: (ctx: StepContext) => string[];
  /** Per-run behaviour, decided when the run is picked up. */
  script?: (pr: KubeObject) => RunScript | undefined;
  /** Default step duration (ms). Default 60. */
  stepMs?: number;
  /** How long the init containers take (ms). Default 20. */
  initMs?: number;
  /** The controller's reaction delay (ms). Default 5. */
  pickupMs?: number;
  /** The pipeline timeout of runs that set none (Tekton's default-timeout-minutes: 60). Default '1h'. */
  defaultTimeout?: string;
  /** 'controller' (default, as Tekton does): bad params make the run fail (ParameterMissing,
   * ParameterTypeMismatch) and undeclared params are ignored. 'admission': such runs are refused at
   * create with 422 Invalid naming the param (stricter than Tekton). */
  paramValidation?: 'controller' | 'admission';
  /** TaskRun failure reasons: 'generic' (default; Tekton before 1.12: Failed) or 'specific' (1.12+:
   * StepFailed, StepOOM, PodEvicted, with the container's reason in the message). */
  failureReasons?: 'generic' | 'specific';
  /** The keep-pod-on-cancel feature flag. Default false: pods of cancelled or timed-out runs are deleted. */
  keepPodOnCancel?: boolean;
}

export type RunState =
  | 'done'
  | 'Started'
  | 'Running'
  | 'Succeeded'
  | 'Failed'
  | 'Cancelled'
  | 'PipelineRunTimeout'
  | (string & {});

export interface TektonSimulator extends AsyncDisposable {
  readonly namespace: string;
  /** The Pipeline and Task as read from the YAML files. */
  readonly pipeline: KubeObject;
  readonly task: KubeObject;
  /** Errors thrown inside the simulator's timers (recorded, never thrown into a test). */
  readonly errors: Error[];
  /** Script the runs whose name is `match` (or for which it returns true), from their pickup on. */
  script(match: string | ((pr: KubeObject) => boolean), script: RunScript): void;
  /** The PipelineRun once its Succeeded condition has this reason ('done': status True or False). */
  waitFor(
    name: string,
    until?: RunState | ((pr: KubeObject) => boolean),
    timeoutMs?: number,
  ): Promise<KubeObject>;
  /** The run's pod once the step's container is in that state. */
  waitForStep(
    name: string,
    step: string,
    state: 'waiting' | 'running' | 'terminated',
    timeoutMs?: number,
  ): Promise<KubeObject>;
  stop(): Promise<void>;
}

export async function startTektonSimulator(
  api: FakeApiServer,
  opts: TektonSimulatorOptions,
): Promise<TektonSimulator> {
  const ns = opts.namespace;
  const sim = new Sim(api, ns, {
    stepMs: opts.stepMs ?? 60,
    initMs: opts.initMs ?? 20,
    pickupMs: opts.pickupMs ?? 5,
    defaultTimeout: opts.defaultTimeout ?? '1h',
    specificReasons: opts.failureReasons === 'specific',
    keepPodOnCancel: opts.keepPodOnCancel ?? false,
    digest: opts.digest,
    logs: opts.logs,
  });
  sim.advance = (run) => advance(sim, run);
  const pipeline = loadYaml(opts.pipelineFile ?? path.join(REPO, 'tekton/pipeline.yaml')) as KubeObject;
  const task = loadYaml(opts.taskFile ?? path.join(REPO, 'tekton/task-buildpacks-phases.yaml')) as KubeObject;
  if (opts.install !== false) {
    api.put('pipelines.tekton.dev', { ...pipeline, metadata: { ...pipeline.metadata, namespace: ns } });
    api.put('tasks.tekton.dev', { ...task, metadata: { ...task.metadata, namespace: ns } });
  }

  const rules: { match: string | ((pr: KubeObject) => boolean); script: RunScript }[] = [];
  const scriptFor = (pr: KubeObject): RunScript => {
    const rule = rules.find((r) =>
      typeof r.match === 'string' ? r.match === pr.metadata.name : r.match(pr),
    );
    return { ...(opts.script?.(pr) ?? {}), ...(rule?.script ?? {}) };
  };
  const pending = new Set<NodeJS.Timeout>();
  const pickupLater = (name: string) =>
    sim.after(pending, sim.settings.pickupMs, () => pickup(sim, name, scriptFor));

  const unhook = api.admission('pipelineruns', (req) =>
    req.resource.group === 'tekton.dev'
      ? pipelineRunAdmission({
          defaultTimeout: sim.settings.defaultTimeout,
          paramValidation: opts.paramValidation ?? 'controller',
          lookupPipeline: (n, name) => api.get('pipelines.tekton.dev', n, name),
        })(req)
      : undefined,
  );
  const unsubscribe = api.onChange((e) => {
    if (sim.stopped || e.object.metadata.namespace !== ns) return;
    const { group, plural } = e.resource;
    const name = e.object.metadata.name;
    if (group === 'tekton.dev' && plural === 'pipelineruns') {
      const run = sim.runs.get(name);
      if (e.type === 'ADDED' && !run) pickupLater(name);
      else if (e.type === 'DELETED') forget(sim, name);
      else if (
        e.type === 'MODIFIED' &&
        run &&
        (e.oldObject?.spec?.status ?? '') !== (e.object.spec?.status ?? '')
      ) {
        sim.guard(() => onSpecStatus(sim, run, e.object, scriptFor))();
      }
    } else if (group === '' && plural === 'pods' && e.type === 'DELETED') {
      // A pod deleted by someone else: its steps stop here (real Tekton would make a new pod); the
      // run then ends by timeout or cancellation.
      for (const run of sim.runs.values()) {
        for (const t of run.tasks.values())
          if (t !== 'skipped' && t.plan.podName === name) sim.clear(t.timers);
      }
    }
  });
  for (const pr of api.objects(PR, ns)) pickupLater(pr.metadata.name);

  const self: TektonSimulator = {
    namespace: ns,
    pipeline,
    task,
    errors: sim.errors,
    script(match, script) {
      rules.unshift({ match, script });
    },
    waitFor(name, until = 'done', timeoutMs = 10_000) {
      const pred =
        typeof until === 'function'
          ? until
          : (pr: KubeObject) => {
              const c = (pr.status?.conditions ?? []).find((x: any) => x.type === 'Succeeded');
              return !!c && (until === 'done' ? c.status !== 'Unknown' : c.reason === until);
            };
      return api.waitFor(PR, ns, name, (o) => !!o && pred(o), timeoutMs) as Promise<KubeObject>;
    },
    waitForStep(name, step, state, timeoutMs = 10_000) {
      const container = `step-${step}`;
      const find = () =>
        api
          .objects('pods', ns, { labelSelector: `tekton.dev/pipelineRun=${name}` })
          .find((p) =>
            (p.status?.containerStatuses ?? []).some((c: any) => c.name === container && c.state?.[state]),
          );
      return new Promise((resolve, reject) => {
        const check = () => {
          const pod = find();
          if (!pod) return;
          clearTimeout(timer);
          off();
          resolve(pod);
        };
        const timer = setTimeout(() => {
          off();
          reject(new Error(`tekton simulator: timed out waiting for ${container} of ${name} to be ${state}`));
        }, timeoutMs);
        const off = api.onChange(check);
        check();
      });
    },
    async stop() {
      if (sim.stopped) return;
      sim.stopped = true;
      unhook();
      unsubscribe();
      sim.clear(pending);
      for (const name of [...sim.runs.keys()]) forget(sim, name);
    },
    [Symbol.asyncDispose]() {
      return self.stop();
    },
  };
  return self;
}
