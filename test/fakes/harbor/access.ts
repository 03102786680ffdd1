// Who a request is (admin, robot, anonymous) and what the token service grants them on the registry.
import { timingSafeEqual } from 'node:crypto';
import type { Access } from '../../helpers/token-server.ts';
import { forbidden, parseBasic, unauthorized } from './http.ts';
import type { RegistryView } from './registry-view.ts';
import type { ProjectRecord, RobotRecord, State } from './state.ts';

export type Identity =
  | { kind: 'anonymous' }
  | { kind: 'admin'; username: string }
  | { kind: 'robot'; robot: RobotRecord }
  /** The fake's own registry client (it reads and deletes as Harbor core does). */
  | { kind: 'internal' };

export interface Credentials {
  username: string;
  password: string;
}

const same = (a: string, b: string) =>
  a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

export function robotUsable(r: RobotRecord, now = Date.now()): boolean {
  return !r.disable && (r.expires_at === -1 || r.expires_at * 1000 > now);
}

/** Undefined for credentials Harbor refuses (unknown user, wrong secret, expired or disabled robot). */
export function identify(
  state: State,
  admin: Credentials,
  internal: Credentials,
  user: string | undefined,
  password: string | undefined,
): Identity | undefined {
  if (user === undefined) return { kind: 'anonymous' };
  const pw = password ?? '';
  if (user === admin.username)
    return same(pw, admin.password) ? { kind: 'admin', username: user } : undefined;
  if (user === internal.username) return same(pw, internal.password) ? { kind: 'internal' } : undefined;
  const robot = state.robotByName(user);
  if (robot && same(pw, robot.secret) && robotUsable(robot)) return { kind: 'robot', robot };
  return undefined;
}

export function identifyHeader(
  state: State,
  admin: Credentials,
  internal: Credentials,
  header: string | undefined,
): Identity | undefined {
  if (header === undefined) return { kind: 'anonymous' };
  const basic = parseBasic(header);
  return basic ? identify(state, admin, internal, basic.username, basic.password) : undefined;
}

export function robotCan(r: RobotRecord, project: ProjectRecord, resource: string, action: string): boolean {
  return (
    r.project_id === project.project_id &&
    r.permissions.some(
      (p) =>
        p.kind === 'project' &&
        p.namespace === project.name &&
        p.access.some(
          (a) => a.resource === resource && a.action === action && (a.effect ?? 'allow') === 'allow',
        ),
    )
  );
}

/** Management API: the admin may do anything; robots only what their permissions say; others 401. */
export function requireAdmin(id: Identity): void {
  if (id.kind === 'admin' || id.kind === 'internal') return;
  if (id.kind === 'robot') throw forbidden();
  throw unauthorized();
}

export function requireProject(id: Identity, project: ProjectRecord, resource: string, action: string): void {
  if (id.kind === 'robot' && robotCan(id.robot, project, resource, action)) return;
  requireAdmin(id);
}

/**
 * The token service's decision (src/core/service/token/creator.go): the intersection of what is asked
 * and what the identity may do. Push needs an existing project under its storage quota.
 */
export async function grantTokenAccess(
  state: State,
  view: RegistryView,
  id: Identity,
  requested: Access[],
): Promise<Access[]> {
  const underQuota = new Map<string, Promise<boolean>>();
  const quotaOk = (p: ProjectRecord) => {
    let r = underQuota.get(p.name);
    if (!r) {
      const hard = state.quotaOf(p.project_id).hard;
      r = hard < 0 ? Promise.resolve(true) : view.usage(p.name).then((used) => used < hard);
      underQuota.set(p.name, r);
    }
    return r;
  };
  const out: Access[] = [];
  for (const a of requested) {
    if (id.kind === 'internal') {
      out.push(a);
      continue;
    }
    if (a.type !== 'repository') {
      out.push({ ...a, actions: id.kind === 'admin' ? a.actions : [] });
      continue;
    }
    const project = state.projectByName(a.name.split('/')[0] ?? '');
    const allowed = (action: string): boolean => {
      if (!project) return id.kind === 'admin' && action !== 'push';
      if (id.kind === 'admin') return true;
      if (id.kind === 'anonymous') return action === 'pull' && project.metadata.public === 'true';
      if (id.kind === 'robot') {
        if (action === 'pull' && project.metadata.public === 'true') return true;
        return (
          ['pull', 'push', 'delete'].includes(action) && robotCan(id.robot, project, 'repository', action)
        );
      }
      return false;
    };
    const actions: string[] = [];
    for (const action of a.actions) {
      if (!allowed(action)) continue;
      if (action === 'push' && project && !(await quotaOk(project))) continue;
      actions.push(action);
    }
    out.push({ ...a, actions });
  }
  return out;
}
