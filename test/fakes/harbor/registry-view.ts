// What Harbor's database would say about images, derived from the real registry's HTTP API (catalog, tags,
// manifests) so pushes made straight to /v2/ show up. The fake only remembers what distribution cannot
// tell: when a digest or tag was first seen (push_time), untagged digests, and numeric ids.
import { mapLimit, parseManifestOrIndex, type RegistryClient, RegistryError, sha256 } from '@toolforge/oci';

/** A manifest's content, which a digest fixes for good (so it is cached by digest). */
export interface Described {
  mediaType: string;
  /** Harbor's artifact size: the manifest plus config and layers (for an index, plus its children's). */
  size: number;
  /** Every blob the artifact holds, manifests included: digest → size (what quota usage sums). */
  blobs: Map<string, number>;
  /** Child manifests of an index. */
  children: string[];
  configMediaType: string | undefined;
  annotations: Record<string, string> | undefined;
  extra: Record<string, unknown>;
}

export interface ArtifactView {
  id: number;
  repository: string;
  digest: string;
  pushTime: number;
  /** Tie-breaker for equal push times (pushes within one millisecond). */
  seq: number;
  tags: { id: number; name: string; pushTime: number }[];
  described: Described;
}

export interface RepositoryView {
  id: number;
  name: string;
  created: number;
  artifacts: ArtifactView[];
}

interface Seen {
  id: number;
  time: number;
  seq: number;
}

export class RegistryView {
  readonly #client: RegistryClient;
  readonly #described = new Map<string, Promise<Described>>();
  /** repo → digest → first seen. */
  readonly #digests = new Map<string, Map<string, Seen>>();
  /** repo → tag → digest it pointed at when first seen pointing there. */
  readonly #tags = new Map<string, Map<string, Seen & { digest: string }>>();
  readonly #repos = new Map<string, Seen>();
  readonly #nextId: (kind: 'repository' | 'artifact' | 'tag') => number;
  #seq = 0;

  constructor(client: RegistryClient, nextId: (kind: 'repository' | 'artifact' | 'tag') => number) {
    this.#client = client;
    this.#nextId = nextId;
  }

  #stamp(kind: 'repository' | 'artifact' | 'tag', time = Date.now()): Seen {
    return { id: this.#nextId(kind), time, seq: ++this.#seq };
  }

  #digestMap(repo: string): Map<string, Seen> {
    let m = this.#digests.get(repo);
    if (!m) {
      m = new Map();
      this.#digests.set(repo, m);
    }
    return m;
  }

  #see(repo: string, digest: string, tag?: string, time = Date.now()): void {
    if (!this.#repos.has(repo)) this.#repos.set(repo, this.#stamp('repository', time));
    const digests = this.#digestMap(repo);
    if (!digests.has(digest)) digests.set(digest, this.#stamp('artifact', time));
    if (tag === undefined) return;
    let tags = this.#tags.get(repo);
    if (!tags) {
      tags = new Map();
      this.#tags.set(repo, tags);
    }
    if (tags.get(tag)?.digest !== digest) tags.set(tag, { ...this.#stamp('tag', time), digest });
  }

  /** A manifest PUT that went through the Harbor host: its time is the push time. */
  recordPush(repo: string, digest: string, tag: string | undefined): void {
    this.#see(repo, digest, tag);
  }

  describe(repo: string, digest: string): Promise<Described> {
    let d = this.#described.get(digest);
    if (!d) {
      d = this.#client.getManifest(repo, digest).then((m) => this.describeBytes(repo, m.bytes));
      d.catch(() => this.#described.delete(digest));
      this.#described.set(digest, d);
    }
    return d;
  }

  /** Describes manifest bytes (an index's children must already be in `repo`). */
  async describeBytes(repo: string, bytes: Buffer): Promise<Described> {
    const parsed = parseManifestOrIndex(bytes);
    const blobs = new Map<string, number>([[sha256(bytes), bytes.length]]);
    const raw = JSON.parse(bytes.toString('utf8')) as { annotations?: Record<string, string> };
    const d: Described = {
      mediaType: parsed.mediaType,
      size: 0,
      blobs,
      children: [],
      configMediaType: undefined,
      annotations: raw.annotations,
      extra: {},
    };
    if (parsed.kind === 'index') {
      for (const m of parsed.index.manifests) {
        d.children.push(m.digest);
        for (const [k, v] of (await this.describe(repo, m.digest)).blobs) blobs.set(k, v);
      }
    } else {
      const { config, layers } = parsed.manifest;
      d.configMediaType = config.mediaType;
      for (const b of [config, ...layers]) blobs.set(b.digest, b.size);
      if (config.size < 1 << 20 && /json/.test(config.mediaType))
        d.extra = await this.#configAttrs(repo, config);
    }
    d.size = [...blobs.values()].reduce((a, b) => a + b, 0);
    return d;
  }

  async #configAttrs(repo: string, config: { digest: string; size: number }) {
    try {
      const c = JSON.parse((await this.#client.getBlobBytes(repo, config)).toString('utf8'));
      return {
        architecture: c.architecture,
        os: c.os,
        created: c.created,
        author: c.author,
        config: c.config,
      };
    } catch {
      return {};
    }
  }

  async #listTags(repo: string): Promise<string[]> {
    try {
      return await this.#client.listTags(repo);
    } catch (e) {
      if (e instanceof RegistryError && e.status === 404) return [];
      throw e;
    }
  }

  /** One repository as Harbor lists it (artifacts newest first); children of an index are not listed. */
  async repository(repo: string): Promise<RepositoryView> {
    const tags = await this.#listTags(repo);
    const heads = await mapLimit(tags, 8, async (t) => ({ t, d: await this.#client.headManifest(repo, t) }));
    for (const { t, d } of heads) if (d) this.#see(repo, d.digest, t);
    const tagMap = this.#tags.get(repo);
    for (const t of tagMap?.keys() ?? []) if (!tags.includes(t)) tagMap?.delete(t);
    const digests = this.#digestMap(repo);
    const tagged = new Set(heads.flatMap(({ d }) => (d ? [d.digest] : [])));
    await mapLimit([...digests.keys()], 8, async (digest) => {
      if (!tagged.has(digest) && !(await this.#client.headManifest(repo, digest))) digests.delete(digest);
    });
    const described = new Map<string, Described>();
    await mapLimit([...digests.keys()], 8, async (d) => described.set(d, await this.describe(repo, d)));
    const children = new Set([...described.values()].flatMap((d) => d.children));
    const artifacts: ArtifactView[] = [];
    for (const [digest, seen] of digests) {
      const d = described.get(digest);
      if (!d || children.has(digest)) continue;
      const artifactTags = [...(tagMap ?? [])]
        .filter(([, v]) => v.digest === digest)
        .map(([name, v]) => ({ id: v.id, name, pushTime: v.time }))
        .sort((a, b) => b.pushTime - a.pushTime);
      artifacts.push({
        id: seen.id,
        repository: repo,
        digest,
        pushTime: seen.time,
        seq: seen.seq,
        tags: artifactTags,
        described: d,
      });
    }
    artifacts.sort((a, b) => b.pushTime - a.pushTime || b.seq - a.seq);
    const r = this.#repos.get(repo) ?? { id: 0, time: Date.now() };
    return { id: r.id, name: repo, created: r.time, artifacts };
  }

  /** The project's repositories that hold at least one artifact (distribution's catalog keeps empty ones). */
  async repositories(project: string): Promise<RepositoryView[]> {
    const names = await this.#client.listRepositories({ prefix: `${project}/` });
    const repos = await mapLimit(names, 4, (n) => this.repository(n));
    return repos.filter((r) => r.artifacts.length > 0).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Distinct blobs referenced by the project's manifests: digest → size. */
  async blobs(project: string): Promise<Map<string, number>> {
    const all = new Map<string, number>();
    for (const r of await this.repositories(project)) {
      for (const a of r.artifacts) for (const [k, v] of a.described.blobs) all.set(k, v);
    }
    return all;
  }

  async usage(project: string): Promise<number> {
    return [...(await this.blobs(project)).values()].reduce((a, b) => a + b, 0);
  }

  /** Deletes the manifest (distribution drops all its tags) and an index's children. */
  async deleteArtifact(repo: string, digest: string): Promise<void> {
    const d = await this.describe(repo, digest);
    await this.#client.deleteManifest(repo, digest);
    for (const c of d.children) await this.#client.deleteManifest(repo, c).catch(() => {});
    for (const x of [digest, ...d.children]) this.#digests.get(repo)?.delete(x);
    const tags = this.#tags.get(repo);
    for (const [t, v] of tags ?? []) if (v.digest === digest) tags?.delete(t);
  }

  /**
   * Removes one tag for real: distribution 2.8 cannot untag, so the manifest is deleted by digest (which
   * drops all its tags) and put back by digest and under its other tags. Push times are kept.
   */
  async deleteTag(repo: string, digest: string, tag: string, otherTags: string[]): Promise<void> {
    const m = await this.#client.getManifest(repo, digest);
    await this.#client.deleteManifest(repo, digest);
    await this.#client.putManifest(repo, digest, m.bytes, m.descriptor.mediaType);
    for (const t of otherTags) await this.#client.putManifest(repo, t, m.bytes, m.descriptor.mediaType);
    this.#tags.get(repo)?.delete(tag);
  }
}
