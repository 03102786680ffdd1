// Repositories, artifacts and tags, read from and deleted in the real registry (registry-view.ts).
import { isDigest } from '@toolforge/oci';
import { type Identity, requireProject } from './access.ts';
import { projectOf } from './api-projects.ts';
import { matchesTerm, notFound, ok, paged, parseQuery, type Reply } from './http.ts';
import type { ArtifactView, RepositoryView } from './registry-view.ts';
import { type Ctx, type Route, route } from './router.ts';
import type { ProjectRecord } from './state.ts';

const ZERO_TIME = '0001-01-01T00:00:00.000Z';
const iso = (ms: number) => new Date(ms).toISOString();

function allowed(ctx: Ctx, resource: string, action: string): ProjectRecord {
  const p = projectOf(ctx);
  requireProject(ctx.id as Identity, p, resource, action);
  return p;
}

function repoJson(p: ProjectRecord, r: RepositoryView) {
  const updated = Math.max(r.created, ...r.artifacts.map((a) => a.pushTime));
  return {
    id: r.id,
    project_id: p.project_id,
    name: r.name,
    description: '',
    artifact_count: r.artifacts.length,
    pull_count: 0,
    creation_time: iso(r.created),
    update_time: iso(updated),
  };
}

function artifactJson(p: ProjectRecord, r: RepositoryView, a: ArtifactView, withTag: boolean) {
  const d = a.described;
  const base = `/api/v2.0/projects/${p.name}/repositories/${encodeURIComponent(encodeURIComponent(r.name.slice(p.name.length + 1)))}/artifacts/${a.digest}`;
  return {
    id: a.id,
    type: 'IMAGE',
    media_type: d.configMediaType ?? d.mediaType,
    manifest_media_type: d.mediaType,
    artifact_type: d.configMediaType ?? d.mediaType,
    project_id: p.project_id,
    repository_id: r.id,
    repository_name: r.name,
    digest: a.digest,
    size: d.size,
    push_time: iso(a.pushTime),
    pull_time: ZERO_TIME,
    extra_attrs: d.extra,
    annotations: d.annotations ?? null,
    references: d.children.length
      ? d.children.map((c) => ({ parent_id: a.id, child_digest: c, urls: null }))
      : null,
    tags:
      withTag && a.tags.length
        ? a.tags.map((t) => ({
            id: t.id,
            repository_id: r.id,
            artifact_id: a.id,
            name: t.name,
            push_time: iso(t.pushTime),
            pull_time: ZERO_TIME,
            immutable: false,
          }))
        : null,
    labels: null,
    accessories: null,
    addition_links: {
      build_history: { href: `${base}/additions/build_history`, absolute: false },
      vulnerabilities: { href: `${base}/additions/vulnerabilities`, absolute: false },
    },
  };
}

async function repoOf(ctx: Ctx, p: ProjectRecord): Promise<RepositoryView> {
  const r = await ctx.view.repository(`${p.name}/${ctx.params.repo}`);
  if (r.artifacts.length === 0) throw notFound(`repository ${p.name}/${ctx.params.repo} not found`);
  return r;
}

function artifactOf(r: RepositoryView, ref: string): ArtifactView {
  const a = r.artifacts.find((x) => (isDigest(ref) ? x.digest === ref : x.tags.some((t) => t.name === ref)));
  if (!a) throw notFound(`artifact ${r.name}${isDigest(ref) ? '@' : ':'}${ref} not found`);
  return a;
}

async function listArtifacts(ctx: Ctx): Promise<Reply> {
  const p = allowed(ctx, 'artifact', 'list');
  const r = await repoOf(ctx, p);
  const artifacts = [...r.artifacts];
  if (ctx.query.get('sort') === 'push_time') artifacts.reverse();
  const page = paged(artifacts, ctx.query, ctx.path);
  const withTag = ctx.query.get('with_tag') !== 'false';
  return { ...page, body: (page.body as ArtifactView[]).map((a) => artifactJson(p, r, a, withTag)) };
}

export const artifactRoutes: Route[] = [
  route('GET /projects/:p/repositories', async (ctx) => {
    const p = allowed(ctx, 'repository', 'list');
    const name = parseQuery(ctx.query.get('q')).get('name');
    const repos = (await ctx.view.repositories(p.name)).filter((r) => matchesTerm(name, r.name));
    const page = paged(repos, ctx.query, ctx.path);
    return { ...page, body: (page.body as RepositoryView[]).map((r) => repoJson(p, r)) };
  }),
  route('GET /projects/:p/repositories/:repo', async (ctx) => {
    const p = allowed(ctx, 'repository', 'read');
    return ok(repoJson(p, await repoOf(ctx, p)));
  }),
  route('DELETE /projects/:p/repositories/:repo', async (ctx) => {
    const p = allowed(ctx, 'repository', 'delete');
    const r = await repoOf(ctx, p);
    for (const a of r.artifacts) await ctx.view.deleteArtifact(r.name, a.digest);
    return ok();
  }),
  route('GET /projects/:p/repositories/:repo/artifacts', listArtifacts),
  route('GET /projects/:p/repositories/:repo/artifacts/:ref', async (ctx) => {
    const p = allowed(ctx, 'artifact', 'read');
    const r = await repoOf(ctx, p);
    const withTag = ctx.query.get('with_tag') !== 'false';
    return ok(artifactJson(p, r, artifactOf(r, ctx.params.ref ?? ''), withTag));
  }),
  route('DELETE /projects/:p/repositories/:repo/artifacts/:ref', async (ctx) => {
    const p = allowed(ctx, 'artifact', 'delete');
    const r = await repoOf(ctx, p);
    await ctx.view.deleteArtifact(r.name, artifactOf(r, ctx.params.ref ?? '').digest);
    return ok();
  }),
  route('GET /projects/:p/repositories/:repo/artifacts/:ref/tags', async (ctx) => {
    const p = allowed(ctx, 'tag', 'list');
    const r = await repoOf(ctx, p);
    const a = artifactOf(r, ctx.params.ref ?? '');
    const tags = (artifactJson(p, r, a, true).tags ?? []) as unknown[];
    return paged(tags, ctx.query, ctx.path);
  }),
  route('DELETE /projects/:p/repositories/:repo/artifacts/:ref/tags/:tag', async (ctx) => {
    const p = allowed(ctx, 'tag', 'delete');
    const r = await repoOf(ctx, p);
    const a = artifactOf(r, ctx.params.ref ?? '');
    const tag = ctx.params.tag ?? '';
    if (!a.tags.some((t) => t.name === tag)) throw notFound(`tag ${tag} of artifact ${a.digest} not found`);
    const others = a.tags.filter((t) => t.name !== tag).map((t) => t.name);
    await ctx.view.deleteTag(r.name, a.digest, tag, others);
    return ok();
  }),
];
