// Static checks of the production manifests: every YAML document in tekton/ and deploy/ parses and has
// the shape we rely on, and the PipelineRuns the engine creates fit the Pipeline exactly.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { PARAMS, PIPELINE, PIPELINE_TASK, RESULTS, WORKSPACES } from '../src/engines/tekton/names.ts';
import { toPipelineRun } from '../src/engines/tekton/pipeline-run.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');

function docs(dir: string): { file: string; doc: any }[] {
  return readdirSync(path.join(ROOT, dir))
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) =>
      parseAllDocuments(readFileSync(path.join(ROOT, dir, f), 'utf8')).map((d) => {
        if (d.errors.length) throw new Error(`${dir}/${f}: ${d.errors[0]?.message}`);
        return { file: `${dir}/${f}`, doc: d.toJS() };
      }),
    );
}

const Described = z.object({ name: z.string().min(1), description: z.string().min(10) });
const Param = Described.extend({
  type: z.enum(['string', 'array', 'object']).default('string'),
  default: z.unknown().optional(),
});
const TektonSpec = z.object({
  params: z.array(Param),
  workspaces: z.array(Described.extend({ optional: z.boolean().optional() })),
  results: z.array(Described),
});
const KubeObject = z.object({
  apiVersion: z.string().min(1),
  kind: z.string().min(1),
  metadata: z.object({ name: z.string().min(1) }),
});
const Kustomization = z.object({ resources: z.array(z.string()) });

const tekton = docs('tekton');
const pipeline = tekton.find((d) => d.doc.kind === 'Pipeline')?.doc;
const task = tekton.find((d) => d.doc.kind === 'Task')?.doc;

describe('manifests', () => {
  it.each([...docs('tekton'), ...docs('deploy')].map((d) => [d.file, d.doc.kind, d.doc] as const))(
    '%s (%s) has a valid shape',
    (_f, kind, doc) => {
      if (kind === 'Kustomization' || doc.apiVersion?.startsWith('kustomize')) {
        Kustomization.parse(doc);
        return;
      }
      KubeObject.parse(doc);
      if (kind === 'Pipeline' || kind === 'Task') {
        expect(doc.apiVersion).toBe('tekton.dev/v1');
        TektonSpec.parse(doc.spec);
      }
    },
  );

  it.each(['tekton', 'deploy'])('%s/kustomization.yaml lists files that exist, and every manifest', (dir) => {
    const k = Kustomization.parse(docs(dir).find((d) => d.file.endsWith('kustomization.yaml'))?.doc);
    for (const r of k.resources) expect(existsSync(path.join(ROOT, dir, r)), r).toBe(true);
    const manifests = readdirSync(path.join(ROOT, dir)).filter(
      (f) => f.endsWith('.yaml') && f !== 'kustomization.yaml',
    );
    expect(k.resources.sort()).toEqual(manifests.sort());
  });
});

describe('what the engine sends fits the Pipeline', () => {
  const run = toPipelineRun(
    {
      tool: 'mytool',
      params: {
        source_url: 'https://example.org/x.git',
        ref: 'main',
        envvars: { API_KEY: 'x' },
        use_latest_versions: false,
        use_deprecated_versions: false,
      },
      imageName: 'web',
      resolvedRef: 'a'.repeat(40),
      builderImage: 'registry/builder:1',
      runImage: 'registry/run:1',
      destination: 'registry/tool-mytool/web:latest',
    },
    {
      namespace: 'image-build',
      serviceAccount: 'buildpacks-service-account',
      timeoutSeconds: 1800,
      cacheImage: () => 'registry/tool-mytool/web-cache',
      extraBuildpacks: ['registry/toolforge/buildpack-apt:1.0.0'],
      registrySecret: () => 'secret-x',
    },
    { pending: false },
  ) as any;

  it('names the Pipeline and task the YAML defines', () => {
    expect(run.spec.pipelineRef.name).toBe(PIPELINE);
    expect(pipeline.metadata.name).toBe(PIPELINE);
    expect(pipeline.spec.tasks.map((t: any) => t.name)).toContain(PIPELINE_TASK);
    expect(pipeline.spec.tasks[0].taskRef.name).toBe(task.metadata.name);
    expect(pipeline.spec.results.map((r: any) => r.name).sort()).toEqual(Object.values(RESULTS).sort());
    expect(task.spec.results.map((r: any) => r.name).sort()).toEqual(Object.values(RESULTS).sort());
  });

  it('every param sent is declared with the same type, and every required one is sent', () => {
    const declared = new Map<string, any>(pipeline.spec.params.map((p: any) => [p.name, p]));
    for (const p of run.spec.params) {
      expect(declared.has(p.name), p.name).toBe(true);
      expect(Array.isArray(p.value) ? 'array' : 'string', p.name).toBe(declared.get(p.name).type ?? 'string');
    }
    const sent = new Set(run.spec.params.map((p: any) => p.name));
    for (const p of pipeline.spec.params)
      if (p.default === undefined) expect(sent.has(p.name), p.name).toBe(true);
    expect([...sent].sort()).toEqual(Object.values(PARAMS).sort());
  });

  it('workspaces bound are the ones declared, required ones included', () => {
    const bound = run.spec.workspaces.map((w: any) => w.name).sort();
    expect(bound).toEqual(pipeline.spec.workspaces.map((w: any) => w.name).sort());
    expect(bound).toEqual(Object.values(WORKSPACES).sort());
  });

  it('the Pipeline passes every Task param it declares, and the Task declares each one', () => {
    const taskParams = new Set(task.spec.params.map((p: any) => p.name));
    const passed = pipeline.spec.tasks[0].params.map((p: any) => p.name);
    for (const p of passed) expect(taskParams.has(p), p).toBe(true);
    for (const p of pipeline.spec.params) expect(passed, p.name).toContain(p.name);
  });

  it('registry credentials are mounted only into the lifecycle steps that talk to the registry', () => {
    const withCreds = task.spec.steps
      .filter((s: any) => (s.volumeMounts ?? []).some((m: any) => m.name === 'registry-credentials'))
      .map((s: any) => s.name);
    expect(withCreds).toEqual(['analyze', 'restore', 'export']);
    for (const s of task.spec.steps) {
      if (s.name === 'detect' || s.name === 'build') {
        expect(JSON.stringify(s)).not.toContain('registry-credentials');
        expect(JSON.stringify(s)).not.toContain('DOCKER_CONFIG');
      }
    }
  });

  it('user values reach scripts through environment variables, never by substitution into a script', () => {
    for (const s of task.spec.steps) if (s.script) expect(s.script, s.name).not.toMatch(/\$\(params\./);
  });
});

it('tekton/README.md documents every param, result and workspace', () => {
  const readme = readFileSync(path.join(ROOT, 'tekton/README.md'), 'utf8');
  for (const doc of [pipeline, task]) {
    for (const x of [...doc.spec.params, ...doc.spec.results, ...doc.spec.workspaces])
      expect(readme, x.name).toContain(`\`${x.name}\``);
  }
});
