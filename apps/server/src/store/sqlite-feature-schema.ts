import type Database from 'better-sqlite3';
import { indexTokens, searchKeys } from './feature-rules.js';

/*
 * Schema version 5 (issue 10, the chat features) on top of sqlite-schema.ts's version 4.
 *
 * - Message state lives on the message row (stored once, shown to both mailboxes):
 *   `edited` (ts of the last edit), `deleted` (then body '' and no quote, reactions or
 *   index entry: the text is gone from the database, not hidden), `reply_from`/`reply_id`
 *   (the quoted original, looked up when read so the quote follows edits and deletions),
 *   `reactions` (JSON `[{by, emoji}]`: a conversation has two people, so at most two), and
 *   `hidden` (per owner: bit 1 the recipient hid it, bit 2 the sender; a note to oneself
 *   uses bit 1).
 * - A message from a blocked sender has `rseq = 0`: it has no entry in the recipient's
 *   mailbox (PROTOCOL.md "Block"), which every read already excludes (seqs start at 1).
 * - `updates`: mailbox entries that are not messages, keyed (owner, seq) in the same
 *   sequence as the mailbox's messages, so replay merges them in order. `data` is the
 *   update's fields as JSON; `msg` names the message a message update is about, so
 *   deleting it can rewrite its earlier `edit` updates (they hold former bodies).
 * - `marks`: per (owner, peer) the owner's read mark and the seen mark (the newest of the
 *   owner's messages the peer read while both had receipts on), seqs of the owner's mailbox.
 * - `blocks`: (blocker, blocked); `users.read_receipts`: the receipts setting.
 * - `search`: an FTS5 index of message bodies (contentless: it keeps only the index, and
 *   `secure-delete` removes a deleted body's tokens from it at once). Column `words` holds
 *   feature-rules.ts's indexTokens, column `keys` the mailboxes the message is in, so a
 *   search looks only at the searcher's messages.
 */

/** What version 5 adds; also run (idempotently) on a fresh database after the base schema. */
const TABLES = `
CREATE TABLE IF NOT EXISTS updates (
  owner TEXT NOT NULL,
  seq INTEGER NOT NULL,
  kind TEXT NOT NULL,
  ts INTEGER NOT NULL,
  msg INTEGER,
  data TEXT NOT NULL,
  PRIMARY KEY (owner, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS updates_kind ON updates (owner, kind, seq);
CREATE INDEX IF NOT EXISTS updates_msg ON updates (msg) WHERE msg IS NOT NULL;
CREATE TABLE IF NOT EXISTS marks (
  owner TEXT NOT NULL,
  peer TEXT NOT NULL,
  read_upto INTEGER NOT NULL DEFAULT 0,
  seen_upto INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (owner, peer)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS blocks (
  blocker TEXT NOT NULL,
  blocked TEXT NOT NULL,
  PRIMARY KEY (blocker, blocked)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS blocks_blocked ON blocks (blocked, blocker);
CREATE VIRTUAL TABLE IF NOT EXISTS search USING fts5(
  words, keys, content = '', contentless_delete = 1, tokenize = 'ascii'
);
-- Whatever removes a message row (retention) removes its index entry with it.
CREATE TRIGGER IF NOT EXISTS messages_unindex AFTER DELETE ON messages BEGIN
  DELETE FROM search WHERE rowid = old.rowid;
END;
`;

/** Columns version 5 adds to version 4's tables (a fresh database gets them the same way). */
const COLUMNS = `
ALTER TABLE messages ADD COLUMN edited INTEGER;
ALTER TABLE messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN reply_from TEXT;
ALTER TABLE messages ADD COLUMN reply_id TEXT;
ALTER TABLE messages ADD COLUMN reactions TEXT;
ALTER TABLE messages ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN read_receipts INTEGER NOT NULL DEFAULT 1;
`;

/**
 * Takes a version-4 database to version 5 (also a fresh one, right after the base schema),
 * inside the caller's transaction. Messages stored before are indexed for search here, so
 * the index is complete from the first start of this version.
 */
export function migrateTo5(db: Database.Database): void {
  db.exec(COLUMNS);
  db.exec(TABLES);
  db.prepare("INSERT INTO search (search, rank) VALUES ('secure-delete', 1)").run();
  const page = db
    .prepare<[number], [number, string, string, string, number]>(
      'SELECT rowid, sender, recipient, body, conv FROM messages WHERE rowid > ? ORDER BY rowid LIMIT 1000',
    )
    .raw();
  const insert = db.prepare('INSERT INTO search (rowid, words, keys) VALUES (?, ?, ?)');
  // In pages: better-sqlite3 runs no statement while another one is being iterated.
  for (let rows = page.all(0); rows.length > 0; rows = page.all(rows[rows.length - 1]![0])) {
    for (const [rowid, sender, recipient, body, conv] of rows) {
      insert.run(rowid, indexTokens(body).join(' '), searchKeys(sender, recipient, true, conv));
    }
  }
}
