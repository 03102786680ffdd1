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

  constructor(o: { client: HarborClient; quotaBytes?: number; retentionKeep: number; log: Logger }) {
    this.api = o.client;
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

  /** Create the project if missing (409: someone else did); `made.created` says whether this call did. */
  private async ensureProject(tool: string, made: { created: boolean }): Promise<Project> {
    const name = this.project(tool);
    try {
      await this.api.request('POST', '/projects', {
        body: {
          project_name: name,
          metadata: { public: 'true' },
          storage_limit: this.quotaBytes ?? -1,
        },
      });
      made.created = true;
    } catch (err) {
      if (!(err instanceof HarborError && err.status === 409)) throw err;
    }
    const project = await this.getProject(name);
    if (!project) throw new HarborError(404, `project ${name} vanished after it was created`);
    return project;
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

  async issue(tool: string, buildId: string): Promise<PushAccess> {
    const name = this.project(tool);
    const made = { created: false };
    try {
      await this.ensureRetention(await this.ensureProject(tool, made));
      const { body } = await this.api.request<{ id: number; name: string; secret: string }>(
        'POST',
        '/robots',
        {
          body: {
            name: `${ROBOT_PREFIX}${buildId.slice(-5)}`,
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
      // Nothing half-created: a project made by this call goes again (it is still empty).
      if (made.created) await this.api.request('DELETE', `/projects/${name}`).catch(() => undefined);
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
      if (!project) return { usedBytes: 0, limitBytes: this.quotaBytes };
      const { body } = await this.api.request<{ hard?: { storage?: number }; used?: { storage?: number } }[]>(
        'GET',
        `/quotas?reference=project&reference_id=${project.project_id}`,
      );
      const q = body?.[0];
      const hard = q?.hard?.storage;
      return {
        usedBytes: q?.used?.storage ?? 0,
        limitBytes: hard === undefined || hard < 0 ? undefined : hard,
      };
    } catch (err) {
      throw harborUnavailable(`reading the quota of ${name}`, err);
    }
  }

  async clean(tool: string, keep: ReadonlySet<string>, opts: { keepLatest: boolean }): Promise<CleanReport> {
    const report: CleanReport = { removed: [], kept: [], freedBytes: 0 };
    const name = this.project(tool);
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
        throw harborUnavailable(`deleting ${image}`, err);
      }
      report.removed.push({ image, digest: a.digest, reason: cache ? 'build cache' : 'removed' });
      report.freedBytes += a.sizeBytes;
    }
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
