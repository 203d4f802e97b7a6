import type Database from 'better-sqlite3';

/*
 * Schema version 6 (issue 12, attachments) on top of version 5: the file catalog's tables
 * (files/file-catalog.ts explains the model; sqlite-files.ts holds its SQL).
 *
 * - `uploads.links` counts the upload's rows in `message_files` (kept by triggers), so "in
 *   use" is one column and the expiry sweep reads a partial index of unlinked uploads
 *   only, however many linked ones are past their expiry.
 * - `messages.files`: the message's attachments as the JSON of `FileInfo[]`, written once
 *   at send (name, type and size never change), so reading a message needs no join.
 * - Triggers on `messages` drop the links when retention deletes a message row, and the
 *   files (links and JSON) when a deletion for everyone empties the message.
 */

const DDL = `
ALTER TABLE messages ADD COLUMN files TEXT;
CREATE TABLE uploads (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  name TEXT NOT NULL,
  type TEXT NOT NULL,
  size INTEGER NOT NULL,
  declared_sha256 TEXT,
  thumb TEXT,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  sha256 TEXT,
  width INTEGER,
  height INTEGER,
  links INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX uploads_owner ON uploads (owner);
CREATE INDEX uploads_unlinked ON uploads (expires_at) WHERE links = 0;
CREATE TABLE blobs (
  sha256 TEXT PRIMARY KEY,
  key TEXT NOT NULL UNIQUE,
  size INTEGER NOT NULL,
  refs INTEGER NOT NULL,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE message_files (
  upload TEXT NOT NULL,
  msg INTEGER NOT NULL,
  PRIMARY KEY (upload, msg)
) WITHOUT ROWID;
CREATE INDEX message_files_msg ON message_files (msg);
CREATE TRIGGER message_files_link AFTER INSERT ON message_files BEGIN
  UPDATE uploads SET links = links + 1 WHERE id = new.upload;
END;
CREATE TRIGGER message_files_unlink AFTER DELETE ON message_files BEGIN
  UPDATE uploads SET links = links - 1 WHERE id = old.upload;
END;
CREATE TRIGGER messages_unfile AFTER DELETE ON messages WHEN old.files IS NOT NULL BEGIN
  DELETE FROM message_files WHERE msg = old.rowid;
END;
CREATE TRIGGER messages_unfile_deleted AFTER UPDATE OF deleted ON messages
  WHEN new.deleted <> 0 AND new.files IS NOT NULL BEGIN
  DELETE FROM message_files WHERE msg = new.rowid;
  UPDATE messages SET files = NULL WHERE rowid = new.rowid;
END;
`;

/** Version 5 → 6 (also a fresh database, after the base schema and version 5), in the caller's transaction. */
export function migrateTo6(db: Database.Database): void {
  db.exec(DDL);
}
