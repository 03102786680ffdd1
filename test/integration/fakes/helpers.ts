// Shared bits for the fake apiserver / Tekton simulator tests.
import * as k8s from '@kubernetes/client-node';
import { expect } from 'vitest';

export const NS = 'image-build';
export const PR = { group: 'tekton.dev', version: 'v1', plural: 'pipelineruns', namespace: NS } as const;
export const TR = { ...PR, plural: 'taskruns' } as const;
export const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

/** The rejection of `p` as a client-node ApiException, with its body parsed as a Kubernetes Status. */
export async function apiError(p: Promise<unknown>): Promise<{ code: number; status: any }> {
  const err = await p.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(k8s.ApiException);
  const e = err as k8s.ApiException<string>;
  return { code: e.code, status: typeof e.body === 'string' && e.body ? JSON.parse(e.body) : e.body };
}

/** The PipelineRun the builds API sends (upstream's params, plus a few optional ones). */
export function buildPipelineRun(
  overrides: { params?: { name: string; value: unknown }[]; spec?: object; labels?: object } = {},
) {
  return {
    apiVersion: 'tekton.dev/v1',
    kind: 'PipelineRun',
    metadata: {
      generateName: 'mytool-buildpacks-pipelinerun-',
      labels: { user: 'mytool', ...overrides.labels },
    },
    spec: {
      pipelineRef: { name: 'buildpacks' },
      params: overrides.params ?? [
        { name: 'BUILDER_IMAGE', value: 'tools-harbor.wmcloud.org/toolforge/heroku-builder:24' },
        { name: 'RUN_IMAGE', value: 'tools-harbor.wmcloud.org/toolforge/heroku-runner:24' },
        { name: 'APP_IMAGE', value: 'tools-harbor.wmcloud.org/tool-mytool/mytool:latest' },
        { name: 'SOURCE_URL', value: 'https://gitlab.wikimedia.org/toolforge-repos/mytool.git' },
        { name: 'SOURCE_REFERENCE', value: '0123456789abcdef0123456789abcdef01234567' },
        { name: 'UNRESOLVED_SOURCE_REFERENCE', value: 'main' },
        { name: 'ENV_VARS', value: ['GREETING=hello', 'EMPTY='] },
        { name: 'REGISTRY_SECRET', value: 'registry-push-mytool-abc12' },
        { name: 'EXTRA_BUILDPACKS', value: ['tools-harbor.wmcloud.org/toolforge/apt-buildpack:1'] },
      ],
      workspaces: [
        { name: 'source-ws', emptyDir: {} },
        { name: 'cache-ws', emptyDir: {} },
      ],
      taskRunTemplate: { serviceAccountName: 'buildpacks-service-account' },
      ...overrides.spec,
    },
  };
}

export function condition(o: any): { status: string; reason: string; message: string } | undefined {
  return (o?.status?.conditions ?? []).find((c: any) => c.type === 'Succeeded');
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
