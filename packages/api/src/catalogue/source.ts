import { createHash } from 'node:crypto';
import { existsSync, unwatchFile, watchFile } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { withFileLock } from '@toolforge/oci';

/** The two documents a published catalogue consists of. */
export interface CatalogueFiles {
  /** Ours (version 1, every image resolved). */
  catalogue: string;
  /** The generated `images-v1.yaml` for today's readers. */
  legacy: string;
}

/**
 * Where the published catalogue lives: a file (embedded default) or a ConfigMap. `revision` is the
 * storage's own version (content hash, resourceVersion): publishing is conditional on it, so of two
 * concurrent publishers the second is refused instead of overwriting the first.
 */
export interface CatalogueSource {
  readonly description: string;
  /** The current document (ours, or a legacy `images-v1.yaml` when only that exists); undefined when none. */
  read(): Promise<{ text: string; revision: string } | undefined>;
  /** Replace both documents if the revision is still `expected` (undefined: nothing published yet). */
  publish(files: CatalogueFiles, expected: string | undefined): Promise<string>;
  /** Call `onChange` (at most every few seconds) when the document may have changed; returns a stop function. */
  watch(onChange: () => void): () => void;
  /**
   * For sources that write the two documents separately: make the legacy document `legacy` (generated
   * from ours) unless ours is no longer at `revision`. True when it was rewritten.
   */
  repairLegacy?(legacy: string, revision: string): Promise<boolean>;
}

export class CatalogueConflict extends Error {
  constructor(where: string) {
    super(
      `${where} changed since it was read (another publisher?): nothing was written; read it again and retry`,
    );
  }
}

export const LEGACY_NAME = 'images-v1.yaml';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Write a temporary file and rename it over `file`, so readers see the old or the new text, never half. */
async function replaceFile(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, text, { mode: 0o644 });
  await rename(tmp, file);
}

/**
 * A catalogue file (`catalogue.yaml`) with the legacy `images-v1.yaml` beside it, each replaced by a
 * rename under a lock. Two renames are not atomic together, so `catalogue.yaml` is the commit point: it
 * is written last, and a legacy file left disagreeing with it (a crash in between) is repaired on load.
 */
export class FileCatalogueSource implements CatalogueSource {
  readonly description: string;
  private readonly file: string;
  private readonly legacy: string;

  constructor(file: string) {
    this.file = path.resolve(file);
    this.legacy = path.join(path.dirname(this.file), LEGACY_NAME);
    this.description = `file ${this.file}`;
  }

  async read(): Promise<{ text: string; revision: string } | undefined> {
    for (const f of [this.file, this.legacy]) {
      if (!existsSync(f)) continue;
      const text = await readFile(f, 'utf8');
      return { text, revision: sha256(text) };
    }
    return undefined;
  }

  async publish(files: CatalogueFiles, expected: string | undefined): Promise<string> {
    await mkdir(path.dirname(this.file), { recursive: true });
    return withFileLock(`${this.file}.lock`, async () => {
      if ((await this.read())?.revision !== expected) throw new CatalogueConflict(this.description);
      await replaceFile(this.legacy, files.legacy);
      await replaceFile(this.file, files.catalogue);
      return sha256(files.catalogue);
    });
  }

  async repairLegacy(legacy: string, revision: string): Promise<boolean> {
    return withFileLock(`${this.file}.lock`, async () => {
      // Under the publish lock, and only for the version the caller read: a newer publish wrote both.
      if (!existsSync(this.file) || (await this.read())?.revision !== revision) return false;
      if ((await readFile(this.legacy, 'utf8').catch(() => undefined)) === legacy) return false;
      await replaceFile(this.legacy, legacy);
      return true;
    });
  }

  watch(onChange: () => void): () => void {
    // Polling stat survives the rename that publishing does (an inotify watch would follow the old inode).
    const listener = () => onChange();
    watchFile(this.file, { interval: 1000, persistent: false }, listener);
    return () => unwatchFile(this.file, listener);
  }
}
