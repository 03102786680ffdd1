import type { Logger } from 'pino';
import { AppError } from '../../errors.ts';
import { CACHE_SUFFIX } from '../distribution-registry.ts';
import type { CleanReport, ImageRegistry, PushAccess, PushCredentials, StoredImage } from '../port.ts';
import { type HarborClient, HarborError, harborUnavailable } from './client.ts';
import { desiredRetention, sameRetention } from './retention.ts';

/** Harbor's project name rule (src/pkg/project/manager.go): no leading, trailing or doubled separators. */
const PROJECT_NAME = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
/** Robots of builds are `robot$tool-<tool>+build-<the build id's suffix>`. */
const ROBOT_PREFIX = 'build-';

interface Project {
  project_id: number;
  name: string;
  repo_count?: number;
  metadata?: Record<string, string>;
}
interface Artifact {
  digest: string;
  size: number;
  push_time?: string;
  tags?: { name: string }[] | null;
}
interface Robot {
  id: number;
  name: string;
}

/**
 * Harbor behind the registry port: a public project `tool-<tool>` per tool (anyone may pull, only that
 * tool's builds may push), created lazily with its retention policy; one robot account per build, scoped
 * to the project, for the shortest time Harbor allows, deleted when the build ends; quota, listing and
 * clean from Harbor's API. Pushes go to the registry on the same host with the robot's credentials.
 */
export class HarborRegistry implements ImageRegistry, PushCredentials {
  readonly name = 'harbor';
  readonly host: string;
  readonly credentials: PushCredentials = this;
  private readonly api: HarborClient;
  private readonly quotaBytes: number | undefined;
  private readonly retentionKeep: number;
  private readonly log: Logger;
  /** Bytes the tool uses outside Harbor that count against its quota (the embedded engine's build cache). */
  private readonly extraUsage: (tool: string) => Promise<number>;
  /** Per project: the tail of the issue() calls queued for it in this process. */
  private readonly issuing = new Map<string, Promise<void>>();

  constructor(o: {
    client: HarborClient;
    quotaBytes?: number | undefined;
    retentionKeep: number;
    log: Logger;
    extraUsage?: ((tool: string) => Promise<number>) | undefined;
  }) {
    this.api = o.client;
    this.extraUsage = o.extraUsage ?? (async () => 0);
    this.host = o.client.url.host;
    this.quotaBytes = o.quotaBytes;
    this.retentionKeep = o.retentionKeep;
    this.log = o.log;
  }

  /** The tool's project: exactly the name created, never a rewritten one (that could be another tool's). */
  project(tool: string): string {
    const name = `tool-${tool}`;
    if (!PROJECT_NAME.test(name) || name.length > 255)
      throw new AppError(
        'VALIDATION_FAILED',
        `The tool name '${tool}' cannot be a Harbor project name (${name}): Harbor refuses doubled or trailing separators.`,
        { hint: 'Ask the Toolforge admins: this tool cannot push images to Harbor.' },
      );
    return name;
  }

  repository(tool: string, image: string): string {
    return `${this.project(tool)}/${image}`;
  }

  private async getProject(name: string): Promise<Project | undefined> {
    return (await this.api.request<Project>('GET', `/projects/${name}`, { allow404: true })).body;
  }

  /**
   * The project, created if missing (a 409: someone else just did). `ours.tried` says this call tried to
   * create it: then a failure later undoes it, even when the POST's answer was lost after Harbor applied it.
   */
  private async ensureProject(name: string, ours: { tried: boolean }): Promise<Project> {
    const existing = await this.getProject(name);
    if (existing) return existing;
    ours.tried = true;
    try {
      await this.api.request('POST', '/projects', {
        body: {
          project_name: name,
          metadata: { public: 'true' },
          storage_limit: this.quotaBytes ?? -1,
        },
      });
    } catch (err) {
      if (!(err instanceof HarborError && err.status === 409)) throw err;
      ours.tried = false;
    }
    const project = await this.getProject(name);
    if (!project) throw new HarborError(404, `project ${name} vanished after it was created`);
    return project;
  }

  private robotsOf(project: Project): Promise<Robot[]> {
    return this.api.list<Robot>(`/robots?q=Level%3Dproject,ProjectID%3D${project.project_id}`);
  }

  /**
   * Undo a project this process tried to create, if it is still unused (no repositories, no robots):
   * that it exists may be our POST applied with its answer lost; in use, it is someone else's now.
   * (Harbor itself refuses to delete a project with repositories.)
   */
  private async dropIfUnused(name: string): Promise<void> {
    const project = await this.getProject(name);
    if (!project || Number(project.repo_count) > 0 || (await this.robotsOf(project)).length > 0) return;
    await this.api.request('DELETE', `/projects/${name}`, { allow404: true });
  }

  /** Delete a robot by its (per build unique) full name: its POST may have been applied, its answer lost. */
  private async dropRobot(projectName: string, fullName: string): Promise<void> {
    const project = await this.getProject(projectName);
    if (!project) return;
    for (const r of await this.robotsOf(project)) {
      if (r.name === fullName) await this.api.request('DELETE', `/robots/${r.id}`, { allow404: true });
    }
  }

  /** Create or repair the project's retention policy (keep the newest N artifacts per repository). */
  private async ensureRetention(project: Project): Promise<void> {
    const want = desiredRetention(project.project_id, this.retentionKeep);
    const id = project.metadata?.retention_id;
    if (id) {
      const have = (
        await this.api.request<Record<string, unknown>>('GET', `/retentions/${id}`, { allow404: true })
      ).body;
      if (have && sameRetention(have, want)) return;
      if (have) {
        await this.api.request('PUT', `/retentions/${id}`, { body: { ...want, id: Number(id) } });
        return;
      }
    }
    await this.api.request('POST', '/retentions', { body: want });
  }

  /**
   * One at a time per tool in this process: a first build failing must not delete the project that a
   * concurrent first build of the same tool has just put its robot into.
   */
  private serialised<T>(name: string, work: () => Promise<T>): Promise<T> {
    const run = (this.issuing.get(name) ?? Promise.resolve()).then(work);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.issuing.set(name, settled);
    void settled.then(() => {
      if (this.issuing.get(name) === settled) this.issuing.delete(name);
    });
    return run;
  }

  async issue(tool: string, buildId: string): Promise<PushAccess> {
    const name = this.project(tool);
    return this.serialised(name, () => this.prepare(name, buildId));
  }

  /** The project and its retention policy, without a robot: a start checks Harbor before it queues. */
  async ready(tool: string): Promise<void> {
    const name = this.project(tool);
    await this.serialised(name, async () => {
      const ours = { tried: false };
      try {
        await this.ensureRetention(await this.ensureProject(name, ours));
      } catch (err) {
        if (ours.tried) await this.dropIfUnused(name).catch(() => undefined);
        if (err instanceof AppError) throw err;
        throw harborUnavailable(`preparing ${name} for a push`, err);
      }
    });
  }

  /** The project with its retention policy, then a robot for the build; on failure, undo what was made. */
  private async prepare(name: string, buildId: string): Promise<PushAccess> {
    const robot = `${ROBOT_PREFIX}${buildId.slice(-5)}`;
    const ours = { tried: false };
    let robotSent = false;
    try {
      await this.ensureRetention(await this.ensureProject(name, ours));
      robotSent = true;
      const { body } = await this.api.request<{ id: number; name: string; secret: string }>(
        'POST',
        '/robots',
        {
          body: {
            name: robot,
            description: `Push access of build ${buildId}; deleted when it ends.`,
            duration: 1, // days: Harbor's shortest; deleted at the end of the build anyway
            level: 'project',
            disable: false,
            permissions: [
              {
                kind: 'project',
                namespace: name,
                access: [
                  { resource: 'repository', action: 'push' },
                  { resource: 'repository', action: 'pull' },
                ],
              },
            ],
          },
        },
      );
      if (!body?.secret) throw new HarborError(0, 'the robot account came without a secret');
      return { id: String(body.id), username: body.name, password: body.secret };
    } catch (err) {
      // Nothing half-created, as far as Harbor lets us: best effort, the caller gets the original error.
      // A 4xx on the robot was a refusal (a 409 names someone else's robot): nothing of ours to delete.
      const refused = err instanceof HarborError && err.status >= 400 && err.status < 500;
      if (robotSent && !refused) await this.dropRobot(name, `robot$${name}+${robot}`).catch(() => undefined);
      if (ours.tried) await this.dropIfUnused(name).catch(() => undefined);
      if (err instanceof AppError) throw err;
      throw harborUnavailable(`preparing ${name} for a push`, err);
    }
  }

  async revoke(_tool: string, id: string): Promise<void> {
    try {
      await this.api.request('DELETE', `/robots/${id}`, { allow404: true });
    } catch (err) {
      throw harborUnavailable('deleting a robot account', err);
    }
  }

  async sweep(isActive: (tool: string, buildId: string) => Promise<boolean>): Promise<number> {
    let removed = 0;
    const projects = await this.api.list<Project>('/projects?q=name%3D~tool-');
    for (const p of projects) {
      if (!p.name.startsWith('tool-')) continue;
      const tool = p.name.slice('tool-'.length);
      const robots = await this.api.list<Robot>(`/robots?q=Level%3Dproject,ProjectID%3D${p.project_id}`);
      for (const r of robots) {
        const suffix = r.name.match(new RegExp(`\\+${ROBOT_PREFIX}([a-z0-9]{5})$`))?.[1];
        if (!suffix || (await isActive(tool, `${tool}-buildpacks-pipelinerun-${suffix}`))) continue;
        await this.api.request('DELETE', `/robots/${r.id}`, { allow404: true });
        removed++;
      }
    }
    if (removed) this.log.info({ removed }, 'deleted robot accounts of builds that had ended');
    return removed;
  }

  private async artifacts(tool: string, includeCache: boolean): Promise<(StoredImage & { repo: string })[]> {
    const name = this.project(tool);
    try {
      const repos = await this.api.list<{ name: string }>(`/projects/${name}/repositories`);
      const out: (StoredImage & { repo: string })[] = [];
      for (const r of repos) {
        const repo = r.name.slice(name.length + 1);
        if (!includeCache && repo.endsWith(CACHE_SUFFIX)) continue;
        const path = `/projects/${name}/repositories/${encodeURIComponent(encodeURIComponent(repo))}/artifacts?with_tag=true`;
        for (const a of await this.api.list<Artifact>(path)) {
          out.push({
            repo,
            repository: repo,
            digest: a.digest,
            tags: (a.tags ?? []).map((t) => t.name),
            sizeBytes: a.size,
            ...(a.push_time ? { pushedAt: a.push_time } : {}),
          });
        }
      }
      return out.sort((a, b) => a.repository.localeCompare(b.repository) || a.digest.localeCompare(b.digest));
    } catch (err) {
      throw harborUnavailable(`listing ${name}`, err);
    }
  }

  async list(tool: string): Promise<StoredImage[]> {
    return (await this.artifacts(tool, false)).map(({ repo: _r, ...i }) => i);
  }

  async quota(tool: string): Promise<{ usedBytes: number; limitBytes: number | undefined }> {
    const name = this.project(tool);
    try {
      const project = await this.getProject(name);
      const extra = await this.extraUsage(tool);
      if (!project) return { usedBytes: extra, limitBytes: this.quotaBytes };
      const { body } = await this.api.request<{ hard?: { storage?: number }; used?: { storage?: number } }[]>(
        'GET',
        `/quotas?reference=project&reference_id=${project.project_id}`,
      );
      const q = body?.[0];
      const hard = q?.hard?.storage;
      return {
        usedBytes: (q?.used?.storage ?? 0) + extra,
        limitBytes: hard === undefined || hard < 0 ? undefined : hard,
      };
    } catch (err) {
      throw harborUnavailable(`reading the quota of ${name}`, err);
    }
  }

  async clean(tool: string, keep: ReadonlySet<string>, opts: { keepLatest: boolean }): Promise<CleanReport> {
    const report: CleanReport = { removed: [], kept: [], freedBytes: 0 };
    const name = this.project(tool);
    let failure: AppError | undefined;
    for (const a of await this.artifacts(tool, true)) {
      const image = `${name}/${a.repo}:${a.tags.join(',') || '<untagged>'}`;
      const cache = a.repo.endsWith(CACHE_SUFFIX);
      if (keep.has(a.digest)) {
        report.kept.push({ image, digest: a.digest, reason: 'used by a running webservice or job' });
        continue;
      }
      if (opts.keepLatest && !cache && a.tags.includes('latest')) {
        report.kept.push({ image, digest: a.digest, reason: 'latest image kept' });
        continue;
      }
      try {
        const repo = encodeURIComponent(encodeURIComponent(a.repo));
        await this.api.request('DELETE', `/projects/${name}/repositories/${repo}/artifacts/${a.digest}`, {
          allow404: true,
        });
      } catch (err) {
        // Go on: what was removed before (and may be after) must still be reported.
        failure ??= harborUnavailable(`deleting ${image}`, err);
        report.kept.push({ image, digest: a.digest, reason: 'Harbor unavailable' });
        continue;
      }
      report.removed.push({ image, digest: a.digest, reason: cache ? 'build cache' : 'removed' });
      report.freedBytes += a.sizeBytes;
    }
    // Only a clean that removed nothing at all is an error; a partial one says what it kept and why.
    if (failure && report.removed.length === 0) throw failure;
    if (failure) this.log.warn({ tool, kept: report.kept.length }, 'clean: Harbor failed on some artifacts');
    return report;
  }

  async health(): Promise<string | undefined> {
    try {
      await this.api.request('GET', '/health');
      return undefined;
    } catch (err) {
      return `Harbor ${this.host}: ${(err as Error).message}`;
    }
  }
}
