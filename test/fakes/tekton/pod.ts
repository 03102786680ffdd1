// The TaskRun and Pod the Tekton controller would make for a Pipeline task: names, labels, owner
// references, entrypoint-wrapped step containers with params substituted, volumes and workspaces.
import { randomBytes } from 'node:crypto';
import type { KubeObject } from '../kube-apiserver/store.ts';
import { childName, type Param, resolveParams } from './definitions.ts';
import {
  mergeVars,
  paramVars,
  substituteArray,
  substituteString,
  substituteValue,
  type Vars,
} from './substitute.ts';

export const ENTRYPOINT_IMAGE = 'ghcr.io/tektoncd/pipeline/cmd/entrypoint:v0.59.6';
export const SCRIPTS_IMAGE = 'cgr.dev/chainguard/busybox:latest';

export interface StepPlan {
  name: string;
  container: string;
  image: string;
}

export interface TaskRunPlan {
  name: string;
  podName: string;
  pipelineTask: any;
  task: KubeObject;
  /** The PipelineRun's params resolved against the Pipeline (given or default). */
  pipelineParams: Record<string, unknown>;
  /** The Task's params resolved (the Pipeline task's values after substitution, else the Task's defaults). */
  taskParams: Record<string, unknown>;
  serviceAccountName: string;
  podTemplate: any;
  workspaces: any[];
  steps: StepPlan[];
}

const rand = (n: number) => randomBytes(n).toString('hex').slice(0, n);
const owner = (o: KubeObject) => ({
  apiVersion: o.apiVersion!,
  kind: o.kind!,
  name: o.metadata.name,
  uid: o.metadata.uid,
  controller: true,
  blockOwnerDeletion: true,
});

/** Plan the TaskRun of one Pipeline task: its name, the Task's params (after substitution) and steps. */
export function planTaskRun(
  pr: KubeObject,
  pipelineTask: any,
  task: KubeObject,
  prParams: Record<string, unknown>,
): TaskRunPlan {
  const prVars = mergeVars(paramVars(prParams), contextVars(pr));
  const given: Param[] = (pipelineTask.params ?? []).map((p: Param) => ({
    name: p.name,
    value: substituteValue(p.value, prVars),
  }));
  const taskParams = resolveParams(task.spec?.params ?? [], given);
  const runSpec =
    (pr.spec.taskRunSpecs ?? []).find((s: any) => s.pipelineTaskName === pipelineTask.name) ?? {};
  const name = childName(pr.metadata.name, `-${pipelineTask.name}`);
  const bindings = new Map<string, any>((pr.spec.workspaces ?? []).map((w: any) => [w.name, w]));
  const workspaces = (pipelineTask.workspaces ?? []).flatMap((w: any) => {
    const b = bindings.get(w.workspace ?? w.name);
    if (!b) return [];
    const { name: _n, ...source } = b;
    return [{ ...source, name: w.name, ...(w.subPath ? { subPath: w.subPath } : {}) }];
  });
  return {
    name,
    podName: childName(name, '-pod'),
    pipelineTask,
    task,
    pipelineParams: prParams,
    taskParams,
    serviceAccountName:
      runSpec.serviceAccountName ?? pr.spec.taskRunTemplate?.serviceAccountName ?? 'default',
    podTemplate: runSpec.podTemplate ?? pr.spec.taskRunTemplate?.podTemplate,
    workspaces,
    steps: (task.spec?.steps ?? []).map((s: any, i: number) => ({
      name: s.name ?? `unnamed-${i}`,
      container: `step-${s.name ?? `unnamed-${i}`}`,
      image: substituteString(s.image ?? '', paramVars(taskParams)),
    })),
  };
}

function contextVars(pr: KubeObject): Vars {
  return {
    strings: {
      'context.pipelineRun.name': pr.metadata.name,
      'context.pipelineRun.namespace': pr.metadata.namespace ?? '',
      'context.pipelineRun.uid': pr.metadata.uid,
      'context.pipeline.name': pr.spec.pipelineRef?.name ?? '',
    },
    arrays: {},
  };
}

export function makeTaskRun(pr: KubeObject, plan: TaskRunPlan, timeout: string | undefined): KubeObject {
  const labels: Record<string, string> = {
    ...(pr.metadata.labels ?? {}),
    'tekton.dev/pipelineRun': pr.metadata.name,
    'tekton.dev/pipelineRunUID': pr.metadata.uid,
    'tekton.dev/pipelineTask': plan.pipelineTask.name,
    'tekton.dev/memberOf': 'tasks',
    ...(plan.task.metadata.labels ?? {}),
    'tekton.dev/task': plan.task.metadata.name,
  };
  if (pr.spec.pipelineRef?.name) labels['tekton.dev/pipeline'] = pr.spec.pipelineRef.name;
  return {
    apiVersion: 'tekton.dev/v1',
    kind: 'TaskRun',
    metadata: {
      name: plan.name,
      namespace: pr.metadata.namespace,
      labels,
      annotations: { ...(pr.metadata.annotations ?? {}) },
      ownerReferences: [owner(pr)],
    } as unknown as KubeObject['metadata'],
    spec: {
      params: (plan.pipelineTask.params ?? []).map((p: Param) => ({
        name: p.name,
        value: substituteValue(p.value, mergeVars(paramVars(plan.pipelineParams), contextVars(pr))),
      })),
      serviceAccountName: plan.serviceAccountName,
      taskRef: { kind: 'Task', name: plan.task.metadata.name },
      ...(timeout ? { timeout } : {}),
      ...(plan.podTemplate ? { podTemplate: plan.podTemplate } : {}),
      workspaces: plan.workspaces,
    },
  };
}

function mergeEnv(template: any[] = [], step: any[] = []): any[] {
  const byName = new Map(step.map((e) => [e.name, e]));
  return [
    ...template.map((e) => byName.get(e.name) ?? e),
    ...step.filter((e) => !template.some((t) => t.name === e.name)),
  ];
}

function deepSubstitute(v: any, vars: Vars): any {
  if (typeof v === 'string') return substituteString(v, vars);
  if (Array.isArray(v)) return v.map((x) => deepSubstitute(x, vars));
  if (v && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, deepSubstitute(x, vars)]));
  return v;
}

export function makePod(pr: KubeObject, tr: KubeObject, plan: TaskRunPlan): KubeObject {
  const spec = plan.task.spec ?? {};
  const wsDecls: any[] = spec.workspaces ?? [];
  const volumes: any[] = [];
  const wsMounts: any[] = [];
  const vars: Vars = mergeVars(paramVars(plan.taskParams), contextVars(pr), {
    strings: {
      'context.taskRun.name': tr.metadata.name,
      'context.taskRun.namespace': tr.metadata.namespace ?? '',
      'context.taskRun.uid': tr.metadata.uid,
      'context.task.name': plan.task.metadata.name,
    },
    arrays: {},
  });
  for (const decl of wsDecls) {
    const b = plan.workspaces.find((w) => w.name === decl.name);
    const mountPath = decl.mountPath ?? `/workspace/${decl.name}`;
    vars.strings[`workspaces.${decl.name}.bound`] = String(!!b);
    vars.strings[`workspaces.${decl.name}.path`] = b ? mountPath : '';
    vars.strings[`workspaces.${decl.name}.volume`] = '';
    if (!b) continue;
    const vol = `ws-${rand(5)}`;
    vars.strings[`workspaces.${decl.name}.volume`] = vol;
    const { name: _n, subPath, ...source } = b;
    if (source.volumeClaimTemplate) {
      volumes.push({ name: vol, persistentVolumeClaim: { claimName: `pvc-${rand(10)}` } });
    } else volumes.push({ name: vol, ...source });
    wsMounts.push({
      name: vol,
      mountPath,
      ...(subPath ? { subPath } : {}),
      ...(decl.readOnly ? { readOnly: true } : {}),
    });
  }
  for (const r of spec.results ?? []) vars.strings[`results.${r.name}.path`] = `/tekton/results/${r.name}`;
  for (const v of spec.volumes ?? []) volumes.push(deepSubstitute(v, vars));

  const internal = [
    { name: 'tekton-internal-workspace', emptyDir: {} },
    { name: 'tekton-internal-home', emptyDir: {} },
    { name: 'tekton-internal-results', emptyDir: {} },
    { name: 'tekton-internal-steps', emptyDir: {} },
    { name: 'tekton-internal-scripts', emptyDir: {} },
    { name: 'tekton-internal-bin', emptyDir: {} },
    {
      name: 'tekton-internal-downward',
      downwardAPI: {
        items: [{ path: 'ready', fieldRef: { fieldPath: "metadata.annotations['tekton.dev/ready']" } }],
      },
    },
    ...plan.steps.map((_s, i) => ({ name: `tekton-internal-run-${i}`, emptyDir: {} })),
  ];
  const template = spec.stepTemplate ?? {};
  const scripts: { path: string; body: string }[] = [];
  const podEnv: any[] = plan.podTemplate?.env ?? [];
  const resultNames = (spec.results ?? []).map((r: any) => r.name).join(',');
  const containers = (spec.steps ?? []).map((raw: any, i: number) => {
    const s = { ...template, ...raw, env: mergeEnv(template.env, raw.env) };
    const plannedStep = plan.steps[i]!;
    let entrypoint: string;
    let rest: string[];
    if (s.script) {
      const path = `/tekton/scripts/script-${i}-${rand(5)}`;
      scripts.push({ path, body: substituteString(s.script, vars) });
      entrypoint = path;
      rest = substituteArray(s.args ?? [], vars);
    } else {
      const cmd = substituteArray(s.command ?? [], vars);
      entrypoint = cmd[0] ?? '';
      rest = [...cmd.slice(1), ...substituteArray(s.args ?? [], vars)];
    }
    const waitArgs =
      i === 0
        ? ['-wait_file', '/tekton/downward/ready', '-wait_file_content']
        : ['-wait_file', `/tekton/run/${i - 1}/out`];
    return {
      name: plannedStep.container,
      image: plannedStep.image,
      command: ['/tekton/bin/entrypoint'],
      args: [
        ...waitArgs,
        '-post_file',
        `/tekton/run/${i}/out`,
        '-termination_path',
        '/tekton/termination',
        '-step_metadata_dir',
        `/tekton/run/${i}/status`,
        ...(resultNames ? ['-results', resultNames] : []),
        '-entrypoint',
        entrypoint,
        '--',
        ...rest,
      ],
      env: [...podEnv, ...s.env.map((e: any) => deepSubstitute(e, vars))],
      volumeMounts: [
        ...(s.volumeMounts ?? []).map((m: any) => deepSubstitute(m, vars)),
        ...wsMounts,
        { name: 'tekton-internal-scripts', mountPath: '/tekton/scripts', readOnly: true },
        ...plan.steps.map((_x, j) => ({
          name: `tekton-internal-run-${j}`,
          mountPath: `/tekton/run/${j}`,
          ...(j === i ? {} : { readOnly: true }),
        })),
        { name: 'tekton-internal-bin', mountPath: '/tekton/bin', readOnly: true },
        { name: 'tekton-internal-workspace', mountPath: '/workspace' },
        { name: 'tekton-internal-home', mountPath: '/tekton/home' },
        { name: 'tekton-internal-results', mountPath: '/tekton/results' },
        { name: 'tekton-internal-steps', mountPath: '/tekton/steps', readOnly: true },
        ...(i === 0
          ? [{ name: 'tekton-internal-downward', mountPath: '/tekton/downward', readOnly: true }]
          : []),
      ],
      ...(s.securityContext ? { securityContext: s.securityContext } : {}),
      ...(s.workingDir ? { workingDir: substituteString(s.workingDir, vars) } : {}),
      ...(s.resources || s.computeResources ? { resources: s.computeResources ?? s.resources } : {}),
      terminationMessagePath: '/tekton/termination',
      terminationMessagePolicy: 'File',
    };
  });
  const placeScripts = scripts
    .map(
      (s) =>
        `scriptfile="${s.path}"\ntouch \${scriptfile} && chmod +x \${scriptfile}\ncat > \${scriptfile} << '_EOF_'\n${Buffer.from(s.body).toString('base64')}\n_EOF_\n/tekton/bin/entrypoint decode-script "\${scriptfile}"\n`,
    )
    .join('');
  const pt = plan.podTemplate ?? {};
  const pick = (keys: string[]) =>
    Object.fromEntries(keys.filter((k) => pt[k] !== undefined).map((k) => [k, pt[k]]));
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: plan.podName,
      namespace: tr.metadata.namespace,
      labels: {
        ...(tr.metadata.labels ?? {}),
        'tekton.dev/taskRun': tr.metadata.name,
        'tekton.dev/taskRunUID': tr.metadata.uid,
        'app.kubernetes.io/managed-by': 'tekton-pipelines',
      },
      annotations: {
        ...(tr.metadata.annotations ?? {}),
        'pipeline.tekton.dev/release': 'v0.59.6',
        'tekton.dev/ready': 'READY',
      },
      ownerReferences: [owner(tr)],
    } as unknown as KubeObject['metadata'],
    spec: {
      serviceAccountName: plan.serviceAccountName,
      restartPolicy: 'Never',
      enableServiceLinks: false,
      initContainers: [
        {
          name: 'prepare',
          image: ENTRYPOINT_IMAGE,
          command: [
            '/ko-app/entrypoint',
            'init',
            '/ko-app/entrypoint',
            '/tekton/bin/entrypoint',
            ...plan.steps.map((s) => s.container),
          ],
          volumeMounts: [
            { name: 'tekton-internal-bin', mountPath: '/tekton/bin' },
            { name: 'tekton-internal-steps', mountPath: '/tekton/steps' },
          ],
        },
        ...(scripts.length
          ? [
              {
                name: 'place-scripts',
                image: SCRIPTS_IMAGE,
                command: ['sh'],
                args: ['-c', placeScripts],
                volumeMounts: [
                  { name: 'tekton-internal-scripts', mountPath: '/tekton/scripts' },
                  { name: 'tekton-internal-bin', mountPath: '/tekton/bin' },
                ],
              },
            ]
          : []),
      ],
      containers,
      volumes: [...volumes, ...(pt.volumes ?? []), ...internal],
      ...pick([
        'nodeSelector',
        'tolerations',
        'affinity',
        'securityContext',
        'imagePullSecrets',
        'runtimeClassName',
        'priorityClassName',
        'schedulerName',
        'hostAliases',
        'dnsPolicy',
        'dnsConfig',
        'automountServiceAccountToken',
      ]),
    },
    status: {},
  };
}

/** A step container's original command line (what follows the entrypoint wrapper's `-entrypoint`). */
export function stepCommand(container: any): string[] {
  const args: string[] = container.args ?? [];
  const i = args.indexOf('-entrypoint');
  const sep = args.indexOf('--', i);
  return i < 0 || sep < 0 ? [...(container.command ?? []), ...args] : [args[i + 1]!, ...args.slice(sep + 1)];
}

/** The script bodies place-scripts writes, by path (decoded). */
export function podScripts(pod: KubeObject): Record<string, string> {
  const init = (pod.spec?.initContainers ?? []).find((c: any) => c.name === 'place-scripts');
  const text: string = init?.args?.[1] ?? '';
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/scriptfile="([^"]+)"\n[^\n]*\ncat > [^\n]*\n([A-Za-z0-9+/=]*)\n_EOF_/g)) {
    out[m[1]!] = Buffer.from(m[2]!, 'base64').toString('utf8');
  }
  return out;
}
