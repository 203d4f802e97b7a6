import type { FileInfo } from '@pigeon/protocol';
import {
  type CompletedContent,
  type FileCatalog,
  fileInfo,
  type NewUpload,
  type RemoveResult,
  type StoredFile,
  type UploadRow,
} from '../files/file-catalog.js';
import { toUpload, UPLOAD_COLUMNS, type UploadDbRow } from './file-columns.js';
import type { PgClient, PgConn } from './pg-client.js';

/*
 * The file catalog on PostgreSQL (files/file-catalog.ts explains the model; the same as
 * SQLite's in sqlite-files.ts; its tables are pg-files-schema.ts's). Nodes share it, so every
 * write is one transaction whose row locks order it against the others:
 *  - creating an upload locks the owner's `users` row (the quota check and the insert
 *    cannot interleave with another node's), the only lock it takes;
 *  - completion and removal lock the upload row, then the `blobs` row (always in that
 *    order), and `refs` is a column of that row, so the transaction that takes it to 0 and
 *    deletes the row sees every reference another committed first (a NOT EXISTS subquery
 *    would read an older snapshot under READ COMMITTED and could delete content just
 *    named by a completion);
 *  - a send locks its uploads FOR SHARE in the commit (sendFiles), so a removal waits for
 *    it and then finds the link.
 */

export class PgFileCatalog implements FileCatalog {
  constructor(
    private readonly db: PgClient,
    private readonly now: () => number,
  ) {}

  async quotaUsed(owner: string): Promise<number> {
    const rows = await this.db.query<{ used: number }>({
      name: 'pigeon_files_used',
      text: 'SELECT COALESCE(SUM(size), 0)::bigint AS used FROM uploads WHERE owner = $1',
      values: [owner],
    });
    return rows[0]?.used ?? 0;
  }

  createUpload(u: NewUpload, quota: number): Promise<{ ok: true } | { ok: false; used: number }> {
    return this.db.transaction(async ({ conn, begun }) => {
      // The owner's row is the lock that orders quota checks of one user across nodes (a
      // host user may have no row yet: then uploads are ordered by the insert alone).
      const [, , used] = await Promise.all([
        begun,
        conn.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [u.owner]),
        conn.query<{ used: number }>(
          'SELECT COALESCE(SUM(size), 0)::bigint AS used FROM uploads WHERE owner = $1',
          [u.owner],
        ),
      ]);
      const total = used.rows[0]?.used ?? 0;
      if (total + u.size > quota) return { ok: false as const, used: total };
      await conn.query(
        `INSERT INTO uploads (id, owner, name, type, size, declared_sha256, thumb, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [u.id, u.owner, u.name, u.type, u.size, u.declaredSha256, u.thumb, u.createdAt, u.expiresAt],
      );
      return { ok: true as const };
    });
  }

  async upload(id: string): Promise<UploadRow | null> {
    const rows = await this.db.query<UploadDbRow>({
      name: 'pigeon_files_upload',
      text: `SELECT ${UPLOAD_COLUMNS} FROM uploads WHERE id = $1`,
      values: [id],
    });
    return rows[0] ? toUpload(rows[0]) : null;
  }

  complete(id: string, c: CompletedContent): Promise<{ key: string } | null> {
    return this.db.transaction(async ({ conn, begun }) => {
      const [, up] = await Promise.all([
        begun,
        conn.query<{ sha256: string | null }>('SELECT sha256 FROM uploads WHERE id = $1 FOR UPDATE', [id]),
      ]);
      const row = up.rows[0];
      if (!row) return null;
      if (row.sha256 !== null) {
        const k = await conn.query<{ key: string }>('SELECT key FROM blobs WHERE sha256 = $1', [row.sha256]);
        return { key: k.rows[0]?.key ?? c.key };
      }
      // One statement: a concurrent removal of the same content either deleted its row
      // before (we insert ours) or waits for us (and then sees refs > 0).
      const blob = await conn.query<{ key: string }>(
        `INSERT INTO blobs (sha256, key, size, refs, created_at) VALUES ($1, $2, $3, 1, $4)
         ON CONFLICT (sha256) DO UPDATE SET refs = blobs.refs + 1 RETURNING key`,
        [c.sha256, c.key, c.size, this.now()],
      );
      await conn.query('UPDATE uploads SET sha256 = $1, width = $2, height = $3 WHERE id = $4', [
        c.sha256,
        c.width,
        c.height,
        id,
      ]);
      return { key: blob.rows[0]!.key };
    });
  }

  removeUpload(id: string, owner: string | null): Promise<{ result: RemoveResult; keys: string[] }> {
    return this.db.transaction(async ({ conn, begun }) => {
      const [, up] = await Promise.all([
        begun,
        conn.query<{ owner: string; sha256: string | null; links: number }>(
          'SELECT owner, sha256, links FROM uploads WHERE id = $1 FOR UPDATE',
          [id],
        ),
      ]);
      const row = up.rows[0];
      if (!row || (owner !== null && row.owner !== owner)) return { result: 'missing' as const, keys: [] };
      if (row.links > 0) return { result: 'in_use' as const, keys: [] };
      return { result: 'removed' as const, keys: await drop(conn, [{ id, sha256: row.sha256 }]) };
    });
  }

  async download(id: string, user: string, now: number): Promise<StoredFile | null> {
    const rows = await this.db.query<StoredFile>({
      name: 'pigeon_files_download',
      text: `SELECT u.id, u.name, u.type, u.size, u.sha256, b.key
        FROM uploads u JOIN blobs b ON b.sha256 = u.sha256
        WHERE u.id = $1 AND ((u.owner = $2 AND (u.links > 0 OR u.expires_at > $3)) OR EXISTS (
          SELECT 1 FROM message_files f JOIN messages m ON m.rowid = f.msg
          WHERE f.upload = $1 AND (
            (m.recipient = $2 AND m.rseq > (SELECT removed_upto FROM users WHERE id = $2))
            OR (m.sender = $2 AND m.sseq > (SELECT removed_upto FROM users WHERE id = $2)))))`,
      values: [id, user, now],
    });
    return rows[0] ?? null;
  }

  sweep(now: number, limit: number): Promise<{ uploads: string[]; keys: string[] }> {
    return this.db.transaction(async ({ conn, begun }) => {
      // SKIP LOCKED: an upload another node is completing or removing is left to it.
      const [, expired] = await Promise.all([
        begun,
        conn.query<{ id: string; sha256: string | null }>(
          `SELECT id, sha256 FROM uploads WHERE links = 0 AND expires_at <= $1
           ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
          [now, limit],
        ),
      ]);
      const rows = expired.rows;
      if (rows.length === 0) return { uploads: [], keys: [] };
      return { uploads: rows.map((r) => r.id), keys: await drop(conn, rows) };
    });
  }

  async liveUploads(ids: readonly string[]): Promise<Set<string>> {
    const rows = await this.db.query<{ id: string }>({
      text: 'SELECT id FROM uploads WHERE id = ANY($1::text[])',
      values: [ids],
    });
    return new Set(rows.map((r) => r.id));
  }

  async liveKeys(keys: readonly string[]): Promise<Set<string>> {
    const rows = await this.db.query<{ key: string }>({
      text: 'SELECT key FROM blobs WHERE key = ANY($1::text[])',
      values: [keys],
    });
    return new Set(rows.map((r) => r.key));
  }

  async usage(): Promise<{ bytes: number; blobs: number }> {
    const rows = await this.db.query<{ bytes: number; blobs: number }>({
      name: 'pigeon_files_usage',
      text: 'SELECT COALESCE(SUM(size), 0)::bigint AS bytes, COUNT(*)::bigint AS blobs FROM blobs',
    });
    return rows[0] ?? { bytes: 0, blobs: 0 };
  }
}

/**
 * The attachments of a send, inside the commit's transaction (after the user rows are
 * locked): each id must be a complete, unexpired upload of the sender. The rows are locked
 * FOR SHARE until the commit, so a DELETE or the sweep on any node (which lock them FOR
 * UPDATE) either ran before (the id is gone: no_such_file) or waits and then finds the
 * link (in use). The FileInfo of each, in the order given, or null.
 */
export async function sendFiles(
  conn: PgConn,
  from: string,
  ids: readonly string[],
  now: number,
): Promise<FileInfo[] | null> {
  const rows = (
    await conn.query<UploadDbRow>(
      `SELECT ${UPLOAD_COLUMNS} FROM uploads WHERE id = ANY($1::text[]) ORDER BY id FOR SHARE`,
      [ids],
    )
  ).rows;
  const byId = new Map(rows.map((r) => [r.id, r]));
  const out: FileInfo[] = [];
  for (const id of ids) {
    const row = byId.get(id);
    if (!row || row.owner !== from || row.sha256 === null || row.expires_at <= now) return null;
    out.push(fileInfo(toUpload(row)));
  }
  return out;
}

/**
 * Links the messages a commit just inserted to their uploads, by (sender, id) (the insert
 * returns no rowids), in the commit's transaction, after the insert.
 */
export function linkFiles(
  conn: PgConn,
  links: { sender: string[]; id: string[]; upload: string[] },
): Promise<unknown> {
  return conn.query({
    name: 'pigeon_link_files',
    text: `INSERT INTO message_files (upload, msg)
      SELECT f.upload, m.rowid FROM unnest($1::text[], $2::text[], $3::text[]) AS f(sender, id, upload)
      JOIN messages m ON m.sender = f.sender AND m.id = f.id
      ON CONFLICT DO NOTHING`,
    values: [links.sender, links.id, links.upload],
  });
}

/**
 * Deletes these (locked) upload rows and their references to content, in one transaction;
 * returns the keys of content no upload names any more (their rows are deleted too).
 */
async function drop(conn: PgConn, rows: readonly { id: string; sha256: string | null }[]): Promise<string[]> {
  await conn.query('DELETE FROM uploads WHERE id = ANY($1::text[])', [rows.map((r) => r.id)]);
  const counts = new Map<string, number>();
  for (const r of rows) if (r.sha256 !== null) counts.set(r.sha256, (counts.get(r.sha256) ?? 0) + 1);
  if (counts.size === 0) return [];
  // Sorted, so two transactions decrementing the same contents lock them in one order.
  const shas = [...counts.keys()].sort();
  const dec = await conn.query<{ sha256: string; refs: number }>(
    `UPDATE blobs b SET refs = b.refs - v.n FROM unnest($1::text[], $2::int[]) AS v(sha256, n)
     WHERE b.sha256 = v.sha256 RETURNING b.sha256, b.refs`,
    [shas, shas.map((s) => counts.get(s)!)],
  );
  const unused = dec.rows.filter((r) => r.refs <= 0).map((r) => r.sha256);
  if (unused.length === 0) return [];
  // A second statement: one statement cannot delete the rows its own CTE updated.
  const freed = await conn.query<{ key: string }>(
    'DELETE FROM blobs WHERE sha256 = ANY($1::text[]) AND refs <= 0 RETURNING key',
    [unused],
  );
  return freed.rows.map((r) => r.key);
}
