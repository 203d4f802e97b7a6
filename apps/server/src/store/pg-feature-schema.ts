import { indexTokens, ownerKey, searchKeys } from './feature-rules.js';
import type { PgConn } from './pg-client.js';

/*
 * PostgreSQL schema version 3 (issue 10, the chat features): the same model as SQLite's
 * version 5 (sqlite-feature-schema.ts) on the same one-row-per-message layout:
 *
 * - message state on the message row: `edited`, `deleted` (body '' and no quote,
 *   reactions or search vector: the text leaves the live row at once, the old row version
 *   when vacuum reclaims it), `reply_from`/`reply_id`, `reactions` (JSON: a conversation has
 *   two people, so at most two), `hidden` (bit 1 the recipient hid it, bit 2 the sender),
 *   and `search`, a tsvector of feature-rules.ts's indexTokens built with array_to_tsvector
 *   (no parser or dictionary: the lexemes are exactly the tokens, CJK pairs included), under
 *   a GIN index;
 * - a message from a blocked sender has `rseq = 0`: no entry in its recipient's mailbox;
 * - `updates` (mailbox entries that are not messages, in the mailbox's sequence; `msg` is
 *   the message an update is about), `marks` (read and seen marks per owner and peer),
 *   `blocks`, `users.read_receipts`.
 */

const DDL = `
ALTER TABLE users ADD COLUMN read_receipts boolean NOT NULL DEFAULT true;
ALTER TABLE messages
  ADD COLUMN edited bigint,
  ADD COLUMN deleted boolean NOT NULL DEFAULT false,
  ADD COLUMN reply_from text,
  ADD COLUMN reply_id text,
  ADD COLUMN reactions text,
  ADD COLUMN hidden smallint NOT NULL DEFAULT 0,
  ADD COLUMN search tsvector;
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

/** Version 2 → 3, inside the migration's transaction; messages stored before are indexed here. */
export async function migrateTo3(conn: PgConn): Promise<void> {
  await conn.query(DDL);
  for (let after = 0; ; ) {
    const rows = (
      await conn.query(
        'SELECT rowid, sender, recipient, rseq, conv, body FROM messages WHERE rowid > $1 ORDER BY rowid LIMIT $2',
        [after, PAGE],
      )
    ).rows as {
      rowid: number;
      sender: string;
      recipient: string;
      rseq: number;
      conv: number;
      body: string;
    }[];
    if (rows.length === 0) return;
    await conn.query(
      `UPDATE messages m SET search = array_to_tsvector(string_to_array(v.words, ' '))
       FROM unnest($1::bigint[], $2::text[]) AS v(rowid, words) WHERE m.rowid = v.rowid`,
      [
        rows.map((r) => r.rowid),
        rows.map((r) => searchWords(r.body, r.sender, r.recipient, r.rseq > 0, r.conv)),
      ],
    );
    after = rows[rows.length - 1]!.rowid;
  }
}

/**
 * What a message's search vector holds, as one space-separated text (tokens hold no
 * space), each once (`string_to_array` splits it; a vector without positions needs no
 * repeats): its body's index tokens and its keys (the mailboxes and the conversation it is
 * in), marked with `@`, which no word token holds, so a search's GIN lookup is narrowed to
 * the searcher's messages.
 */
export function searchWords(
  body: string,
  sender: string,
  recipient: string,
  delivered: boolean,
  conv: number,
): string {
  const keys = searchKeys(sender, recipient, delivered, conv)
    .split(' ')
    .map((k) => `@${k}`);
  return [...new Set(indexTokens(body)), ...keys].join(' ');
}

/** The search vector lexeme of a user's mailbox (see searchWords). */
export function pgOwnerKey(user: string): string {
  return `@${ownerKey(user)}`;
}
