import { readFileSync } from 'node:fs';
import { celEnv, isCelError, parse, plan } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import { parseAllDocuments } from 'yaml';

/**
 * Evaluates deploy/registry-policy/'s ValidatingAdmissionPolicy with an npm CEL library (@bufbuild/cel:
 * cel-spec conformance-tested, RE2 `matches` like Kubernetes, the strings extension), not an API server:
 * variables in order, then each validation and, on failure, its messageExpression. Kubernetes' cost
 * limits and schema type checking are not modelled. Test-only (imports a devDependency).
 */

export const DEPLOY_DIR = new URL('../../../../deploy/registry-policy/', import.meta.url);

export function loadYaml(file: string): Record<string, unknown>[] {
  return parseAllDocuments(readFileSync(new URL(file, DEPLOY_DIR), 'utf8')).map((d) => d.toJS());
}

export interface Vap {
  spec: {
    variables: { name: string; expression: string }[];
    validations: { expression: string; messageExpression?: string; message?: string }[];
  };
}

export const loadVap = (): Vap => loadYaml('validating-admission-policy.yaml')[0] as unknown as Vap;

export type Outcome = { allowed: true } | { allowed: false; message: string } | { error: string };

export function compileVap(vap: Vap) {
  const env = celEnv({ funcs: strings });
  const compile = (expr: string) => {
    const fn = plan(env, parse(expr));
    return (bindings: Record<string, unknown>) => {
      const v = fn(bindings as never);
      if (isCelError(v)) throw new Error(`CEL: ${v.message} in ${expr.slice(0, 80)}`);
      return v;
    };
  };
  const variables = vap.spec.variables.map((v) => ({ name: v.name, fn: compile(v.expression) }));
  const validations = vap.spec.validations.map((v) => ({
    fn: compile(v.expression),
    message: v.messageExpression ? compile(v.messageExpression) : () => v.message ?? '',
  }));
  /** An evaluation error means a failed call: failurePolicy Fail denies, as the binding does. */
  return (input: { object: unknown; request: unknown; params: unknown }): Outcome => {
    try {
      const bindings: Record<string, unknown> = { ...input, variables: {} };
      const vars = bindings.variables as Record<string, unknown>;
      for (const v of variables) vars[v.name] = v.fn(bindings);
      for (const v of validations) {
        const ok = v.fn(bindings);
        if (typeof ok !== 'boolean') throw new Error(`validation returned ${typeof ok}`);
        if (!ok) return { allowed: false, message: String(v.message(bindings)) };
      }
      return { allowed: true };
    } catch (err) {
      return { error: (err as Error).message };
    }
  };
}

/** A review's request as CEL sees it: `object`, `request`, `params` (the ConfigMap object). */
export function bindingsOf(
  review: { request: Record<string, unknown> },
  configMapData: Readonly<Record<string, string>>,
) {
  const { object, ...request } = review.request;
  return { object, request, params: { apiVersion: 'v1', kind: 'ConfigMap', data: configMapData } };
}

export const allowedOf = (o: Outcome) => ('error' in o ? false : o.allowed);
