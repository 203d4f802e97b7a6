import type { FileInfo } from '@pigeon/protocol';
import type Database from 'better-sqlite3';
import {
  type CompletedContent,
  fileInfo,
  type NewUpload,
  type RemoveResult,
  type StoredFile,
  type UploadRow,
} from '../files/file-catalog.js';
import { toUpload, UPLOAD_COLUMNS, type UploadDbRow } from './file-columns.js';

/*
 * The SQL of the file catalog (files/file-catalog.ts explains the model; the tables are
 * sqlite-files-schema.ts's) that runs in the SQLite threads: writes in the writer thread
 * (so they are serialized with the commits that link files to messages), reads in the
 * reader thread.
 */

/**
 * The attachments of a send (PROTOCOL.md "Files: Messages"): each id must be a complete,
 * unexpired upload of the sender. Used by the batch check (reader thread) and again by
 * the writer when it applies the send, since a DELETE or the sweep may have removed an
 * upload in between (the writer's answer is the one that counts).
 */
export class SendFiles {
  private readonly q;

  constructor(db: Database.Database) {
    this.q = db.prepare<[string], UploadDbRow>(`SELECT ${UPLOAD_COLUMNS} FROM uploads WHERE id = ?`);
  }

  /** The FileInfo of each id, in the order given; null when one is not sendable by `from` now. */
  resolve(from: string, ids: readonly string[], now: number): FileInfo[] | null {
    const out: FileInfo[] = [];
    for (const id of ids) {
      const row = this.q.get(id);
      if (!row || row.owner !== from || row.sha256 === null || row.expires_at <= now) return null;
      out.push(fileInfo(toUpload(row)));
    }
    return out;
  }
}

/**
 * Expires (at @now) the uploads whose only link is message @msg: run in the transaction of
 * a deletion for everyone, before the update whose trigger drops the message's links. The
 * next sweep then removes them, and their content unless another upload names it; an
 * upload another message still refers to (links > 1) keeps its expiry.
 */
export const EXPIRE_LAST_LINKED = `UPDATE uploads SET expires_at = MIN(expires_at, @now)
  WHERE links = 1 AND id IN (SELECT upload FROM message_files WHERE msg = @msg)`;

/** Links a stored message to its uploads (the writer, in the send's transaction). */
export class FileLinks {
  private readonly insert;

  constructor(db: Database.Database) {
    this.insert = db.prepare<[string, number]>(
      'INSERT OR IGNORE INTO message_files (upload, msg) VALUES (?, ?)',
    );
  }

  link(msg: number, files: readonly FileInfo[]): void {
    for (const f of files) this.insert.run(f.id, msg);
  }
}

/** The catalog's writes; runs in the writer thread. */
class SqliteFileWriter {
  private readonly s;

  constructor(private readonly db: Database.Database) {
    this.s = {
      used: db.prepare<[string], number>('SELECT IFNULL(SUM(size), 0) FROM uploads WHERE owner = ?').pluck(),
      insert: db.prepare(
        `INSERT INTO uploads (id, owner, name, type, size, declared_sha256, thumb, created_at, expires_at)
         VALUES (@id, @owner, @name, @type, @size, @declaredSha256, @thumb, @createdAt, @expiresAt)`,
      ),
      state: db.prepare<[string], { owner: string; sha256: string | null; links: number }>(
        'SELECT owner, sha256, links FROM uploads WHERE id = ?',
      ),
      blobKey: db.prepare<[string], string>('SELECT key FROM blobs WHERE sha256 = ?').pluck(),
      blobRef: db.prepare<[string]>('UPDATE blobs SET refs = refs + 1 WHERE sha256 = ?'),
      blobInsert: db.prepare<[string, string, number, number]>(
        'INSERT INTO blobs (sha256, key, size, refs, created_at) VALUES (?, ?, ?, 1, ?)',
      ),
      blobUnref: db.prepare<[string]>('UPDATE blobs SET refs = refs - 1 WHERE sha256 = ?'),
      blobDrop: db
        .prepare<[string], string>('DELETE FROM blobs WHERE sha256 = ? AND refs <= 0 RETURNING key')
        .pluck(),
      completeUpload: db.prepare<[string, number | null, number | null, string]>(
        'UPDATE uploads SET sha256 = ?, width = ?, height = ? WHERE id = ?',
      ),
      deleteUpload: db.prepare<[string]>('DELETE FROM uploads WHERE id = ?'),
      expired: db.prepare<[number, number], { id: string; sha256: string | null }>(
        'SELECT id, sha256 FROM uploads WHERE links = 0 AND expires_at <= ? ORDER BY expires_at LIMIT ?',
      ),
    };
  }

  createUpload(u: NewUpload, quota: number): { ok: true } | { ok: false; used: number } {
    return this.db.transaction(() => {
      const used = this.s.used.get(u.owner) ?? 0;
      if (used + u.size > quota) return { ok: false as const, used };
      this.s.insert.run(u);
      return { ok: true as const };
    })();
  }

  complete(id: string, c: CompletedContent, now: number): { key: string } | null {
    return this.db.transaction(() => {
      const row = this.s.state.get(id);
      if (!row) return null;
      if (row.sha256 !== null) {
        // Completed by an earlier request: the caller's new copy is the extra one.
        return { key: this.s.blobKey.get(row.sha256) ?? c.key };
      }
      const existing = this.s.blobKey.get(c.sha256);
      if (existing !== undefined) this.s.blobRef.run(c.sha256);
      else this.s.blobInsert.run(c.sha256, c.key, c.size, now);
      this.s.completeUpload.run(c.sha256, c.width, c.height, id);
      return { key: existing ?? c.key };
    })();
  }

  removeUpload(id: string, owner: string | null): { result: RemoveResult; keys: string[] } {
    return this.db.transaction(() => {
      const row = this.s.state.get(id);
      if (!row || (owner !== null && row.owner !== owner)) return { result: 'missing' as const, keys: [] };
      if (row.links > 0) return { result: 'in_use' as const, keys: [] };
      return { result: 'removed' as const, keys: this.drop(id, row.sha256) };
    })();
  }

  sweep(now: number, limit: number): { uploads: string[]; keys: string[] } {
    return this.db.transaction(() => {
      const uploads: string[] = [];
      const keys: string[] = [];
      for (const row of this.s.expired.all(now, limit)) {
        uploads.push(row.id);
        keys.push(...this.drop(row.id, row.sha256));
      }
      return { uploads, keys };
    })();
  }

  /** Deletes the upload row and its reference to its content; the keys of content now unreferenced. */
  private drop(id: string, sha256: string | null): string[] {
    this.s.deleteUpload.run(id);
    if (sha256 === null) return [];
    this.s.blobUnref.run(sha256);
    const key = this.s.blobDrop.get(sha256);
    return key === undefined ? [] : [key];
  }
}

/** The catalog's reads; runs in the reader thread. */
class SqliteFileReader {
  private readonly s;

  constructor(db: Database.Database) {
    this.s = {
      used: db.prepare<[string], number>('SELECT IFNULL(SUM(size), 0) FROM uploads WHERE owner = ?').pluck(),
      upload: db.prepare<[string], UploadDbRow>(`SELECT ${UPLOAD_COLUMNS} FROM uploads WHERE id = ?`),
      // The uploader (while unexpired or linked), or a side of a message that refers to the file and whose entry in
      // that side's mailbox retention has not removed (a blocked sender's message has no
      // entry of its recipient: rseq 0).
      download: db.prepare<{ id: string; user: string; now: number }, StoredFile>(
        `SELECT u.id, u.name, u.type, u.size, u.sha256, b.key
         FROM uploads u JOIN blobs b ON b.sha256 = u.sha256
         WHERE u.id = @id AND ((u.owner = @user AND (u.links > 0 OR u.expires_at > @now)) OR EXISTS (
           SELECT 1 FROM message_files f JOIN messages m ON m.rowid = f.msg
           WHERE f.upload = @id AND (
             (m.recipient = @user AND m.rseq > (SELECT removed_upto FROM users WHERE id = @user))
             OR (m.sender = @user AND m.sseq > (SELECT removed_upto FROM users WHERE id = @user)))))`,
      ),
      liveUpload: db.prepare<[string], number>('SELECT 1 FROM uploads WHERE id = ?').pluck(),
      liveKey: db.prepare<[string], number>('SELECT 1 FROM blobs WHERE key = ?').pluck(),
      usage: db.prepare<[], [number, number]>('SELECT IFNULL(SUM(size), 0), COUNT(*) FROM blobs').raw(),
    };
  }

  quotaUsed(owner: string): number {
    return this.s.used.get(owner) ?? 0;
  }

  upload(id: string): UploadRow | null {
    const row = this.s.upload.get(id);
    return row ? toUpload(row) : null;
  }

  download(id: string, user: string, now: number): StoredFile | null {
    return this.s.download.get({ id, user, now }) ?? null;
  }

  liveUploads(ids: readonly string[]): string[] {
    return ids.filter((id) => this.s.liveUpload.get(id) !== undefined);
  }

  liveKeys(keys: readonly string[]): string[] {
    return keys.filter((key) => this.s.liveKey.get(key) !== undefined);
  }

  usage(): { bytes: number; blobs: number } {
    const [bytes, blobs] = this.s.usage.get() ?? [0, 0];
    return { bytes, blobs };
  }
}

/** Methods a SQLite thread answers for the catalog, by name (sqlite-worker.ts adds them to its own). */
type Methods = Record<string, (...args: never[]) => unknown>;

export function fileWriterMethods(db: Database.Database): Methods {
  const w = new SqliteFileWriter(db);
  return {
    'files.createUpload': (u: NewUpload, quota: number) => w.createUpload(u, quota),
    'files.complete': (id: string, c: CompletedContent, now: number) => w.complete(id, c, now),
    'files.removeUpload': (id: string, owner: string | null) => w.removeUpload(id, owner),
    'files.sweep': (now: number, limit: number) => w.sweep(now, limit),
  };
}

export function fileReaderMethods(db: Database.Database): Methods {
  const r = new SqliteFileReader(db);
  return {
    'files.quotaUsed': (owner: string) => r.quotaUsed(owner),
    'files.upload': (id: string) => r.upload(id),
    'files.download': (id: string, user: string, now: number) => r.download(id, user, now),
    'files.liveUploads': (ids: string[]) => r.liveUploads(ids),
    'files.liveKeys': (keys: string[]) => r.liveKeys(keys),
    'files.usage': () => r.usage(),
  };
}
