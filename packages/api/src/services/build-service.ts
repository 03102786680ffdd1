import type { z } from 'zod';
import type {
  Build,
  BuildLog,
  BuildParameters,
  CleanResponseSchema,
  ResponseMessages,
} from '../contract/index.ts';
import { messages } from '../contract/index.ts';
import type { BuildEngine, PinnedDigests } from '../engines/port.ts';
import { AppError } from '../errors.ts';
import type { ImageRegistry } from '../registry/port.ts';
import { type GitOptions, resolveRef } from '../source/git.ts';
import { resolveSource, type SourcePolicy } from '../source/url.ts';
import { quotaShape } from './quota.ts';
import { type EnvvarLimits, validateEnvvars, validateImageName, validateRef } from './validation.ts';

export interface BuilderPair {
  builder: string;
  runner: string;
}
export interface BuilderPairs {
  default: BuilderPair;
  latest: BuilderPair;
  deprecated?: BuilderPair & { validUntil: Date };
}

export interface BuildServiceDeps {
  engine: BuildEngine;
  registry: ImageRegistry;
  pins: PinnedDigests;
  sourcePolicy: SourcePolicy;
  git: GitOptions;
  envvarLimits: EnvvarLimits;
  builders: () => BuilderPairs;
  /** Extra work for clean (e.g. removing build caches); returns info lines. */
  cleanExtras?: (tool: string) => Promise<string[]>;
  /** Whether a tool has builds running (clean then keeps blobs a build may be writing). */
  busy?: (tool: string) => boolean;
  onStarted?: () => void;
  now?: () => Date;
}

const notFound = (id: string) =>
  new AppError('BUILD_NOT_FOUND', `Build '${id}' not found.`, {
    hint: 'Run `toolforge build list` to see your builds.',
  });

/** Domain rules of the builds API; routes stay one-liners, engines never see unvalidated input. */
export class BuildService {
  private readonly d: BuildServiceDeps;
  constructor(deps: BuildServiceDeps) {
    this.d = deps;
  }

  private pickBuilder(params: BuildParameters, warnings: string[]): BuilderPair {
    const pairs = this.d.builders();
    if (params.use_latest_versions) return pairs.latest;
    if (!params.use_deprecated_versions) return pairs.default;
    const dep = pairs.deprecated;
    if (!dep) {
      throw new AppError('DEPRECATED_EXPIRED', 'There is no deprecated builder version to use.', {
        hint: 'Build without --use-deprecated-versions.',
      });
    }
    const until = dep.validUntil.toISOString().slice(0, 10);
    if ((this.d.now?.() ?? new Date()) >= dep.validUntil) {
      throw new AppError(
        'DEPRECATED_EXPIRED',
        `Deprecated version are not supported anymore (the deadline was until ${until}).`,
        {
          hint: 'Build without --use-deprecated-versions and fix what the current builder needs.',
        },
      );
    }
    warnings.push(
      `Using a deprecated version of the builder and run images: this will fail starting on ${until} UTC.`,
    );
    return dep;
  }

  async start(
    tool: string,
    params: BuildParameters,
  ): Promise<{
    messages: ResponseMessages;
    new_build: { name: string; resolved_ref: string; parameters: BuildParameters };
  }> {
    const envvars = params.envvars ?? {};
    validateEnvvars(envvars, this.d.envvarLimits);
    const imageName = params.image_name || `tool-${tool}`;
    validateImageName(imageName);
    if (params.ref) validateRef(params.ref);
    const warnings: string[] = [];
    const pair = this.pickBuilder(params, warnings);
    const source = await resolveSource(params.source_url, this.d.sourcePolicy);
    const resolvedRef = await resolveRef(source, params.ref, this.d.git);
    const build = await this.d.engine.start({
      tool,
      params: { ...params, envvars },
      imageName,
      resolvedRef,
      builderImage: pair.builder,
      runImage: pair.runner,
      destination: `${this.d.registry.host}/${this.d.registry.repository(tool, imageName)}:latest`,
    });
    this.d.onStarted?.();
    const { percent } = await this.quotaNumbers(tool).catch(() => ({ percent: 0 }));
    if (percent > 90) {
      warnings.push(
        `Tool ${tool} has used up ${percent}% of it's alloted quota. To avoid the possibility of your build failing, run "toolforge build clean" to free up quota.`,
      );
    }
    const info = build.queue_position ? [`The build is queued (position ${build.queue_position}).`] : [];
    return {
      messages: messages({ info, warning: warnings }),
      new_build: { name: build.build_id, resolved_ref: resolvedRef, parameters: build.parameters },
    };
  }

  async list(tool: string): Promise<Build[]> {
    return this.d.engine.list(tool);
  }

  async latest(tool: string): Promise<Build> {
    const [first] = await this.d.engine.list(tool);
    if (!first)
      throw new AppError('NO_BUILDS', 'No builds exist yet.', {
        hint: 'Start one with `toolforge build start <git-url>`.',
      });
    return first;
  }

  async get(tool: string, id: string): Promise<Build> {
    const b = await this.d.engine.get(tool, id);
    if (!b) throw notFound(id);
    return b;
  }

  async cancel(tool: string, id: string): Promise<void> {
    await this.d.engine.cancel(tool, id);
  }

  async delete(tool: string, id: string): Promise<void> {
    await this.d.engine.delete(tool, id);
  }

  logs(
    tool: string,
    id: string,
    opts: { follow: boolean; signal: AbortSignal },
  ): Promise<AsyncIterable<BuildLog>> {
    return this.d.engine.logs(tool, id, opts);
  }

  private async quotaNumbers(tool: string) {
    const q = await this.d.registry.quota(tool);
    return quotaShape(q.usedBytes, q.limitBytes);
  }

  async quota(tool: string) {
    return (await this.quotaNumbers(tool)).quota;
  }

  async clean(tool: string, opts: { keepLatest: boolean }): Promise<z.input<typeof CleanResponseSchema>> {
    const pinned = await this.d.pins.pinned(tool);
    const report = await this.d.registry.clean(tool, pinned, {
      keepLatest: opts.keepLatest,
      quiescent: !this.d.busy?.(tool),
    });
    const extras = (await this.d.cleanExtras?.(tool)) ?? [];
    const info = [
      ...report.removed.map((r) => `Removed ${r.image} (${r.digest.slice(0, 19)})`),
      ...report.kept.map((k) => `Kept ${k.image} (${k.digest.slice(0, 19)}): ${k.reason}`),
      ...extras,
    ];
    if (!report.removed.length && !extras.length) info.unshift('Nothing to clean up.');
    return {
      messages: messages({ info }),
      images: [
        ...report.removed.map((r) => ({
          image: r.image,
          digest: r.digest,
          action: 'removed' as const,
          reason: r.reason,
        })),
        ...report.kept.map((k) => ({
          image: k.image,
          digest: k.digest,
          action: 'kept' as const,
          reason: k.reason,
        })),
      ],
      freed_bytes: report.freedBytes,
    };
  }
}
