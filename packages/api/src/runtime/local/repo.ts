import type { DatabaseSync } from 'node:sqlite';
import type { WorkloadKind, WorkloadSpec, WorkloadState, WorkloadStatus } from '../../workloads/port.ts';

/** What survives a restart of the API: the spec, the webservice's host port and the last known state. */
export interface WorkloadRecord {
  spec: WorkloadSpec;
  createdAt: string;
  hostPort: number | undefined;
  state: WorkloadState;
  message: string;
  /** Runs started so far (numbers the `--- started (run n) ---` log lines). */
  runs: number;
  startedAt: string | undefined;
  lastRun: WorkloadStatus['lastRun'];
}

interface Row {
  spec: string;
  created_at: string;
  host_port: number | null;
  state: string;
  message: string;
  runs: number;
  started_at: string;
  last_run: string;
}

export type RecordPatch = Partial<Omit<WorkloadRecord, 'spec' | 'createdAt'>>;

/** The `workloads` table (migration 2). Keys are (tool, kind, name). */
export class WorkloadsRepo {
  private readonly db: DatabaseSync;
  constructor(db: DatabaseSync) {
    this.db = db;
  }

  all(): WorkloadRecord[] {
    const rows = this.db
      .prepare('SELECT * FROM workloads ORDER BY tool, kind, name')
      .all() as unknown as Row[];
    return rows.map(fromRow);
  }

  put(r: WorkloadRecord): void {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO workloads
         (tool, kind, name, spec, created_at, host_port, state, message, runs, started_at, last_run)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        r.spec.tool,
        r.spec.kind,
        r.spec.name,
        JSON.stringify(r.spec),
        r.createdAt,
        r.hostPort ?? null,
        r.state,
        r.message,
        r.runs,
        r.startedAt ?? '',
        r.lastRun ? JSON.stringify(r.lastRun) : '',
      );
  }

  update(tool: string, kind: WorkloadKind, name: string, patch: RecordPatch): void {
    const sets: string[] = [];
    const values: (string | number | null)[] = [];
    const set = (column: string, value: string | number | null) => {
      sets.push(`${column} = ?`);
      values.push(value);
    };
    if ('hostPort' in patch) set('host_port', patch.hostPort ?? null);
    if (patch.state !== undefined) set('state', patch.state);
    if (patch.message !== undefined) set('message', patch.message);
    if (patch.runs !== undefined) set('runs', patch.runs);
    if ('startedAt' in patch) set('started_at', patch.startedAt ?? '');
    if ('lastRun' in patch) set('last_run', patch.lastRun ? JSON.stringify(patch.lastRun) : '');
    if (!sets.length) return;
    this.db
      .prepare(`UPDATE workloads SET ${sets.join(', ')} WHERE tool = ? AND kind = ? AND name = ?`)
      .run(...values, tool, kind, name);
  }

  delete(tool: string, kind: WorkloadKind, name: string): boolean {
    const r = this.db
      .prepare('DELETE FROM workloads WHERE tool = ? AND kind = ? AND name = ?')
      .run(tool, kind, name);
    return Number(r.changes) > 0;
  }
}

function fromRow(row: Row): WorkloadRecord {
  return {
    spec: JSON.parse(row.spec) as WorkloadSpec,
    createdAt: row.created_at,
    hostPort: row.host_port ?? undefined,
    state: row.state as WorkloadState,
    message: row.message,
    runs: row.runs,
    startedAt: row.started_at || undefined,
    lastRun: row.last_run ? (JSON.parse(row.last_run) as WorkloadStatus['lastRun']) : undefined,
  };
}
