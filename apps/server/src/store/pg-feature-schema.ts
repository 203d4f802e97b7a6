import { indexTokens } from './feature-rules.js';
import type { PgConn } from './pg-client.js';

/*
 * PostgreSQL schema version 2 (issue 10, the chat features), the same model as SQLite's
 * version 5 (sqlite-feature-schema.ts) on pg-schema.ts's layout:
 *
 * - message state on the message row: `edited`, `deleted` (body '' and no quote,
 *   reactions or search vector: the text leaves the live row at once, the old row
 *   version when autovacuum reclaims it), `reply_from`/`reply_id`, `reactions` (JSON, at
 *   most two: a conversation has two people), `sender_seq` (the sender's entry, so a
 *   message's entries are found by primary key), and `search`, a tsvector of
 *   feature-rules.ts's indexTokens built with array_to_tsvector (no parser or dictionary:
 *   the lexemes are exactly the tokens, CJK pairs included), with a GIN index;
 * - `entries.hidden`: the owner hid the message (delete for me);
 * - a message from a blocked sender has no entry in its recipient's mailbox
 *   (`recipient_seq` 0, one reference);
 * - `updates` (mailbox entries that are not messages, in the mailbox's sequence), `marks`
 *   (read and seen marks per owner and peer), `blocks`, `users.read_receipts`.
 */

const DDL = `
ALTER TABLE users ADD COLUMN read_receipts boolean NOT NULL DEFAULT true;
ALTER TABLE messages
  ADD COLUMN sender_seq bigint,
  ADD COLUMN edited bigint,
  ADD COLUMN deleted boolean NOT NULL DEFAULT false,
  ADD COLUMN reply_from text,
  ADD COLUMN reply_id text,
  ADD COLUMN reactions text,
  ADD COLUMN search tsvector;
ALTER TABLE entries ADD COLUMN hidden boolean NOT NULL DEFAULT false;
UPDATE messages m SET sender_seq = CASE WHEN m.sender = m.recipient THEN m.recipient_seq
  ELSE (SELECT e.seq FROM entries e WHERE e.owner = m.sender AND e.msg = m.rowid) END;
CREATE INDEX messages_search ON messages USING gin (search);
CREATE TABLE updates (
  owner text NOT NULL,
  seq bigint NOT NULL,
  kind text NOT NULL,
  ts bigint NOT NULL,
  msg bigint,
  data text NOT NULL,
  PRIMARY KEY (owner, seq)
);
CREATE INDEX updates_kind ON updates (owner, kind, seq);
CREATE INDEX updates_msg ON updates (msg) WHERE msg IS NOT NULL;
CREATE TABLE marks (
  owner text NOT NULL,
  peer text NOT NULL,
  read_upto bigint NOT NULL DEFAULT 0,
  seen_upto bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (owner, peer)
);
CREATE TABLE blocks (
  blocker text NOT NULL,
  blocked text NOT NULL,
  PRIMARY KEY (blocker, blocked)
);
CREATE INDEX blocks_blocked ON blocks (blocked, blocker);
`;

/** Rows of the backfill of search vectors per statement. */
const PAGE = 1000;

/** Version 1 → 2, inside the migration's transaction; messages stored before are indexed here. */
export async function migrateTo2(conn: PgConn): Promise<void> {
  await conn.query(DDL);
  for (let after = 0; ; ) {
    const rows = (
      await conn.query('SELECT rowid, body FROM messages WHERE rowid > $1 ORDER BY rowid LIMIT $2', [
        after,
        PAGE,
      ])
    ).rows as { rowid: number; body: string }[];
    if (rows.length === 0) return;
    await conn.query(
      `UPDATE messages m SET search = array_to_tsvector(string_to_array(v.words, ' '))
       FROM unnest($1::bigint[], $2::text[]) AS v(rowid, words) WHERE m.rowid = v.rowid`,
      [rows.map((r) => r.rowid), rows.map((r) => searchWords(r.body))],
    );
    after = rows[rows.length - 1]!.rowid;
  }
}

/**
 * A body's index tokens as one space-separated text (tokens hold no space), each once:
 * `string_to_array` splits it, and a tsvector built without positions needs no repeats.
 */
export function searchWords(body: string): string {
  return [...new Set(indexTokens(body))].join(' ');
}
