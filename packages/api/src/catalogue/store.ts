import type { Logger } from 'pino';
import type { BuilderPairs } from '../services/build-service.ts';
import { toLegacy } from './legacy.ts';
import { parseCatalogue } from './parse.ts';
import type { Catalogue } from './schema.ts';
import { type CatalogueSource, LEGACY_NAME } from './source.ts';

/** As upstream: a deprecated pair is refused from `valid_until` 00:00 UTC on. */
export const validUntil = (date: string) => new Date(`${date}T00:00:00Z`);

export function catalogueBuilders(c: Catalogue): BuilderPairs {
  const b = c.builders;
  return {
    default: b.default,
    latest: b.latest ?? b.default,
    ...(b.deprecated
      ? {
          deprecated: {
            builder: b.deprecated.builder,
            runner: b.deprecated.runner,
            validUntil: validUntil(b.deprecated.valid_until),
          },
        }
      : {}),
  };
}

/**
 * The catalogue in force: loaded from its source, reloaded when it changes. A new version that does not
 * parse is refused (logged with every problem, shown by healthz) and the last good one stays in force.
 * Without a catalogue the builders come from configuration (BUILDER, RUNNER, LATEST_*, DEPRECATED_*).
 */
export class CatalogueStore {
  private readonly source: CatalogueSource | undefined;
  private readonly fallback: BuilderPairs;
  private readonly log: Logger;
  private good: { catalogue: Catalogue; revision: string } | undefined;
  private refused: { revision: string; problems: string[] } | undefined;
  private unreadable: string | undefined;
  private stopWatch: (() => void) | undefined;
  private reloading: Promise<void> | undefined;
  private again = false;

  constructor(source: CatalogueSource | undefined, fallback: BuilderPairs, log: Logger) {
    this.source = source;
    this.fallback = fallback;
    this.log = log;
  }

  get current(): Catalogue | undefined {
    return this.good?.catalogue;
  }

  builders(): BuilderPairs {
    return this.good ? catalogueBuilders(this.good.catalogue) : this.fallback;
  }

  /** Read the source again (coalesced: a reload asked for during one runs once after it). */
  reload(): Promise<void> {
    if (this.reloading) {
      this.again = true;
      return this.reloading;
    }
    this.reloading = (async () => {
      try {
        do {
          this.again = false;
          await this.load();
        } while (this.again);
      } finally {
        this.reloading = undefined;
      }
    })();
    return this.reloading;
  }

  private async load(): Promise<void> {
    if (!this.source) return;
    let doc: Awaited<ReturnType<CatalogueSource['read']>>;
    try {
      doc = await this.source.read();
      this.unreadable = undefined;
    } catch (err) {
      this.unreadable = `cannot read ${this.source.description}: ${(err as Error).message}`;
      this.log.warn({ err }, 'catalogue: cannot read its source; keeping the one in force');
      return;
    }
    if (!doc || doc.revision === this.good?.revision || doc.revision === this.refused?.revision) return;
    const parsed = parseCatalogue(doc.text, { legacyBuilders: this.fallback.default });
    if (!parsed.ok) {
      this.refused = { revision: doc.revision, problems: parsed.problems };
      this.log.error(
        { source: this.source.description, problems: parsed.problems },
        `catalogue: the new version is invalid; keeping ${this.good ? `revision ${this.good.catalogue.revision ?? 0}` : 'the configured builders'}`,
      );
      return;
    }
    this.good = { catalogue: parsed.catalogue, revision: doc.revision };
    this.refused = undefined;
    this.log.info(
      { source: this.source.description, revision: parsed.catalogue.revision, format: parsed.format },
      'catalogue loaded',
    );
    if (parsed.format === 'v1') await this.repairLegacy(parsed.catalogue, doc.revision);
  }

  /** Today's readers see the legacy document: bring it back in line with the catalogue in force. */
  private async repairLegacy(catalogue: Catalogue, revision: string): Promise<void> {
    if (!this.source?.repairLegacy) return;
    try {
      if (await this.source.repairLegacy(toLegacy(catalogue), revision))
        this.log.warn(
          { source: this.source.description, revision: catalogue.revision },
          `catalogue: ${LEGACY_NAME} did not match the catalogue (an interrupted publish?); rewrote it`,
        );
    } catch (err) {
      this.log.warn({ err }, `catalogue: cannot repair ${LEGACY_NAME}`);
    }
  }

  /** Load now and follow changes. */
  async start(): Promise<void> {
    await this.reload();
    this.stopWatch = this.source?.watch(() => void this.reload());
  }

  stop(): void {
    this.stopWatch?.();
  }

  /** For healthz: problems that do not stop the service (the last good catalogue stays in force). */
  warnings(): string[] {
    const out: string[] = [];
    if (this.unreadable) out.push(this.unreadable);
    if (this.refused)
      out.push(
        `the catalogue in ${this.source?.description} is invalid and was not loaded: ${this.refused.problems.join('; ')}`,
      );
    return out;
  }
}
