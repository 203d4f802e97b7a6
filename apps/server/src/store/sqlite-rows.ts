import type { MsgFrame, UpdateFrame } from '@pigeon/protocol';
import { encodeCursor } from './cursor.js';
import { replyQuote, type UpdateData, updateFrame } from './feature-rules.js';
import { quotedBody, storedFiles } from './file-columns.js';
import { parseReactions } from './sqlite-feature-sql.js';

/*
 * A message as the SQLite reads select it for mailbox `@u` (entries with seq at or below
 * `@removed` were removed by retention): the owner's seq first, then the message and its
 * current state (PROTOCOL.md "What a connection sees"), the quote of the original it
 * answers included. Every read that returns messages uses ROW with QUOTE_JOIN.
 */

export type Row = [
  seq: number,
  sender: string,
  id: string,
  recipient: string,
  body: string,
  ts: number,
  delivered: number,
  read: number,
  edited: number | null,
  deleted: number,
  reactions: string | null,
  replyFrom: string | null,
  replyId: string | null,
  /** The original's seq in `@u`'s mailbox; null when it has no live entry there. */
  quoteSeq: number | null,
  quoteBody: string | null,
  quoteDeleted: number | null,
  /** The attachments (JSON of FileInfo[]), issue 12. */
  files: string | null,
  quoteFiles: string | null,
];

/** The columns of a Row, from `messages m` joined with QUOTE_JOIN. */
export const ROW = `CASE WHEN m.recipient = @u THEN m.rseq ELSE m.sseq END, m.sender, m.id, m.recipient, m.body, m.ts,
  m.rseq > 0 AND (SELECT delivered_seq FROM users r WHERE r.id = m.recipient) >= m.rseq,
  CASE WHEN m.sender = m.recipient THEN 1
    WHEN m.recipient = @u THEN m.rseq <= IFNULL((SELECT read_upto FROM marks WHERE owner = @u AND peer = m.sender), 0)
    ELSE m.sseq <= IFNULL((SELECT seen_upto FROM marks WHERE owner = @u AND peer = m.recipient), 0) END,
  m.edited, m.deleted, m.reactions, m.reply_from, m.reply_id,
  CASE WHEN o.recipient = @u AND o.rseq > @removed THEN o.rseq
    WHEN o.sender = @u AND o.recipient <> @u AND o.sseq > @removed THEN o.sseq END,
  o.body, o.deleted, m.files, o.files`;

/** The original a message answers (through the unique (sender, id) index). */
export const QUOTE_JOIN = 'LEFT JOIN messages o ON o.sender = m.reply_from AND o.id = m.reply_id';

/**
 * Whether `m` is an entry of `@u`'s mailbox that is shown: not removed by retention, not
 * hidden by `@u` (a blocked sender's message has rseq 0: no entry of its recipient).
 */
export const VISIBLE = `CASE WHEN m.recipient = @u THEN m.rseq > @removed AND m.hidden & 1 = 0
  ELSE m.sseq > @removed AND m.hidden & 2 = 0 END`;

/** The msg frame of a Row of the mailbox whose tag is `tag`, with every field the store knows. */
export function rowFrame(tag: string, r: Row): MsgFrame {
  const frame: MsgFrame = {
    t: 'msg',
    cursor: encodeCursor(tag, r[0]),
    id: r[2],
    from: r[1],
    to: r[3],
    body: r[4],
    ts: r[5],
    delivered: r[6] === 1,
    read: r[7] === 1,
  };
  if (r[8] !== null) frame.edited = r[8];
  if (r[9] === 1) frame.deleted = true;
  if (r[11] !== null && r[12] !== null) {
    const original =
      r[13] === null
        ? null
        : { cursor: encodeCursor(tag, r[13]), body: quotedBody(r[14] ?? '', r[17]), deleted: r[15] === 1 };
    frame.replyTo = replyQuote({ from: r[11], id: r[12] }, original);
  }
  const reactions = parseReactions(r[10]);
  if (reactions.length > 0) frame.reactions = reactions;
  const files = storedFiles(r[16]);
  if (files) frame.files = files;
  return frame;
}

/** The frame of an update entry read back from the `updates` table. */
export function storedUpdate(cursor: string, ts: number, data: string): UpdateFrame {
  return updateFrame(cursor, ts, JSON.parse(data) as UpdateData);
}
