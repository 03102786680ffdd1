/**
 * Schema migrations, applied in order and never edited once released: add a new entry instead.
 * Times are RFC 3339 strings (UTC); ids are the build ids the API shows.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: tools, tokens, builds and their logs
  `
  CREATE TABLE tools (
    name TEXT PRIMARY KEY,
    created_at TEXT NOT NULL
  );
  CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    tool TEXT NOT NULL REFERENCES tools(name) ON DELETE CASCADE,
    sha256 TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
  );
  CREATE TABLE builds (
    id TEXT PRIMARY KEY,
    tool TEXT NOT NULL,
    seq INTEGER NOT NULL,
    image_name TEXT NOT NULL,
    status TEXT NOT NULL,
    message TEXT NOT NULL DEFAULT '',
    phase TEXT NOT NULL,
    source_url TEXT NOT NULL,
    ref TEXT NOT NULL DEFAULT '',
    resolved_ref TEXT NOT NULL DEFAULT '',
    envvars TEXT NOT NULL DEFAULT '{}',
    envvars_sha256 TEXT NOT NULL DEFAULT '',
    use_latest_versions INTEGER NOT NULL DEFAULT 0,
    use_deprecated_versions INTEGER NOT NULL DEFAULT 0,
    builder_image TEXT NOT NULL DEFAULT '',
    run_image TEXT NOT NULL DEFAULT '',
    destination_image TEXT NOT NULL DEFAULT '',
    digest TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    start_time TEXT NOT NULL DEFAULT '',
    end_time TEXT NOT NULL DEFAULT '',
    failure_reason TEXT NOT NULL DEFAULT '',
    hint TEXT NOT NULL DEFAULT '',
    timings TEXT NOT NULL DEFAULT '[]',
    cancel_requested INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX builds_by_tool ON builds (tool, seq);
  CREATE INDEX builds_by_status ON builds (status, seq);
  CREATE TABLE build_logs (
    build_id TEXT NOT NULL REFERENCES builds(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    line TEXT NOT NULL,
    PRIMARY KEY (build_id, seq)
  );
  CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
  `,
  // 2: workloads of the local runtime (webservices and jobs); the spec is the WorkloadSpec as JSON
  `
  CREATE TABLE workloads (
    tool TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    spec TEXT NOT NULL,
    created_at TEXT NOT NULL,
    host_port INTEGER,
    state TEXT NOT NULL DEFAULT 'pending',
    message TEXT NOT NULL DEFAULT '',
    runs INTEGER NOT NULL DEFAULT 0,
    started_at TEXT NOT NULL DEFAULT '',
    last_run TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (tool, kind, name)
  );
  `,
];
