import type { MsgFrame, Reaction, UpdateFrame } from '@pigeon/protocol';
import { encodeCursor } from './cursor.js';
import { replyQuote, type UpdateData, updateFrame } from './feature-rules.js';
import { quotedBody, storedFiles } from './file-columns.js';

/*
 * A message as the PostgreSQL reads select it for mailbox `$1`, mirroring sqlite-rows.ts:
 * the owner's seq, the message and its current state (PROTOCOL.md "What a connection
 * sees"), `read` from the owner's marks, and the quote of the original it answers, whose
 * cursor is the original's live entry in the same mailbox (absent once retention removed it).
 */

/** The owner's seq of a message of mailbox `$1`. */
export const OWN_SEQ = 'CASE WHEN m.recipient = $1 THEN m.rseq ELSE m.sseq END';
/** The owner's removed_upto: entries at or below it are gone. */
export const REMOVED = '(SELECT removed_upto FROM users WHERE id = $1)';

/** The columns of an EntryRow, from `messages m` joined with QUOTE_JOIN. */
export const ROW = `${OWN_SEQ} AS seq, m.sender, m.id, m.recipient, m.body, m.ts,
  (m.rseq > 0 AND (SELECT r.delivered_seq FROM users r WHERE r.id = m.recipient) >= m.rseq) AS delivered,
  CASE WHEN m.sender = m.recipient THEN true
    WHEN m.recipient = $1 THEN m.rseq <= COALESCE((SELECT read_upto FROM marks WHERE owner = $1 AND peer = m.sender), 0)
    ELSE m.sseq <= COALESCE((SELECT seen_upto FROM marks WHERE owner = $1 AND peer = m.recipient), 0) END AS read,
  m.edited, m.deleted, m.reactions, m.reply_from, m.reply_id,
  CASE WHEN o.recipient = $1 AND o.rseq > ${REMOVED} THEN o.rseq
    WHEN o.sender = $1 AND o.recipient <> $1 AND o.sseq > ${REMOVED} THEN o.sseq END AS quote_seq,
  o.body AS quote_body, o.deleted AS quote_deleted, m.files, o.files AS quote_files`;

/** The original a message answers (through the unique (sender, id) index). */
export const QUOTE_JOIN = 'LEFT JOIN messages o ON o.sender = m.reply_from AND o.id = m.reply_id';

/**
 * Whether `m` is an entry of `$1`'s mailbox that is shown: not removed by retention, not
 * hidden by `$1` (a blocked sender's message has rseq 0: no entry of its recipient).
 */
export const VISIBLE = `CASE WHEN m.recipient = $1 THEN m.rseq > ${REMOVED} AND m.hidden & 1 = 0
  ELSE m.sseq > ${REMOVED} AND m.hidden & 2 = 0 END`;

export interface EntryRow {
  seq: number;
  sender: string;
  id: string;
  recipient: string;
  body: string;
  ts: number;
  delivered: boolean;
  read: boolean;
  edited: number | null;
  deleted: boolean;
  reactions: string | null;
  reply_from: string | null;
  reply_id: string | null;
  quote_seq: number | null;
  quote_body: string | null;
  quote_deleted: boolean | null;
  /** Attachments (JSON of FileInfo[]), issue 12. */
  files: string | null;
  quote_files: string | null;
}

/** The msg frame of an EntryRow of the mailbox whose tag is `tag`, with every field the store knows. */
export function entryFrame(tag: string, r: EntryRow): MsgFrame {
  const frame: MsgFrame = {
    t: 'msg',
    cursor: encodeCursor(tag, r.seq),
    id: r.id,
    from: r.sender,
    to: r.recipient,
    body: r.body,
    ts: r.ts,
    delivered: r.delivered,
    read: r.read,
  };
  if (r.edited !== null) frame.edited = r.edited;
  if (r.deleted) frame.deleted = true;
  if (r.reply_from !== null && r.reply_id !== null) {
    const original =
      r.quote_seq === null
        ? null
        : {
            cursor: encodeCursor(tag, r.quote_seq),
            body: quotedBody(r.quote_body ?? '', r.quote_files),
            deleted: r.quote_deleted === true,
          };
    frame.replyTo = replyQuote({ from: r.reply_from, id: r.reply_id }, original);
  }
  const reactions = r.reactions === null ? [] : (JSON.parse(r.reactions) as Reaction[]);
  if (reactions.length > 0) frame.reactions = reactions;
  const files = storedFiles(r.files);
  if (files) frame.files = files;
  return frame;
}

/** An update entry read back from `updates`. */
export interface UpdateRow {
  seq: number;
  ts: number;
  data: string;
}

export function updateRowFrame(tag: string, r: UpdateRow): UpdateFrame {
  return updateFrame(encodeCursor(tag, r.seq), r.ts, JSON.parse(r.data) as UpdateData);
}
