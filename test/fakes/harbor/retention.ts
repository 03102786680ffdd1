// Tag retention policies, applied for real to the registry (src/pkg/retention: OR of `retain` rules, run
// per repository; artifacts that no applicable rule retains are deleted).
import { requireAdmin } from './access.ts';
import { badRequest, isoNow, notFound, ok, paged, type Reply } from './http.ts';
import type { ArtifactView } from './registry-view.ts';
import { type Ctx, objectBody, type Route, route } from './router.ts';
import type { RetentionExecution, RetentionRecord } from './state.ts';

const DAY_MS = 86_400_000;

interface Selector {
  kind: string;
  decoration: string;
  pattern: string;
  extras?: string;
}

interface Rule {
  disabled?: boolean;
  action: string;
  template: string;
  params?: Record<string, unknown>;
  tag_selectors?: Selector[];
  scope_selectors?: { repository?: Selector[] };
}

/** Templates the fake evaluates (pull times are not tracked, so latestPulledN/nDaysSinceLastPull are refused). */
const TEMPLATES: Record<string, (arts: ArtifactView[], n: number) => ArtifactView[]> = {
  latestPushedK: (arts, k) => [...arts].sort((a, b) => b.pushTime - a.pushTime || b.seq - a.seq).slice(0, k),
  nDaysSinceLastPush: (arts, n) => arts.filter((a) => a.pushTime >= Date.now() - n * DAY_MS),
  always: (arts) => arts,
};

/** bmatcuk/doublestar semantics: `*` and `?` stop at `/`, `**` crosses it, `{a,b}`, `[…]`. */
export function doublestar(pattern: string): RegExp {
  const convert = (p: string): string => {
    let re = '';
    for (let i = 0; i < p.length; i++) {
      const c = p[i] ?? '';
      if (c === '*' && p[i + 1] === '*') {
        i++;
        if (p[i + 1] === '/') {
          i++;
          re += '(?:.*/)?';
        } else re += '.*';
      } else if (c === '*') re += '[^/]*';
      else if (c === '?') re += '[^/]';
      else if (c === '\\' && i + 1 < p.length) re += `\\${p[++i]}`;
      else if (c === '[') {
        const end = p.indexOf(']', i + 2);
        if (end < 0) throw badRequest(`invalid pattern ${pattern}`);
        const body = p.slice(i + 1, end).replace(/^!/, '^');
        re += `[${body.replace(/\\/g, '\\\\')}]`;
        i = end;
      } else if (c === '{') {
        let depth = 0;
        let end = i;
        for (; end < p.length; end++) {
          if (p[end] === '{') depth++;
          else if (p[end] === '}' && --depth === 0) break;
        }
        if (end >= p.length) throw badRequest(`invalid pattern ${pattern}`);
        const alts = splitTop(p.slice(i + 1, end));
        re += `(?:${alts.map(convert).join('|')})`;
        i = end;
      } else re += c.replace(/[.+^$()|]/g, '\\$&');
    }
    return re;
  };
  return new RegExp(`^${convert(pattern)}$`);
}

function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '{') depth++;
    else if (s[i] === '}') depth--;
    else if (s[i] === ',' && depth === 0) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  return [...out, s.slice(start)];
}

const matches = (pattern: string, s: string) => pattern === '' || doublestar(pattern).test(s);

/** Tag selectors, exactly as Harbor's doublestar selector treats tags and untagged artifacts. */
function selectTags(s: Selector, arts: ArtifactView[]): ArtifactView[] {
  let untagged = s.decoration !== 'excludes';
  try {
    if (s.extras) untagged = JSON.parse(s.extras).untagged === true;
  } catch {}
  return arts.filter((a) => {
    const tags = a.tags.map((t) => t.name);
    if (s.decoration === 'matches') return tags.length ? tags.some((t) => matches(s.pattern, t)) : untagged;
    return tags.length ? tags.some((t) => !matches(s.pattern, t)) : !untagged;
  });
}

function repoSelected(selectors: Selector[], repo: string): boolean {
  return selectors.every((s) => matches(s.pattern, repo) === (s.decoration === 'repoMatches'));
}

function checkPolicy(ctx: Ctx, b: Record<string, any>): { projectId: number; rules: Rule[] } {
  if (b.algorithm !== 'or') throw badRequest('algorithm must be "or"');
  const rules = b.rules;
  if (!Array.isArray(rules) || rules.length > 15) throw badRequest('rules: at most 15 rules');
  for (const r of rules as Rule[]) {
    if (r?.action !== 'retain') throw badRequest(`invalid action ${r?.action}`);
    if (!(r.template in TEMPLATES)) {
      throw badRequest(`template ${r.template} is not supported (the fake Harbor does not track pulls)`);
    }
    const n = Number(r.params?.[r.template]);
    if (r.template !== 'always' && !(Number.isInteger(n) && n >= 0)) {
      throw badRequest(`params.${r.template} must be a non-negative integer`);
    }
    for (const s of r.tag_selectors ?? []) {
      if (s.kind !== 'doublestar' || !['matches', 'excludes'].includes(s.decoration)) {
        throw badRequest(`invalid tag selector ${JSON.stringify(s)}`);
      }
      doublestar(s.pattern ?? '');
    }
    for (const s of r.scope_selectors?.repository ?? []) {
      if (s.kind !== 'doublestar' || !['repoMatches', 'repoExcludes'].includes(s.decoration)) {
        throw badRequest(`invalid scope selector ${JSON.stringify(s)}`);
      }
      doublestar(s.pattern ?? '');
    }
  }
  const cron = b.trigger?.settings?.cron ?? '';
  if (b.trigger?.kind !== 'Schedule') throw badRequest('trigger.kind must be "Schedule"');
  if (cron !== '' && !/^0 \S+ \S+ \S+ \S+ \S+$/.test(cron)) {
    throw badRequest(`invalid cron ${JSON.stringify(cron)}: 6 fields, seconds must be 0`);
  }
  if (b.scope?.level !== 'project') throw badRequest('scope.level must be "project"');
  const project = ctx.state.projects.get(Number(b.scope?.ref));
  if (!project) throw badRequest(`project ${b.scope?.ref} not found`);
  return { projectId: project.project_id, rules };
}

function policyOf(ctx: Ctx): RetentionRecord {
  requireAdmin(ctx.id);
  const r = ctx.state.retentions.get(Number(ctx.params.id));
  if (!r) throw notFound(`retention policy ${ctx.params.id} not found`);
  return r;
}

async function execute(ctx: Ctx, rec: RetentionRecord, dryRun: boolean): Promise<RetentionExecution> {
  const project = ctx.state.projects.get(rec.project_id);
  const start = isoNow();
  const exec: RetentionExecution = {
    id: ctx.state.nextId('execution'),
    policy_id: rec.id,
    start_time: start,
    end_time: start,
    status: 'Succeed',
    trigger: 'MANUAL',
    dry_run: dryRun,
    tasks: [],
  };
  const rules = ((rec.policy.rules ?? []) as Rule[]).filter((r) => !r.disabled);
  for (const repo of project ? await ctx.view.repositories(project.name) : []) {
    const short = repo.name.slice((project?.name.length ?? 0) + 1);
    const applicable = rules.filter((r) => repoSelected(r.scope_selectors?.repository ?? [], short));
    if (applicable.length === 0) continue;
    const retained = new Set<string>();
    for (const r of applicable) {
      const selected = (r.tag_selectors ?? []).reduce((arts, s) => selectTags(s, arts), repo.artifacts);
      const evaluate = TEMPLATES[r.template]!;
      for (const a of evaluate(selected, Number(r.params?.[r.template] ?? 0))) retained.add(a.digest);
    }
    const doomed = repo.artifacts.filter((a) => !retained.has(a.digest)).map((a) => a.digest);
    if (!dryRun) for (const d of doomed) await ctx.view.deleteArtifact(repo.name, d);
    exec.tasks.push({
      id: ctx.state.nextId('task'),
      repository: short,
      total: repo.artifacts.length,
      retained: retained.size,
      deleted: doomed,
    });
  }
  exec.end_time = isoNow();
  rec.executions.unshift(exec);
  return exec;
}

const executionJson = ({ tasks: _, ...e }: RetentionExecution) => e;

export const retentionRoutes: Route[] = [
  route('POST /retentions', (ctx): Reply => {
    requireAdmin(ctx.id);
    const b = objectBody(ctx);
    const { projectId } = checkPolicy(ctx, b);
    const project = ctx.state.projects.get(projectId)!;
    if (project.metadata.retention_id) {
      throw badRequest(`project: ${projectId} already has retention policy ${project.metadata.retention_id}`);
    }
    const id = ctx.state.nextId('retention');
    ctx.state.retentions.set(id, { id, project_id: projectId, policy: { ...b, id }, executions: [] });
    project.metadata.retention_id = String(id);
    return { status: 201, headers: { location: `/api/v2.0/retentions/${id}` } };
  }),
  route('GET /retentions/:id', (ctx) => ok(policyOf(ctx).policy)),
  route('PUT /retentions/:id', (ctx) => {
    const rec = policyOf(ctx);
    const b = objectBody(ctx);
    const { projectId } = checkPolicy(ctx, b);
    if (projectId !== rec.project_id) throw badRequest('cannot change the scope of a retention policy');
    rec.policy = { ...b, id: rec.id };
    return ok();
  }),
  route('DELETE /retentions/:id', (ctx) => {
    const rec = policyOf(ctx);
    ctx.state.retentions.delete(rec.id);
    const project = ctx.state.projects.get(rec.project_id);
    if (project) delete project.metadata.retention_id;
    return ok();
  }),
  route('POST /retentions/:id/executions', async (ctx): Promise<Reply> => {
    const rec = policyOf(ctx);
    const dryRun = (ctx.body as { dry_run?: unknown } | undefined)?.dry_run === true;
    const exec = await execute(ctx, rec, dryRun);
    return { status: 201, headers: { location: `/api/v2.0/retentions/${rec.id}/executions/${exec.id}` } };
  }),
  route('GET /retentions/:id/executions', (ctx) => {
    const page = paged(policyOf(ctx).executions, ctx.query, ctx.path);
    return { ...page, body: (page.body as RetentionExecution[]).map(executionJson) };
  }),
  route('GET /retentions/:id/executions/:eid/tasks', (ctx) => {
    const exec = policyOf(ctx).executions.find((e) => e.id === Number(ctx.params.eid));
    if (!exec) throw notFound(`execution ${ctx.params.eid} not found`);
    const tasks = exec.tasks.map(({ deleted: _, ...t }) => ({
      ...t,
      execution_id: exec.id,
      job_id: `fake-${t.id}`,
      status: 'Succeed',
      status_code: 3,
      start_time: exec.start_time,
      end_time: exec.end_time,
    }));
    return paged(tasks, ctx.query, ctx.path);
  }),
];
