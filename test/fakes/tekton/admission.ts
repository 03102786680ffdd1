// What Tekton's webhooks do to a PipelineRun on create/update: defaulting (timeouts, service account,
// managed-by label) and the validation that needs no other object (validation.webhook.pipeline.tekton.dev
// answers 400 BadRequest). Checking params against the Pipeline is the controller's job in real Tekton
// (the run fails with ParameterMissing/ParameterTypeMismatch); the optional 'admission' mode refuses such
// runs here instead, with 422.
import type { AdmissionDenial, AdmissionRequest } from '../kube-apiserver/handlers.ts';
import { deepEqual, type KubeObject } from '../kube-apiserver/store.ts';
import { checkParams, type ParamSpec } from './definitions.ts';
import { formatGoDuration, parseGoDuration } from './durations.ts';

export const WEBHOOK = 'validation.webhook.pipeline.tekton.dev';
const SPEC_STATUSES = ['', 'Cancelled', 'CancelledRunFinally', 'StoppedRunFinally', 'PipelineRunPending'];

const deny = (message: string): AdmissionDenial => ({
  allowed: false,
  webhook: WEBHOOK,
  message: `validation failed: ${message}`,
});

export interface AdmissionConfig {
  defaultTimeout: string;
  paramValidation: 'controller' | 'admission';
  /** The Pipeline a run refers to (strict mode only). */
  lookupPipeline(namespace: string, name: string): KubeObject | undefined;
}

const isDone = (pr: KubeObject) =>
  (pr.status?.conditions ?? []).some((c: any) => c.type === 'Succeeded' && c.status !== 'Unknown');

export function pipelineRunAdmission(cfg: AdmissionConfig) {
  return (req: AdmissionRequest): AdmissionDenial | undefined => {
    const pr = req.object;
    pr.spec ??= {};
    const spec = pr.spec;
    if (req.operation === 'UPDATE' && req.oldObject) {
      const old = req.oldObject;
      const strip = (s: any) => ({ ...s, status: undefined });
      if (isDone(old) && !deepEqual(old.spec, spec)) {
        return deny('invalid value: Once the PipelineRun is complete, no updates are allowed');
      }
      if (old.status?.startTime && !deepEqual(strip(old.spec), strip(spec))) {
        return deny('invalid value: Once the PipelineRun has started, only status updates are allowed');
      }
      if (
        old.status?.startTime &&
        spec.status === 'PipelineRunPending' &&
        old.spec.status !== 'PipelineRunPending'
      ) {
        return deny('invalid value: PipelineRun cannot be Pending after it is started: spec.status');
      }
    } else {
      // Defaulting (the mutating webhook); durations come back in Go's canonical form.
      pr.metadata.labels = {
        'app.kubernetes.io/managed-by': 'tekton-pipelines',
        ...(pr.metadata.labels ?? {}),
      };
      spec.timeouts = { ...(spec.timeouts ?? {}) };
      spec.timeouts.pipeline ??= cfg.defaultTimeout;
      spec.taskRunTemplate = { ...(spec.taskRunTemplate ?? {}) };
      spec.taskRunTemplate.serviceAccountName ||= 'default';
    }
    for (const key of ['pipeline', 'tasks', 'finally']) {
      const v = spec.timeouts?.[key];
      if (v === undefined) continue;
      const ms = typeof v === 'string' ? parseGoDuration(v) : undefined;
      if (ms === undefined || ms < 0) return deny(`invalid value: ${v}: spec.timeouts.${key}`);
      if (req.operation === 'CREATE') spec.timeouts[key] = formatGoDuration(ms);
    }
    if (pr.metadata.name.length > 63) {
      return deny('Invalid resource name: length must be no more than 63 characters: metadata.name');
    }
    if (!spec.pipelineRef && !spec.pipelineSpec)
      return deny('expected exactly one, got neither: spec.pipelineRef, spec.pipelineSpec');
    if (spec.pipelineRef && spec.pipelineSpec)
      return deny('expected exactly one, got both: spec.pipelineRef, spec.pipelineSpec');
    const seen = new Set<string>();
    for (const p of spec.params ?? []) {
      if (seen.has(p.name)) return deny(`expected exactly one, got both: spec.params[${p.name}].name`);
      seen.add(p.name);
    }
    if (spec.status !== undefined && !SPEC_STATUSES.includes(spec.status)) {
      return deny(
        `invalid value: ${spec.status} should be Cancelled, CancelledRunFinally, StoppedRunFinally or PipelineRunPending: spec.status`,
      );
    }
    if (cfg.paramValidation === 'admission' && req.operation === 'CREATE')
      return strict(cfg, req.namespace!, pr);
    return undefined;
  };
}

/** Strict mode: refuse what the controller would fail the run for, with 422 naming the field. */
function strict(cfg: AdmissionConfig, namespace: string, pr: KubeObject): AdmissionDenial | undefined {
  const name = pr.spec.pipelineRef?.name;
  const pipeline = name ? cfg.lookupPipeline(namespace, name) : { spec: pr.spec.pipelineSpec };
  const invalid = (field: string, message: string): AdmissionDenial => ({
    allowed: false,
    code: 422,
    reason: 'Invalid',
    message: `PipelineRun.tekton.dev "${pr.metadata.name}" is invalid: ${field}: ${message}`,
    causes: [{ reason: 'FieldValueInvalid', field, message }],
  });
  if (!pipeline)
    return invalid(
      'spec.pipelineRef.name',
      `Invalid value: "${name}": no Pipeline "${name}" in namespace "${namespace}"`,
    );
  const specs: ParamSpec[] = pipeline.spec?.params ?? [];
  const p = checkParams(specs, pr.spec.params ?? []);
  const causes = [
    ...p.undeclared.map((n) => ({
      field: `spec.params[${n}]`,
      message: `Invalid value: "${n}": the Pipeline declares no param ${n}`,
    })),
    ...p.missing.map((n) => ({
      field: `spec.params[${n}]`,
      message: `Required value: the Pipeline's param ${n} has no default`,
    })),
    ...p.mismatched.map((n) => {
      const want = specs.find((s) => s.name === n)?.type ?? 'string';
      return {
        field: `spec.params[${n}]`,
        message: `Invalid value: the Pipeline's param ${n} is of type ${want}`,
      };
    }),
  ];
  if (!causes.length) return undefined;
  return {
    allowed: false,
    code: 422,
    reason: 'Invalid',
    message: `PipelineRun.tekton.dev "${pr.metadata.name}" is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`,
    causes: causes.map((c) => ({
      reason: c.message.startsWith('Required') ? 'FieldValueRequired' : 'FieldValueInvalid',
      ...c,
    })),
  };
}
