/*
 * PostgreSQL migration 4 (issue 12, attachments): the file catalog's tables, the same model
 * as SQLite's version 6 (sqlite-files-schema.ts; files/file-catalog.ts explains it), and
 * the tables of the large-object blob store (files/pg-blob-store.ts: `upload_parts` while
 * an upload arrives, `sealed_contents` until the sweep confirmed a seal), so one migration
 * brings a database to files. Triggers on `messages` drop a message's links when retention
 * deletes it and its files (links and JSON) when a deletion for everyone empties it; a
 * trigger on `message_files` keeps `uploads.links`.
 */
export const MIGRATE_FILES = `
ALTER TABLE messages ADD COLUMN files text;
CREATE TABLE uploads (
  id text PRIMARY KEY,
  owner text NOT NULL,
  name text NOT NULL,
  type text NOT NULL,
  size bigint NOT NULL,
  declared_sha256 text,
  thumb text,
  created_at bigint NOT NULL,
  expires_at bigint NOT NULL,
  sha256 text,
  width integer,
  height integer,
  links integer NOT NULL DEFAULT 0
);
CREATE INDEX uploads_owner ON uploads (owner);
CREATE INDEX uploads_unlinked ON uploads (expires_at) WHERE links = 0;
CREATE TABLE blobs (
  sha256 text PRIMARY KEY,
  key text NOT NULL UNIQUE,
  size bigint NOT NULL,
  refs integer NOT NULL,
  created_at bigint NOT NULL
);
CREATE TABLE message_files (
  upload text NOT NULL,
  msg bigint NOT NULL,
  PRIMARY KEY (upload, msg)
);
CREATE INDEX message_files_msg ON message_files (msg);
CREATE FUNCTION pigeon_message_files_links() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE uploads SET links = links + 1 WHERE id = NEW.upload;
    RETURN NEW;
  END IF;
  UPDATE uploads SET links = links - 1 WHERE id = OLD.upload;
  RETURN OLD;
END $$;
CREATE TRIGGER message_files_links AFTER INSERT OR DELETE ON message_files
  FOR EACH ROW EXECUTE FUNCTION pigeon_message_files_links();
CREATE FUNCTION pigeon_messages_unfile() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM message_files WHERE msg = OLD.rowid;
  RETURN OLD;
END $$;
CREATE TRIGGER messages_unfile AFTER DELETE ON messages
  FOR EACH ROW WHEN (OLD.files IS NOT NULL) EXECUTE FUNCTION pigeon_messages_unfile();
CREATE FUNCTION pigeon_messages_unfile_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM message_files WHERE msg = NEW.rowid;
  NEW.files := NULL;
  RETURN NEW;
END $$;
CREATE TRIGGER messages_unfile_deleted BEFORE UPDATE OF deleted ON messages
  FOR EACH ROW WHEN (NEW.deleted AND OLD.files IS NOT NULL) EXECUTE FUNCTION pigeon_messages_unfile_deleted();
CREATE TABLE upload_parts (
  upload text PRIMARY KEY,
  oid oid NOT NULL,
  received bigint NOT NULL
);
CREATE TABLE sealed_contents (
  oid oid PRIMARY KEY,
  sealed_at bigint NOT NULL
);
`;
