import type { MsgFrame, Reaction, UpdateFrame } from '@pigeon/protocol';
import { encodeCursor } from './cursor.js';
import { replyQuote, type UpdateData, updateFrame } from './feature-rules.js';

/*
 * A message entry as the PostgreSQL reads select it (`entries e` of mailbox `e.owner`): the
 * message with its current state (PROTOCOL.md "What a connection sees"), `read` from the
 * owner's marks, and the quote of the original it answers, whose cursor is the original's
 * live entry in the same mailbox (absent once retention removed it).
 */

export interface EntryRow {
  owner: string;
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
}

/** Columns of an EntryRow, from `entries e` with JOINS. */
export const COLUMNS = `e.owner, e.seq, m.sender, m.id, m.recipient, m.body, m.ts,
  (m.recipient_seq > 0 AND r.delivered_seq >= m.recipient_seq) AS delivered,
  CASE WHEN m.sender = m.recipient THEN true
    WHEN m.recipient = e.owner THEN e.seq <= COALESCE(k.read_upto, 0)
    ELSE e.seq <= COALESCE(k.seen_upto, 0) END AS read,
  m.edited, m.deleted, m.reactions, m.reply_from, m.reply_id,
  oe.seq AS quote_seq, o.body AS quote_body, o.deleted AS quote_deleted`;

export const JOINS = `JOIN messages m ON m.rowid = e.msg JOIN users r ON r.id = m.recipient
  LEFT JOIN marks k ON k.owner = e.owner AND k.peer = e.peer
  LEFT JOIN messages o ON o.sender = m.reply_from AND o.id = m.reply_id
  LEFT JOIN entries oe ON oe.owner = e.owner AND oe.msg = o.rowid
    AND oe.seq = CASE WHEN o.recipient = e.owner THEN o.recipient_seq ELSE o.sender_seq END`;

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
            body: r.quote_body ?? '',
            deleted: r.quote_deleted === true,
          };
    frame.replyTo = replyQuote({ from: r.reply_from, id: r.reply_id }, original);
  }
  const reactions = r.reactions === null ? [] : (JSON.parse(r.reactions) as Reaction[]);
  if (reactions.length > 0) frame.reactions = reactions;
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
