import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import type { BuildPhase, BuildStatus } from '../contract/index.ts';

/** A build as the embedded engine stores it. */
export interface BuildRecord {
  id: string;
  tool: string;
  seq: number;
  imageName: string;
  status: BuildStatus;
  message: string;
  phase: BuildPhase;
  sourceUrl: string;
  ref: string;
  resolvedRef: string;
  /** Values are wiped when the build ends; names stay. */
  envvars: Record<string, string>;
  envvarsSha256: string;
  useLatestVersions: boolean;
  useDeprecatedVersions: boolean;
  builderImage: string;
  runImage: string;
  destinationImage: string;
  digest: string;
  createdAt: string;
  startTime: string;
  endTime: string;
  failureReason: string;
  hint: string;
  timings: { phase: string; start_time: string; end_time: string; seconds: number }[];
  cancelRequested: boolean;
}

const COLUMNS: Record<keyof BuildRecord, string> = {
  id: 'id',
  tool: 'tool',
  seq: 'seq',
  imageName: 'image_name',
  status: 'status',
  message: 'message',
  phase: 'phase',
  sourceUrl: 'source_url',
  ref: 'ref',
  resolvedRef: 'resolved_ref',
  envvars: 'envvars',
  envvarsSha256: 'envvars_sha256',
  useLatestVersions: 'use_latest_versions',
  useDeprecatedVersions: 'use_deprecated_versions',
  builderImage: 'builder_image',
  runImage: 'run_image',
  destinationImage: 'destination_image',
  digest: 'digest',
  createdAt: 'created_at',
  startTime: 'start_time',
  endTime: 'end_time',
  failureReason: 'failure_reason',
  hint: 'hint',
  timings: 'timings',
  cancelRequested: 'cancel_requested',
};
const JSON_FIELDS = new Set<keyof BuildRecord>(['envvars', 'timings']);
const BOOL_FIELDS = new Set<keyof BuildRecord>([
  'useLatestVersions',
  'useDeprecatedVersions',
  'cancelRequested',
]);

function toRow(patch: Partial<BuildRecord>): Record<string, SQLInputValue> {
  const row: Record<string, SQLInputValue> = {};
  for (const [k, v] of Object.entries(patch) as [keyof BuildRecord, unknown][]) {
    if (v === undefined) continue;
    row[COLUMNS[k]] = JSON_FIELDS.has(k)
      ? JSON.stringify(v)
      : BOOL_FIELDS.has(k)
        ? v
          ? 1
          : 0
        : (v as SQLInputValue);
  }
  return row;
}

function fromRow(row: Record<string, unknown>): BuildRecord {
  const out: Record<string, unknown> = {};
  for (const [k, col] of Object.entries(COLUMNS) as [keyof BuildRecord, string][]) {
    const v = row[col];
    out[k] = JSON_FIELDS.has(k) ? JSON.parse(String(v)) : BOOL_FIELDS.has(k) ? v === 1 : v;
  }
  return out as unknown as BuildRecord;
}

/** Build records and their logs. Every method is one statement or one transaction (node:sqlite is synchronous). */
export class BuildsRepo {
  private readonly db: DatabaseSync;
  constructor(db: DatabaseSync) {
    this.db = db;
  }

  /** A monotonically increasing number: FIFO order of builds across restarts. */
  nextSeq(): number {
    const row = this.db
      .prepare(
        "INSERT INTO counters (name, value) VALUES ('build_seq', 1) ON CONFLICT(name) DO UPDATE SET value = value + 1 RETURNING value",
      )
      .get() as { value: number };
    return row.value;
  }

  insert(record: BuildRecord): void {
    const row = toRow(record);
    const cols = Object.keys(row);
    this.db
      .prepare(`INSERT INTO builds (${cols.join(', ')}) VALUES (${cols.map((c) => `:${c}`).join(', ')})`)
      .run(row);
  }

  update(id: string, patch: Partial<BuildRecord>): void {
    const row = toRow(patch);
    const cols = Object.keys(row);
    if (!cols.length) return;
    this.db
      .prepare(`UPDATE builds SET ${cols.map((c) => `${c} = :${c}`).join(', ')} WHERE id = :__id`)
      .run({ ...row, __id: id });
  }

  get(id: string): BuildRecord | undefined {
    const row = this.db.prepare('SELECT * FROM builds WHERE id = ?').get(id) as
      | Record<string, unknown>
      | undefined;
    return row ? fromRow(row) : undefined;
  }

  /** A tool's builds, newest first. */
  listByTool(tool: string): BuildRecord[] {
    return (
      this.db.prepare('SELECT * FROM builds WHERE tool = ? ORDER BY seq DESC').all(tool) as Record<
        string,
        unknown
      >[]
    ).map(fromRow);
  }

  /** Builds in a status, oldest first (the queue order). */
  listByStatus(...statuses: BuildStatus[]): BuildRecord[] {
    return (
      this.db
        .prepare(
          `SELECT * FROM builds WHERE status IN (${statuses.map(() => '?').join(', ')}) ORDER BY seq ASC`,
        )
        .all(...statuses) as Record<string, unknown>[]
    ).map(fromRow);
  }

  delete(id: string): void {
    this.db.prepare('DELETE FROM builds WHERE id = ?').run(id);
  }

  /** Append log lines; returns the sequence number of the last one. */
  appendLogs(id: string, lines: string[]): number {
    const last = this.db
      .prepare('SELECT COALESCE(MAX(seq), 0) AS s FROM build_logs WHERE build_id = ?')
      .get(id) as { s: number };
    const insert = this.db.prepare('INSERT INTO build_logs (build_id, seq, line) VALUES (?, ?, ?)');
    let seq = last.s;
    this.db.exec('BEGIN');
    try {
      for (const line of lines) insert.run(id, ++seq, line);
      this.db.exec('COMMIT');
    } catch (err) {
      this.db.exec('ROLLBACK');
      throw err;
    }
    return seq;
  }

  /** Log lines after `afterSeq`, in order, at most `limit`. */
  readLogs(id: string, afterSeq: number, limit = 1000): { seq: number; line: string }[] {
    return this.db
      .prepare('SELECT seq, line FROM build_logs WHERE build_id = ? AND seq > ? ORDER BY seq LIMIT ?')
      .all(id, afterSeq, limit) as { seq: number; line: string }[];
  }
}
