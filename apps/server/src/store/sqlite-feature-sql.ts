import type { Reaction } from '@pigeon/protocol';
import type { MessageState } from './feature-rules.js';

/*
 * SQL of the chat features that both SQLite threads run (the writer while it applies a
 * write, the reader while it answers), and the row shapes they return. Named parameters:
 * `@u` is the mailbox owner throughout.
 */

/**
 * The rowid of `@u`'s newest entry with a seq below `@seq` (null: none). Within one
 * mailbox rowid order is seq order, so this turns a mailbox position into a bound on a
 * conversation's rowids. `rseq > 0`: a blocked sender's message has no entry in its
 * recipient's mailbox.
 */
export const LAST_ROWID_BELOW = `SELECT MAX(r) FROM (
  SELECT (SELECT rowid FROM messages WHERE recipient = @u AND rseq > 0 AND rseq < @seq ORDER BY rseq DESC LIMIT 1) AS r
  UNION ALL
  SELECT (SELECT rowid FROM messages WHERE sender = @u AND sseq < @seq ORDER BY sseq DESC LIMIT 1))`;

/**
 * Unread messages of the conversation `@conv`: from `@peer` to `@u`, after the read mark
 * `@mark` (and after what retention removed, `@removed`), not hidden by `@u`. `@bound` is
 * LAST_ROWID_BELOW(mark + 1), so only the conversation's rows after the mark are counted.
 */
export const UNREAD = `SELECT COUNT(*) FROM messages
  WHERE conv = @conv AND rowid > @bound AND recipient = @u AND sender = @peer
    AND rseq > @mark AND rseq > @removed AND hidden & 1 = 0`;

/** A message by (sender, id) with what the rules and the writes need. */
export const MESSAGE_BY_REF = `SELECT rowid, sender, recipient, id, body, ts, deleted, hidden, reactions,
  rseq, sseq, conv, files FROM messages WHERE sender = ? AND id = ?`;

export type MessageRow = [
  rowid: number,
  sender: string,
  recipient: string,
  id: string,
  body: string,
  ts: number,
  deleted: number,
  hidden: number,
  reactions: string | null,
  rseq: number,
  sseq: number,
  conv: number,
  /** Attachments (issue 12): a quote of the message shows them as text. */
  files: string | null,
];

/** The `hidden` bit of a message for one of its owners: 1 for the recipient (and a note to oneself), 2 for the sender. */
export function hiddenBit(owner: string, sender: string, recipient: string): number {
  return owner === recipient ? 1 : owner === sender ? 2 : 0;
}

/** The owner's seq of a message row, 0 when the owner has no entry for it. */
export function ownSeq(row: MessageRow, owner: string): number {
  if (owner === row[2]) return row[9];
  if (owner === row[1]) return row[10];
  return 0;
}

export function parseReactions(json: string | null): Reaction[] {
  return json === null ? [] : (JSON.parse(json) as Reaction[]);
}

/**
 * The rules' view of a message row from `owner`'s mailbox, or null when it has no live
 * entry there (never had one, a blocked sender's message, or removed by retention).
 */
export function messageState(
  row: MessageRow | undefined,
  owner: string,
  removedUpto: number,
): MessageState | null {
  if (!row) return null;
  const seq = ownSeq(row, owner);
  if (seq <= removedUpto || seq === 0) return null;
  return {
    from: row[1],
    to: row[2],
    id: row[3],
    ts: row[5],
    body: row[4],
    deleted: row[6] === 1,
    hidden: (row[7] & hiddenBit(owner, row[1], row[2])) !== 0,
    reactions: parseReactions(row[8]),
  };
}
