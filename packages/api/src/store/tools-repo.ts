import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { DatabaseSync } from 'node:sqlite';

export interface TokenInfo {
  id: string;
  tool: string;
  description: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

const hash = (token: string) => createHash('sha256').update(token).digest('hex');

/** Tools and their bearer tokens (the embedded default's identity). Only token hashes are stored. */
export class ToolsRepo {
  private readonly db: DatabaseSync;
  constructor(db: DatabaseSync) {
    this.db = db;
  }

  createTool(name: string): boolean {
    const r = this.db
      .prepare('INSERT OR IGNORE INTO tools (name, created_at) VALUES (?, ?)')
      .run(name, new Date().toISOString());
    return r.changes > 0;
  }

  listTools(): { name: string; createdAt: string; tokens: number }[] {
    return this.db
      .prepare(
        `SELECT t.name AS name, t.created_at AS createdAt,
                (SELECT COUNT(*) FROM tokens k WHERE k.tool = t.name AND k.revoked_at IS NULL) AS tokens
         FROM tools t ORDER BY t.name`,
      )
      .all() as { name: string; createdAt: string; tokens: number }[];
  }

  deleteTool(name: string): boolean {
    return this.db.prepare('DELETE FROM tools WHERE name = ?').run(name).changes > 0;
  }

  hasTool(name: string): boolean {
    return Boolean(this.db.prepare('SELECT 1 FROM tools WHERE name = ?').get(name));
  }

  /** A new token for a tool; the secret is returned once and only its hash is kept. */
  issueToken(tool: string, description = ''): { id: string; token: string } {
    const id = randomUUID();
    const token = `tft_${randomBytes(32).toString('base64url')}`;
    this.db
      .prepare('INSERT INTO tokens (id, tool, sha256, description, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(id, tool, hash(token), description, new Date().toISOString());
    return { id, token };
  }

  listTokens(tool?: string): TokenInfo[] {
    const sql = `SELECT id, tool, description, created_at AS createdAt, last_used_at AS lastUsedAt, revoked_at AS revokedAt
                 FROM tokens ${tool ? 'WHERE tool = ?' : ''} ORDER BY created_at`;
    return (tool ? this.db.prepare(sql).all(tool) : this.db.prepare(sql).all()) as unknown as TokenInfo[];
  }

  revokeToken(id: string): boolean {
    return (
      this.db
        .prepare('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL')
        .run(new Date().toISOString(), id).changes > 0
    );
  }

  /** The tool a token belongs to, when it is valid. */
  toolForToken(token: string): string | undefined {
    const row = this.db
      .prepare('SELECT id, tool FROM tokens WHERE sha256 = ? AND revoked_at IS NULL')
      .get(hash(token)) as { id: string; tool: string } | undefined;
    if (!row) return undefined;
    this.db.prepare('UPDATE tokens SET last_used_at = ? WHERE id = ?').run(new Date().toISOString(), row.id);
    return row.tool;
  }
}
