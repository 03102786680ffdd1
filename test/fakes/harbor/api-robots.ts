// Project-level robot accounts (Harbor v2.0 swagger: robot; src/server/v2.0/handler/robot.go).
import { randomBytes } from 'node:crypto';
import { requireAdmin } from './access.ts';
import { NAME_RE } from './api-projects.ts';
import { badRequest, conflict, isoNow, notFound, ok, paged, parseQuery, type Reply } from './http.ts';
import { type Ctx, objectBody, type Route, route } from './router.ts';
import type { RobotPermission, RobotRecord } from './state.ts';

/** Project-scope accesses a robot may hold (src/common/rbac/project/rbac_role.go, the usual ones). */
export const PROJECT_ACCESS = new Set(
  [
    'repository:pull repository:push repository:list repository:read repository:update repository:delete',
    'artifact:read artifact:list artifact:create artifact:delete artifact-label:create artifact-label:delete',
    'tag:create tag:list tag:delete accessory:list scan:create scan:read scan:stop sbom:create sbom:read sbom:stop',
    'helm-chart:read helm-chart:create helm-chart:delete helm-chart-version:read helm-chart-version:create',
    'helm-chart-version:delete helm-chart-version:list log:list notification-policy:list notification-policy:read',
  ]
    .join(' ')
    .split(' '),
);

const DAY = 86_400;
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** 32 characters with upper, lower and digit, like Harbor's generated secrets. */
function newSecret(): string {
  for (;;) {
    const s = [...randomBytes(32)].map((b) => ALNUM[b % ALNUM.length]).join('');
    if (/[A-Z]/.test(s) && /[a-z]/.test(s) && /\d/.test(s)) return s;
  }
}

function checkDuration(d: unknown): number {
  if (typeof d !== 'number' || !Number.isInteger(d) || !(d === -1 || (d > 0 && d < 2 ** 31 - 1))) {
    throw badRequest(
      `bad request error duration input: ${d}, duration must be either -1(Never) or a positive integer`,
    );
  }
  return d;
}

/** Exactly one `project` permission on an existing project, with known accesses. */
function checkPermissions(
  ctx: Ctx,
  level: unknown,
  perms: unknown,
): { perms: RobotPermission[]; projectId: number } {
  if (level === 'system') throw badRequest('the fake Harbor models project-level robots only');
  if (level !== 'project') throw badRequest(`bad request error level input: ${level}`);
  if (!Array.isArray(perms) || perms.length === 0) throw badRequest('bad request empty permission');
  if (perms.length > 1) throw badRequest('bad request permission');
  const p = perms[0] as Partial<RobotPermission>;
  if (!Array.isArray(p.access) || p.access.length === 0) throw badRequest('bad request empty access');
  if (p.kind !== 'project') throw badRequest(`bad request permission level: ${p.kind}`);
  for (const a of p.access) {
    if (!PROJECT_ACCESS.has(`${a?.resource}:${a?.action}`)) {
      throw badRequest(`bad request permission: ${a?.resource}:${a?.action}`);
    }
  }
  const project = ctx.state.projectByName(String(p.namespace));
  if (!project) throw notFound(`project ${p.namespace} not found`);
  const access = p.access.map((a) => ({
    resource: a.resource,
    action: a.action,
    effect: a.effect ?? 'allow',
  }));
  return { perms: [{ kind: 'project', namespace: project.name, access }], projectId: project.project_id };
}

const expiry = (creation: string, duration: number) =>
  duration === -1 ? -1 : Math.floor(Date.parse(creation) / 1000) + duration * DAY;

export function robotJson(r: RobotRecord) {
  const { secret: _, project_id: __, ...rest } = r;
  return { ...rest, editable: true, permissions: structuredClone(r.permissions) };
}

function robotOf(ctx: Ctx): RobotRecord {
  const r = ctx.state.robots.get(Number(ctx.params.id));
  if (!r) throw notFound(`robot ${ctx.params.id} not found`);
  return r;
}

function create(ctx: Ctx): Reply {
  requireAdmin(ctx.id);
  const b = objectBody(ctx);
  if (typeof b.name !== 'string' || !NAME_RE.test(b.name)) {
    throw badRequest('robot name is not in lower case or contains illegal characters');
  }
  const duration = checkDuration(b.duration);
  const { perms, projectId } = checkPermissions(ctx, b.level, b.permissions);
  const name = `robot$${perms[0]?.namespace}+${b.name}`;
  if (ctx.state.robotByName(name)) throw conflict(`robot account ${name} already exists`);
  const now = isoNow();
  const r: RobotRecord = {
    id: ctx.state.nextId('robot'),
    name,
    project_id: projectId,
    description: typeof b.description === 'string' ? b.description : '',
    duration,
    level: 'project',
    disable: b.disable === true,
    permissions: perms,
    expires_at: expiry(now, duration),
    creation_time: now,
    update_time: now,
    secret: newSecret(),
  };
  ctx.state.robots.set(r.id, r);
  ctx.state.issuedSecrets.push(r.secret);
  const body = { id: r.id, name, secret: r.secret, creation_time: now, expires_at: r.expires_at };
  return { status: 201, body, headers: { location: `/api/v2.0/robots/${r.id}` } };
}

function list(ctx: Ctx): Reply {
  requireAdmin(ctx.id);
  const q = parseQuery(ctx.query.get('q'));
  const level = q.get('Level')?.value ?? 'system';
  if (level !== 'system' && level !== 'project') throw badRequest('bad request error level input');
  const pid = q.get('ProjectID')?.value;
  if (level === 'project' && pid === undefined) {
    throw badRequest('must with project ID when to query project robots');
  }
  if (pid !== undefined && !/^\d+$/.test(pid)) throw badRequest('Project ID must be int type.');
  const name = q.get('name');
  const all = [...ctx.state.robots.values()].filter(
    (r) =>
      level === 'project' &&
      r.project_id === Number(pid) &&
      (!name || (name.fuzzy ? r.name.includes(name.value) : r.name.endsWith(`+${name.value}`))),
  );
  const page = paged(all, ctx.query, ctx.path);
  return { ...page, body: (page.body as RobotRecord[]).map(robotJson) };
}

function update(ctx: Ctx): Reply {
  requireAdmin(ctx.id);
  const r = robotOf(ctx);
  const b = objectBody(ctx);
  if (b.name !== undefined && b.name !== r.name) throw badRequest('cannot update the level or name of robot');
  const duration = b.duration === undefined ? r.duration : checkDuration(b.duration);
  const { perms, projectId } = checkPermissions(ctx, b.level, b.permissions);
  if (projectId !== r.project_id) throw badRequest('cannot update the project id of robot');
  if (duration !== r.duration) r.expires_at = expiry(r.creation_time, duration);
  Object.assign(r, {
    duration,
    permissions: perms,
    description: typeof b.description === 'string' ? b.description : r.description,
    disable: b.disable === true,
    update_time: isoNow(),
  });
  return ok();
}

function refreshSecret(ctx: Ctx): Reply {
  requireAdmin(ctx.id);
  const r = robotOf(ctx);
  const given = objectBody(ctx).secret;
  if (typeof given === 'string' && given !== '') {
    if (!/^(?=.*[A-Z])(?=.*[a-z])(?=.*\d).{8,128}$/.test(given)) {
      throw badRequest(
        'the secret must be 8-128, inclusively, characters long with at least 1 uppercase letter, 1 lowercase letter and 1 number',
      );
    }
    r.secret = given;
    return ok({ secret: '' });
  }
  r.secret = newSecret();
  ctx.state.issuedSecrets.push(r.secret);
  return ok({ secret: r.secret });
}

export const robotRoutes: Route[] = [
  route('POST /robots', create),
  route('GET /robots', list),
  route('GET /robots/:id', (ctx) => {
    requireAdmin(ctx.id);
    return ok(robotJson(robotOf(ctx)));
  }),
  route('PUT /robots/:id', update),
  route('PATCH /robots/:id', refreshSecret),
  route('DELETE /robots/:id', (ctx) => {
    requireAdmin(ctx.id);
    ctx.state.robots.delete(robotOf(ctx).id);
    return ok();
  }),
];
