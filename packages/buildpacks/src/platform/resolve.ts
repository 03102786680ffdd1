import { type Buildpack, bpId, bpVersion } from './descriptor.ts';
import type { DetectPlan, PlanRequire, PlanSection } from './detect-plan.ts';
import type { GroupElement } from './order.ts';

/** What one `bin/detect` run gave: 0 pass, 100 fail, anything else an error. */
export interface DetectOutcome {
  code: number;
  plan: DetectPlan | undefined;
  /** Combined stdout+stderr, shown when detection fails or errors. */
  output: string;
  /** Set when the platform itself refused the buildpack (bad plan TOML, target mismatch, timeout…). */
  problem?: string;
}

export interface PlanEntry {
  name: string;
  providers: { id: string; version: string }[];
  requires: PlanRequire[];
}

export interface Detected {
  group: GroupElement[];
  plan: PlanEntry[];
}

/** Why a group failed, per buildpack: used to tell the user what each buildpack looks for. */
export interface GroupReport {
  elements: {
    id: string;
    version: string;
    optional: boolean;
    code: number;
    output: string;
    problem?: string;
  }[];
  reason: string;
}

export type DetectResolution =
  | ({ ok: true } & Detected)
  | { ok: false; errored: boolean; reports: GroupReport[] };

type Option = { element: GroupElement; section: PlanSection };

interface DepEntry {
  providers: Buildpack[];
  pendingProviders: Buildpack[];
  earlyRequirers: Buildpack[];
  requires: PlanRequire[];
}

/** The lifecycle's dependency map: provides wait for a later (or same) require; a require needs an earlier provide. */
function depMap(trial: Option[]): Map<string, DepEntry> {
  const m = new Map<string, DepEntry>();
  const entry = (name: string) => {
    let e = m.get(name);
    if (!e) {
      e = { providers: [], pendingProviders: [], earlyRequirers: [], requires: [] };
      m.set(name, e);
    }
    return e;
  };
  for (const { element, section } of trial) {
    for (const p of section.provides) entry(p.name).pendingProviders.push(element.buildpack);
    for (const r of section.requires) {
      const e = entry(r.name);
      e.providers.push(...e.pendingProviders);
      e.pendingProviders = [];
      if (e.providers.length === 0) e.earlyRequirers.push(element.buildpack);
      else e.requires.push({ name: r.name, ...(r.metadata ? { metadata: r.metadata } : {}) });
    }
  }
  return m;
}

/** Resolve one trial; optional elements with unmet items are dropped and the trial re-resolved. */
function resolveTrial(initial: Option[]): { trial: Option[]; deps: Map<string, DepEntry> } | string {
  let trial = initial;
  while (trial.length) {
    const deps = depMap(trial);
    const unmet: { bp: Buildpack; what: string }[] = [];
    for (const [name, e] of deps) {
      for (const bp of e.earlyRequirers)
        unmet.push({ bp, what: `requires ${name}, which no earlier buildpack provides` });
      for (const bp of e.pendingProviders)
        unmet.push({ bp, what: `provides ${name}, which no buildpack requires` });
    }
    if (!unmet.length) return { trial, deps };
    for (const u of unmet) {
      const opt = trial.find((o) => o.element.buildpack === u.bp);
      if (!opt?.element.optional) return `${bpId(u.bp)} ${u.what}`;
    }
    const drop = new Set(unmet.map((u) => u.bp));
    trial = trial.filter((o) => !drop.has(o.element.buildpack));
  }
  return 'no buildpack is left in the group';
}

/** Every combination of options (the plan, then each `or`), first elements varying slowest. */
function* trials(passing: { element: GroupElement; plan: DetectPlan }[]): Generator<Option[]> {
  const rec = function* (i: number, acc: Option[]): Generator<Option[]> {
    const p = passing[i];
    if (!p) {
      yield acc;
      return;
    }
    const sections: PlanSection[] = [{ provides: p.plan.provides, requires: p.plan.requires }, ...p.plan.or];
    for (const section of sections) yield* rec(i + 1, [...acc, { element: p.element, section }]);
  };
  yield* rec(0, []);
}

/**
 * Pick the first group that detects and whose build plan resolves (buildpack spec "Phase #1: Detection").
 * `run` runs one buildpack's detect; callers cache it per id@version so groups share results.
 */
export async function resolveGroups(
  groups: GroupElement[][],
  run: (bp: Buildpack) => Promise<DetectOutcome>,
): Promise<DetectResolution> {
  const reports: GroupReport[] = [];
  let errored = false;
  for (const group of groups) {
    const outcomes = await Promise.all(group.map((e) => run(e.buildpack)));
    const report: GroupReport = {
      elements: group.map((e, i) => ({
        id: bpId(e.buildpack),
        version: bpVersion(e.buildpack),
        optional: e.optional,
        code: outcomes[i]?.code ?? -1,
        output: outcomes[i]?.output ?? '',
        ...(outcomes[i]?.problem ? { problem: outcomes[i]?.problem } : {}),
      })),
      reason: '',
    };
    reports.push(report);
    const failedRequired = group.filter((e, i) => !e.optional && outcomes[i]?.code !== 0);
    if (failedRequired.length) {
      const erroredHere = group.some(
        (e, i) => !e.optional && outcomes[i]?.code !== 0 && outcomes[i]?.code !== 100,
      );
      errored ||= erroredHere;
      report.reason = `${failedRequired.map((e) => bpId(e.buildpack)).join(', ')} did not pass detection`;
      continue;
    }
    const passing = group
      .map((element, i) => ({ element, outcome: outcomes[i] }))
      .filter((p) => p.outcome?.code === 0)
      .map((p) => ({ element: p.element, plan: p.outcome?.plan ?? { provides: [], requires: [], or: [] } }));
    if (!passing.length) {
      report.reason = 'no buildpack passed detection';
      continue;
    }
    let lastProblem = '';
    for (const t of trials(passing)) {
      const r = resolveTrial(t);
      if (typeof r === 'string') {
        lastProblem = r;
        continue;
      }
      const plan: PlanEntry[] = [];
      for (const [name, e] of r.deps) {
        if (!e.requires.length) continue;
        plan.push({
          name,
          providers: e.providers.map((bp) => ({ id: bpId(bp), version: bpVersion(bp) })),
          requires: e.requires,
        });
      }
      return { ok: true, group: r.trial.map((o) => o.element), plan };
    }
    report.reason = `the build plan does not resolve: ${lastProblem}`;
  }
  return { ok: false, errored, reports };
}
