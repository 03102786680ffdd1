// Projects, project metadata, summaries and quotas (Harbor v2.0 swagger: project, projectMetadata, quota).
import { requireAdmin, requireProject } from './access.ts';
import {
  badRequest,
  conflict,
  isoNow,
  matchesTerm,
  notFound,
  ok,
  paged,
  parseQuery,
  precondition,
  type Reply,
  unauthorized,
} from './http.ts';
import { type Ctx, objectBody, type Route, route } from './router.ts';
import type { ProjectRecord, QuotaRecord } from './state.ts';

export const NAME_RE = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const BOOL_META = new Set([
  'public',
  'enable_content_trust',
  'enable_content_trust_cosign',
  'prevent_vul',
  'auto_scan',
  'auto_sbom_generation',
  'reuse_sys_cve_allowlist',
]);
const SEVERITIES = new Set(['none', 'low', 'medium', 'high', 'critical']);
const OTHER_META = new Set(['severity', 'retention_id', 'proxy_speed_kb']);

function checkMetadata(m: unknown): Record<string, string> {
  if (m === undefined || m === null) return {};
  if (typeof m !== 'object' || Array.isArray(m)) throw badRequest('invalid metadata');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m)) {
    if (typeof v !== 'string') throw badRequest(`invalid value for metadata ${k}: must be a string`);
    if (BOOL_META.has(k) && v !== 'true' && v !== 'false') {
      throw badRequest(`invalid bool value for metadata ${k}: ${v}`);
    }
    if (k === 'severity' && !SEVERITIES.has(v)) throw badRequest(`invalid severity: ${v}`);
    if (!BOOL_META.has(k) && !OTHER_META.has(k)) throw badRequest(`invalid metadata name: ${k}`);
    out[k] = v;
  }
  return out;
}

/** -1 (unlimited) or a positive number of bytes. */
export function checkStorage(v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || (v <= 0 && v !== -1)) {
    throw badRequest(`invalid value ${JSON.stringify(v)} for storage: must be -1 or a positive integer`);
  }
  return v;
}

export const projectOf = (ctx: Ctx, param = 'p') =>
  ctx.state.resolveProject(ctx.params[param] ?? '', ctx.headers['x-is-resource-name'] === 'true');

/** Reading a project: the admin, or a robot of that project. */
function readable(ctx: Ctx, p: ProjectRecord): void {
  if (ctx.id.kind !== 'robot' || ctx.id.robot.project_id !== p.project_id) requireAdmin(ctx.id);
}

async function projectJson(ctx: Ctx, p: ProjectRecord) {
  const repoCount = (await ctx.view.repositories(p.name)).length;
  return {
    project_id: p.project_id,
    owner_id: p.owner_id,
    owner_name: p.owner_name,
    name: p.name,
    registry_id: 0,
    creation_time: p.creation_time,
    update_time: p.update_time,
    deleted: false,
    togglable: true,
    current_user_role_id: ctx.id.kind === 'admin' ? 1 : 0,
    current_user_role_ids: ctx.id.kind === 'admin' ? [1] : [],
    repo_count: repoCount,
    metadata: { ...p.metadata },
    cve_allowlist: { id: 0, project_id: p.project_id, items: [], creation_time: p.creation_time },
  };
}

export async function quotaJson(ctx: Ctx, q: QuotaRecord) {
  const p = ctx.state.projects.get(q.project_id);
  const used = p ? await ctx.view.usage(p.name) : 0;
  return {
    id: q.id,
    ref: { id: q.project_id, name: p?.name, owner_name: p?.owner_name },
    hard: { storage: q.hard },
    used: { storage: used },
    creation_time: q.creation_time,
    update_time: q.update_time,
  };
}

async function create(ctx: Ctx): Promise<Reply> {
  requireAdmin(ctx.id);
  const b = objectBody(ctx);
  const name = b.project_name;
  if (typeof name !== 'string' || name.length === 0 || name.length > 255 || !NAME_RE.test(name)) {
    throw badRequest('project name is not in lower case or contains illegal characters');
  }
  const metadata = checkMetadata(b.metadata);
  delete metadata.retention_id;
  const limit =
    b.storage_limit === undefined || b.storage_limit === null || b.storage_limit === 0
      ? ctx.storagePerProject
      : checkStorage(b.storage_limit);
  if (ctx.state.projectByName(name)) throw conflict(`The project named ${name} already exists`);
  const p = ctx.state.createProject(name, metadata, limit);
  const ref = ctx.headers['x-resource-name-in-location'] === 'true' ? p.name : p.project_id;
  return { status: 201, headers: { location: `/api/v2.0/projects/${ref}` } };
}

async function list(ctx: Ctx): Promise<Reply> {
  if (ctx.id.kind === 'anonymous') throw unauthorized();
  const q = parseQuery(ctx.query.get('q'));
  const name = ctx.query.get('name');
  const pub = ctx.query.get('public');
  const all = [...ctx.state.projects.values()].filter(
    (p) =>
      (ctx.id.kind !== 'robot' || ctx.id.robot.project_id === p.project_id) &&
      (!name || p.name.includes(name)) &&
      (!pub || p.metadata.public === pub) &&
      matchesTerm(q.get('name'), p.name),
  );
  const page = paged(all, ctx.query, ctx.path);
  return { ...page, body: await Promise.all((page.body as ProjectRecord[]).map((p) => projectJson(ctx, p))) };
}

async function remove(ctx: Ctx): Promise<Reply> {
  const p = projectOf(ctx);
  requireAdmin(ctx.id);
  if ((await ctx.view.repositories(p.name)).length > 0) {
    throw precondition(`the project ${p.name} contains repositories, can not be deleted`);
  }
  ctx.state.deleteProject(p);
  return ok();
}

async function summary(ctx: Ctx): Promise<Reply> {
  const p = projectOf(ctx);
  readable(ctx, p);
  const q = ctx.state.quotaOf(p.project_id);
  return ok({
    repo_count: (await ctx.view.repositories(p.name)).length,
    project_admin_count: 1,
    maintainer_count: 0,
    developer_count: 0,
    guest_count: 0,
    limited_guest_count: 0,
    quota: { hard: { storage: q.hard }, used: { storage: await ctx.view.usage(p.name) } },
  });
}

function updateMetadata(p: ProjectRecord, m: Record<string, string>): void {
  Object.assign(p.metadata, m);
  p.update_time = isoNow();
}

export const projectRoutes: Route[] = [
  route('HEAD /projects', (ctx) => {
    requireAdmin(ctx.id);
    const name = ctx.query.get('project_name') ?? '';
    if (!ctx.state.projectByName(name)) throw notFound(`project ${name} not found`);
    return ok();
  }),
  route('GET /projects', list),
  route('POST /projects', create),
  route('GET /projects/:p', async (ctx) => {
    const p = projectOf(ctx);
    readable(ctx, p);
    return ok(await projectJson(ctx, p));
  }),
  route('PUT /projects/:p', (ctx) => {
    const p = projectOf(ctx);
    requireAdmin(ctx.id);
    const b = objectBody(ctx);
    const m = checkMetadata(b.metadata);
    delete m.retention_id;
    updateMetadata(p, m);
    if (b.storage_limit !== undefined && b.storage_limit !== null) {
      const q = ctx.state.quotaOf(p.project_id);
      q.hard = checkStorage(b.storage_limit);
      q.update_time = isoNow();
    }
    return ok();
  }),
  route('DELETE /projects/:p', remove),
  route('GET /projects/:p/_deletable', async (ctx) => {
    const p = projectOf(ctx);
    requireAdmin(ctx.id);
    const repos = (await ctx.view.repositories(p.name)).length;
    return ok(
      repos > 0
        ? { deletable: false, message: `the project ${p.name} contains repositories, can not be deleted` }
        : { deletable: true },
    );
  }),
  route('GET /projects/:p/summary', summary),
  route('GET /projects/:p/metadatas', (ctx) => {
    const p = projectOf(ctx);
    readable(ctx, p);
    return ok({ ...p.metadata });
  }),
  route('POST /projects/:p/metadatas', (ctx) => {
    const p = projectOf(ctx);
    requireProject(ctx.id, p, 'metadata', 'create');
    updateMetadata(p, checkMetadata(ctx.body));
    return ok();
  }),
  route('GET /projects/:p/metadatas/:name', (ctx) => {
    const p = projectOf(ctx);
    readable(ctx, p);
    const name = ctx.params.name ?? '';
    const v = p.metadata[name];
    if (v === undefined) throw notFound(`metadata ${name} of project ${p.name} not found`);
    return ok({ [name]: v });
  }),
  route('PUT /projects/:p/metadatas/:name', (ctx) => {
    const p = projectOf(ctx);
    requireProject(ctx.id, p, 'metadata', 'update');
    const name = ctx.params.name ?? '';
    const m = checkMetadata(ctx.body);
    if (Object.keys(m).length !== 1 || !(name in m)) throw badRequest(`the body must hold exactly ${name}`);
    if (p.metadata[name] === undefined) throw notFound(`metadata ${name} of project ${p.name} not found`);
    updateMetadata(p, m);
    return ok();
  }),
  route('DELETE /projects/:p/metadatas/:name', (ctx) => {
    const p = projectOf(ctx);
    requireProject(ctx.id, p, 'metadata', 'delete');
    const name = ctx.params.name ?? '';
    if (p.metadata[name] === undefined) throw notFound(`metadata ${name} of project ${p.name} not found`);
    delete p.metadata[name];
    return ok();
  }),
  route('GET /quotas', async (ctx) => {
    requireAdmin(ctx.id);
    const ref = ctx.query.get('reference');
    const refId = ctx.query.get('reference_id');
    const all = [...ctx.state.quotas.values()].filter(
      (q) => (!ref || ref === 'project') && (!refId || String(q.project_id) === refId),
    );
    const page = paged(all, ctx.query, ctx.path);
    return { ...page, body: await Promise.all((page.body as QuotaRecord[]).map((q) => quotaJson(ctx, q))) };
  }),
  route('GET /quotas/:id', async (ctx) => {
    requireAdmin(ctx.id);
    const q = ctx.state.quotas.get(Number(ctx.params.id));
    if (!q) throw notFound(`quota ${ctx.params.id} not found`);
    return ok(await quotaJson(ctx, q));
  }),
  route('PUT /quotas/:id', (ctx) => {
    requireAdmin(ctx.id);
    const q = ctx.state.quotas.get(Number(ctx.params.id));
    if (!q) throw notFound(`quota ${ctx.params.id} not found`);
    const hard = objectBody(ctx).hard;
    if (typeof hard !== 'object' || hard === null || !('storage' in hard)) {
      throw badRequest('hard.storage is required');
    }
    q.hard = checkStorage(hard.storage);
    q.update_time = isoNow();
    return ok();
  }),
];
