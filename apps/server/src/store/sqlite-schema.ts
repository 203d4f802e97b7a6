import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { DbSync } from '../config.js';
import { migrateTo5 } from './sqlite-feature-schema.js';
import { migrateTo6 } from './sqlite-files-schema.js';

/*
 * Layout (version 4): one row per message. A message sits in two mailboxes, the
 * recipient's at `rseq` and the sender's at `sseq` (the same for a note to oneself), so a
 * send is one row in one table plus its index entries, instead of a message row and two
 * entry rows each with its own index entries (measured: about a third less CPU per
 * message and a quarter fewer bytes written; bench/README.md).
 *
 * - `messages.rowid` is the commit order. Within one mailbox, rowid order is seq order (one
 *   writer assigns both), which lets history page a conversation through `(conv, rowid)`
 *   and turn a mailbox position into a rowid bound. It is also the key an FTS5
 *   external-content index can use for search (issue 10).
 * - `(sender, id)` unique: the idempotency record lives exactly as long as the message.
 * - An entry of mailbox X is alive while its seq is above `users.removed_upto` of X;
 *   retention moves that mark and deletes a message row once both of its entries are dead.
 * - `conversations`: one row per (owner, peer) with the pair's `conv` id and the seq of the
 *   newest message, written once per pair per batch; it serves the newest-first list.
 * - Issue 10 (version 5, sqlite-feature-schema.ts): mailbox entries that are not messages
 *   (read marks, edits, deletions, reactions) are in `updates`, keyed (owner, seq) in the
 *   mailbox's sequence and merged into replay; message state is columns of the message row.
 */
export const SCHEMA_VERSION = 6;
// Version 5 (issue 10, chat features): see sqlite-feature-schema.ts.
// Version 6 (issue 12, attachments): see sqlite-files.ts.

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY,
  password_hash TEXT,
  tag TEXT NOT NULL,
  head_seq INTEGER NOT NULL DEFAULT 0,
  delivered_seq INTEGER NOT NULL DEFAULT 0,
  removed_upto INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  token_epoch INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS messages (
  rowid INTEGER PRIMARY KEY,
  sender TEXT NOT NULL,
  id TEXT NOT NULL,
  recipient TEXT NOT NULL,
  conv INTEGER NOT NULL,
  body TEXT NOT NULL,
  ts INTEGER NOT NULL,
  sseq INTEGER NOT NULL,
  rseq INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS messages_sender_id ON messages (sender, id);
CREATE INDEX IF NOT EXISTS messages_recipient ON messages (recipient, rseq);
CREATE INDEX IF NOT EXISTS messages_sender ON messages (sender, sseq);
CREATE INDEX IF NOT EXISTS messages_conv ON messages (conv, rowid);
CREATE TABLE IF NOT EXISTS conversations (
  owner TEXT NOT NULL,
  peer TEXT NOT NULL,
  conv INTEGER NOT NULL,
  last_seq INTEGER NOT NULL,
  PRIMARY KEY (owner, peer)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS conversations_recent ON conversations (owner, last_seq);
CREATE TABLE IF NOT EXISTS revoked_tokens (id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL) WITHOUT ROWID;
`;

/** Version 1 kept a conversations table and a ts index on the hot path. */
const MIGRATE_1_TO_2 = `
DROP TABLE IF EXISTS conversations;
DROP INDEX IF EXISTS entries_ts;
`;

/** Version 3 adds token revocation: a per-user epoch and revoked token ids. */
const MIGRATE_2_TO_3 = `
ALTER TABLE users ADD COLUMN token_epoch INTEGER NOT NULL DEFAULT 0;
CREATE TABLE IF NOT EXISTS revoked_tokens (id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL) WITHOUT ROWID;
`;

/*
 * Version 3 → 4: message + entry rows become one row per message. The sender's seq comes
 * from its entry; when retention already removed that entry, 0 (dead: every removed_upto
 * that removed it is ≥ 1). Conversations get a conv id per unordered pair.
 */
const MIGRATE_3_TO_4 = `
CREATE TABLE messages_v4 (
  rowid INTEGER PRIMARY KEY,
  sender TEXT NOT NULL,
  id TEXT NOT NULL,
  recipient TEXT NOT NULL,
  conv INTEGER NOT NULL,
  body TEXT NOT NULL,
  ts INTEGER NOT NULL,
  sseq INTEGER NOT NULL,
  rseq INTEGER NOT NULL
);
CREATE TEMP TABLE sender_seq (msg INTEGER PRIMARY KEY, seq INTEGER NOT NULL);
INSERT INTO sender_seq (msg, seq)
  SELECT e.msg, e.seq FROM entries e JOIN messages m ON m.rowid = e.msg
  WHERE e.owner = m.sender AND m.sender <> m.recipient;
CREATE TEMP TABLE pairs (lo TEXT NOT NULL, hi TEXT NOT NULL, conv INTEGER NOT NULL, PRIMARY KEY (lo, hi));
INSERT INTO pairs (lo, hi, conv)
  SELECT lo, hi, ROW_NUMBER() OVER (ORDER BY lo, hi) FROM (
    SELECT DISTINCT MIN(sender, recipient) AS lo, MAX(sender, recipient) AS hi FROM messages);
INSERT INTO messages_v4 (rowid, sender, id, recipient, conv, body, ts, sseq, rseq)
  SELECT m.rowid, m.sender, m.id, m.recipient,
    (SELECT conv FROM pairs p WHERE p.lo = MIN(m.sender, m.recipient) AND p.hi = MAX(m.sender, m.recipient)),
    m.body, m.ts,
    CASE WHEN m.sender = m.recipient THEN m.recipient_seq
      ELSE COALESCE((SELECT seq FROM sender_seq s WHERE s.msg = m.rowid), 0) END,
    m.recipient_seq
  FROM messages m;
DROP TABLE sender_seq;
DROP TABLE pairs;
DROP TABLE entries;
DROP TABLE messages;
ALTER TABLE messages_v4 RENAME TO messages;
CREATE TABLE conversations (
  owner TEXT NOT NULL,
  peer TEXT NOT NULL,
  conv INTEGER NOT NULL,
  last_seq INTEGER NOT NULL,
  PRIMARY KEY (owner, peer)
) WITHOUT ROWID;
INSERT INTO conversations (owner, peer, conv, last_seq)
  SELECT recipient, sender, conv, MAX(rseq) FROM messages GROUP BY recipient, sender;
INSERT INTO conversations (owner, peer, conv, last_seq)
  SELECT sender, recipient, conv, MAX(sseq) FROM messages WHERE sender <> recipient GROUP BY sender, recipient
  ON CONFLICT (owner, peer) DO UPDATE SET last_seq = MAX(last_seq, excluded.last_seq);
`;

/** version → what takes a database from it to the next version (SQL, or code for steps that need it). */
const MIGRATIONS = new Map<number, string | ((db: Database.Database) => void)>([
  [1, MIGRATE_1_TO_2],
  [2, MIGRATE_2_TO_3],
  [3, MIGRATE_3_TO_4],
  [4, migrateTo5],
  [5, migrateTo6],
]);

export interface OpenOptions {
  path: string;
  sync: DbSync;
  /** WAL pages after which a commit checkpoints by itself: the bound on the WAL's growth. */
  walMaxPages: number;
  readonly?: boolean;
}

/** Page cache per SQLite connection, KiB (64 MB): the hot mailbox and index pages stay in it. */
const CACHE_KIB = 65_536;

/** Opens a connection with the server's settings; the writer also creates and migrates the schema. */
export function openDatabase(opts: OpenOptions): Database.Database {
  if (!opts.readonly) fs.mkdirSync(path.dirname(path.resolve(opts.path)), { recursive: true });
  const db = new Database(opts.path, opts.readonly ? { readonly: true, fileMustExist: true } : {});
  // In WAL mode, FULL fsyncs the log at every commit: an acknowledged message survives
  // power loss. NORMAL survives a crash or kill -9 of the process (the OS has the write)
  // but not a power cut. See README.
  if (!opts.readonly) db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${opts.sync === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('foreign_keys = OFF');
  // Only another process can hold the write lock (one writer thread here); waiting blocks
  // the writer's thread, never the event loop, and a batch then fails with `internal`.
  db.pragma('busy_timeout = 1000');
  db.pragma(`cache_size = -${CACHE_KIB}`);
  if (opts.readonly) return db;
  db.pragma(`wal_autocheckpoint = ${opts.walMaxPages}`);
  // A body deleted for everyone must be gone from the file, not just unlinked: FAST zeroes
  // freed cell content in pages that are written anyway (no extra I/O).
  db.pragma('secure_delete = FAST');
  // After a checkpoint that reset the WAL, truncate the file back to this size.
  db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
  migrate(db);
  return db;
}

function migrate(db: Database.Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID');
  const version = db.prepare("SELECT value FROM meta WHERE key = 'schema'").pluck().get() as
    | string
    | undefined;
  if (version === undefined) {
    db.transaction(() => {
      db.exec(SCHEMA);
      migrateTo5(db);
      migrateTo6(db);
      db.prepare("INSERT INTO meta (key, value) VALUES ('schema', ?)").run(String(SCHEMA_VERSION));
    })();
    return;
  }
  let v = Number(version);
  if (!MIGRATIONS.has(v) && v !== SCHEMA_VERSION) {
    throw new Error(`database schema ${version} is not supported (expected ${SCHEMA_VERSION})`);
  }
  // Each step in its own transaction, so a crash leaves a version that migrates again.
  for (let sql = MIGRATIONS.get(v); sql !== undefined; sql = MIGRATIONS.get(v)) {
    const step = v;
    db.transaction(() => {
      if (typeof sql === 'string') db.exec(sql);
      else sql(db);
      db.prepare("UPDATE meta SET value = ? WHERE key = 'schema'").run(String(step + 1));
    })();
    v = step + 1;
  }
  // Indexes of the current version (a migrated table was rebuilt without them).
  db.exec(SCHEMA);
}
