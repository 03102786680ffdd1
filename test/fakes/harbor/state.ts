// The fake Harbor's own database: projects, quotas, robots, retention policies. Image contents are not
// here: they are read from the real registry (registry-view.ts).
import { isoNow, notFound } from './http.ts';

export interface ProjectRecord {
  project_id: number;
  name: string;
  /** Harbor's string map (`public: "true" | "false"`, `retention_id`, …). */
  metadata: Record<string, string>;
  owner_id: number;
  owner_name: string;
  creation_time: string;
  update_time: string;
}

export interface QuotaRecord {
  id: number;
  project_id: number;
  /** Bytes; -1 = unlimited. */
  hard: number;
  creation_time: string;
  update_time: string;
}

export interface RobotAccess {
  resource: string;
  action: string;
  effect?: string;
}

export interface RobotPermission {
  kind: string;
  namespace: string;
  access: RobotAccess[];
}

export interface RobotRecord {
  id: number;
  /** The full name, `robot$<project>+<name>`. */
  name: string;
  project_id: number;
  description: string;
  duration: number;
  level: 'project';
  disable: boolean;
  permissions: RobotPermission[];
  /** Unix seconds, -1 = never. Set it in the past to make the robot expired. */
  expires_at: number;
  creation_time: string;
  update_time: string;
  /** Kept for the fake's checks; the API returns it only on create. */
  secret: string;
}

export interface RetentionExecution {
  id: number;
  policy_id: number;
  start_time: string;
  end_time: string;
  status: 'Succeed';
  trigger: 'MANUAL';
  dry_run: boolean;
  /** Per repository: artifacts before the run and those kept (Harbor's tasks). */
  tasks: { id: number; repository: string; total: number; retained: number; deleted: string[] }[];
}

export interface RetentionRecord {
  id: number;
  project_id: number;
  /** The policy as last POSTed/PUT, with `id`. */
  policy: Record<string, unknown>;
  executions: RetentionExecution[];
}

type IdKind =
  | 'project'
  | 'quota'
  | 'robot'
  | 'retention'
  | 'execution'
  | 'task'
  | 'repository'
  | 'artifact'
  | 'tag';

export class State {
  readonly projects = new Map<number, ProjectRecord>();
  readonly quotas = new Map<number, QuotaRecord>();
  readonly robots = new Map<number, RobotRecord>();
  readonly retentions = new Map<number, RetentionRecord>();
  /** Every robot secret handed out, for tests that check none of them leaks. */
  readonly issuedSecrets: string[] = [];
  readonly #ids: Record<IdKind, number> = {
    project: 0,
    quota: 0,
    robot: 0,
    retention: 0,
    execution: 0,
    task: 0,
    repository: 0,
    artifact: 0,
    tag: 0,
  };

  nextId(kind: IdKind): number {
    return ++this.#ids[kind];
  }

  projectByName(name: string): ProjectRecord | undefined {
    for (const p of this.projects.values()) if (p.name === name) return p;
    return undefined;
  }

  /** `{project_name_or_id}`: a number is an id unless `X-Is-Resource-Name: true`. */
  resolveProject(nameOrId: string, isName: boolean): ProjectRecord {
    const p =
      !isName && /^\d+$/.test(nameOrId) ? this.projects.get(Number(nameOrId)) : this.projectByName(nameOrId);
    if (!p) throw notFound(`project ${nameOrId} not found`);
    return p;
  }

  quotaOf(projectId: number): QuotaRecord {
    for (const q of this.quotas.values()) if (q.project_id === projectId) return q;
    throw notFound(`quota for project ${projectId} not found`);
  }

  robotByName(fullName: string): RobotRecord | undefined {
    for (const r of this.robots.values()) if (r.name === fullName) return r;
    return undefined;
  }

  /** The project a robot may act on (project-level robots have exactly one). */
  robotProject(r: RobotRecord): ProjectRecord | undefined {
    return this.projects.get(r.project_id);
  }

  createProject(name: string, metadata: Record<string, string>, hard: number): ProjectRecord {
    const now = isoNow();
    const p: ProjectRecord = {
      project_id: this.nextId('project'),
      name,
      metadata: { public: 'false', ...metadata },
      owner_id: 1,
      owner_name: 'admin',
      creation_time: now,
      update_time: now,
    };
    this.projects.set(p.project_id, p);
    const q: QuotaRecord = {
      id: this.nextId('quota'),
      project_id: p.project_id,
      hard,
      creation_time: now,
      update_time: now,
    };
    this.quotas.set(q.id, q);
    return p;
  }

  /** Harbor deletes a project's robots, quota and retention policy with it. */
  deleteProject(p: ProjectRecord): void {
    this.projects.delete(p.project_id);
    for (const [id, q] of this.quotas) if (q.project_id === p.project_id) this.quotas.delete(id);
    for (const [id, r] of this.robots) if (r.project_id === p.project_id) this.robots.delete(id);
    for (const [id, r] of this.retentions) if (r.project_id === p.project_id) this.retentions.delete(id);
  }
}
