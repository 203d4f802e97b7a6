import { encodeCursor } from './cursor.js';
import type { PgClient } from './pg-client.js';
import type { Admit, Entry, OpResult, Receipt, SendOp, SendRefusal, StoreOp } from './store.js';

/** A locked user row as the group commit sees it while it assigns sequence numbers. */
interface Box {
  tag: string;
  head: number;
  delivered: number;
  dirty: boolean;
}

/** Columns of one insert statement, one array per column (sent as `unnest` parameters). */
interface Inserts {
  sender: string[];
  id: string[];
  recipient: string[];
  body: string[];
  ts: number[];
  toSeq: number[];
  /** The sender's entry; null for a message to oneself (one entry). */
  fromSeq: (number | null)[];
}

/** Statement texts, prepared once per connection under these names. */
const LOCK_USERS = `SELECT id, tag, head_seq, delivered_seq FROM users WHERE id = ANY($1::text[])
  ORDER BY id FOR UPDATE`;
const FIND_SENT = `SELECT sender, id, ts FROM messages
  WHERE (sender, id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`;
// Every message and both of its entries in one statement; the entries find their
// message's rowid through (sender, id), which is unique.
const INSERT_MESSAGES = `
  WITH input AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[])
      AS t(sender, id, recipient, body, ts, to_seq, from_seq)
  ), m AS (
    INSERT INTO messages (sender, id, recipient, body, ts, recipient_seq, refs)
    SELECT sender, id, recipient, body, ts, to_seq, CASE WHEN from_seq IS NULL THEN 1 ELSE 2 END FROM input
    RETURNING rowid, sender, id
  )
  INSERT INTO entries (owner, seq, peer, msg, ts)
  SELECT i.recipient, i.to_seq, i.sender, m.rowid, i.ts FROM input i JOIN m USING (sender, id)
  UNION ALL
  SELECT i.sender, i.from_seq, i.recipient, m.rowid, i.ts FROM input i JOIN m USING (sender, id)
  WHERE i.from_seq IS NOT NULL`;
const UPDATE_MAILBOXES = `
  UPDATE users u SET head_seq = v.head, delivered_seq = v.delivered
  FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS v(id, head, delivered)
  WHERE u.id = v.id`;
// What each ack newly covers that someone else sent to this mailbox: one receipt per
// message, in mailbox order.
const RECEIPTS = `
  SELECT a.ord::int AS ord, m.sender, m.id
  FROM unnest($1::text[], $2::bigint[], $3::bigint[]) WITH ORDINALITY AS a(owner, lo, hi, ord)
  JOIN entries e ON e.owner = a.owner AND e.seq > a.lo AND e.seq <= a.hi
  JOIN messages m ON m.rowid = e.msg
  WHERE m.recipient = a.owner AND m.sender <> a.owner
  ORDER BY a.ord, e.seq`;

/**
 * One group commit on PostgreSQL = one transaction in two pipelined round trips:
 *  1. BEGIN, lock every user row the batch touches in ONE statement ordered by id (two nodes
 *     committing A→B and B→A at once take the locks in the same order, so they queue
 *     instead of deadlocking), and read which (from, id) already exist. Under the sender's
 *     row lock that answer cannot change before COMMIT: no other node stores the same id
 *     in between.
 *  2. `admit` (the rate limit; a Redis round trip in a cluster) decides the sends that
 *     passed; then, with sequence numbers taken from the locked heads, one statement
 *     inserts every message and both of its entries, one writes the heads and delivered
 *     marks, one reads the receipts the acks cause, and COMMIT goes right behind them.
 * COMMIT runs with synchronous_commit on (pg-client.ts): the promise resolves only once the
 * commit record is flushed, so `sent` is never said about anything a crash could lose.
 *
 * Sequence numbers come from `users.head_seq` under that row lock, not from a sequence:
 * they are handed out in commit order, so a reader that saw seq n committed has seen every
 * seq below it.
 */
export async function groupCommit(
  db: PgClient,
  ops: readonly StoreOp[],
  admit: Admit,
  now: () => number,
  knownTag: (user: string, tag: string) => void,
): Promise<OpResult[]> {
  const userIds = new Set<string>();
  const dupFrom: string[] = [];
  const dupId: string[] = [];
  for (const op of ops) {
    if (op.kind === 'send') {
      userIds.add(op.from);
      userIds.add(op.to);
      dupFrom.push(op.from);
      dupId.push(op.id);
    } else {
      userIds.add(op.user);
    }
  }
  const ids = [...userIds];
  return db.transaction(async ({ conn, begun, commit }) => {
    const [, lockedRes, existingRes] = await Promise.all([
      begun,
      conn.query({ name: 'pigeon_lock_users', text: LOCK_USERS, values: [ids] }),
      dupFrom.length === 0
        ? null
        : conn.query({ name: 'pigeon_find_sent', text: FIND_SENT, values: [dupFrom, dupId] }),
    ]);
    const locked = lockedRes.rows as { id: string; tag: string; head_seq: number; delivered_seq: number }[];
    const existing = (existingRes?.rows ?? []) as { sender: string; id: string; ts: number }[];
    const boxes = new Map<string, Box>();
    for (const row of locked) {
      boxes.set(row.id, { tag: row.tag, head: row.head_seq, delivered: row.delivered_seq, dirty: false });
      knownTag(row.id, row.tag);
    }
    const stored = new Map<string, number>();
    for (const row of existing) stored.set(`${row.sender}\n${row.id}`, row.ts);

    // The spec's order: duplicate, then recipient; only sends passing both ask the limiter.
    // A repeat of a (from, id) within the batch is answered as its first occurrence is.
    const early: (OpResult | null)[] = new Array(ops.length).fill(null);
    const firstOf = new Map<string, number>();
    const twinOf = new Map<number, number>();
    const eligible: SendOp[] = [];
    const eligibleAt: number[] = [];
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      if (op.kind !== 'send') continue;
      const key = `${op.from}\n${op.id}`;
      const first = firstOf.get(key);
      const ts = stored.get(key);
      if (first !== undefined) twinOf.set(i, first);
      else if (ts !== undefined) early[i] = { kind: 'duplicate', ts };
      // A sender without a row is as impossible as in SQLite (authenticated, never
      // deleted); answering no_such_user keeps the rest of the batch alive anyway.
      else if (!boxes.has(op.to) || !boxes.has(op.from)) early[i] = { kind: 'no_such_user' };
      else {
        firstOf.set(key, i);
        eligible.push(op);
        eligibleAt.push(i);
      }
    }
    // Rejecting here rolls the transaction back: the commit rejects and stores nothing.
    const refusals = eligible.length > 0 ? await admit(eligible) : [];
    const refusalAt = new Map<number, SendRefusal | null>();
    for (let k = 0; k < eligibleAt.length; k++) refusalAt.set(eligibleAt[k]!, refusals[k] ?? null);

    const ins: Inserts = { sender: [], id: [], recipient: [], body: [], ts: [], toSeq: [], fromSeq: [] };
    const acks = { owner: [] as string[], lo: [] as number[], hi: [] as number[] };
    const ackReceipts: Receipt[][] = [];
    const results: OpResult[] = [];
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      const decided = early[i];
      const twin = twinOf.get(i);
      if (decided) {
        results.push(decided);
      } else if (twin !== undefined) {
        const first = results[twin]!;
        results.push(first.kind === 'stored' ? { kind: 'duplicate', ts: first.ts } : first);
      } else if (op.kind === 'ack') {
        const box = boxes.get(op.user);
        const upto = box ? Math.min(op.seq, box.head) : 0;
        if (!box || upto <= box.delivered) {
          results.push({ kind: 'acked', changed: false, receipts: [] });
          continue;
        }
        acks.owner.push(op.user);
        acks.lo.push(box.delivered);
        acks.hi.push(upto);
        box.delivered = upto;
        box.dirty = true;
        const receipts: Receipt[] = [];
        ackReceipts.push(receipts);
        results.push({ kind: 'acked', changed: true, receipts });
      } else {
        const refusal = refusalAt.get(i) ?? null;
        results.push(refusal ? { kind: 'refused', refusal } : applySend(op, boxes, ins, now()));
      }
    }

    // Sent back to back on the connection (pipelined), COMMIT last.
    const writes: Promise<unknown>[] = [];
    if (ins.sender.length > 0) {
      writes.push(
        conn.query({
          name: 'pigeon_insert_messages',
          text: INSERT_MESSAGES,
          values: [ins.sender, ins.id, ins.recipient, ins.body, ins.ts, ins.toSeq, ins.fromSeq],
        }),
      );
    }
    const dirty = [...boxes].filter(([, b]) => b.dirty);
    if (dirty.length > 0) {
      writes.push(
        conn.query({
          name: 'pigeon_update_mailboxes',
          text: UPDATE_MAILBOXES,
          values: [dirty.map(([id]) => id), dirty.map(([, b]) => b.head), dirty.map(([, b]) => b.delivered)],
        }),
      );
    }
    let receiptRows: Promise<{ rows: { ord: number; sender: string; id: string }[] }> | null = null;
    if (acks.owner.length > 0) {
      // After the inserts: an ack may cover an entry this very batch stored.
      receiptRows = conn.query({
        name: 'pigeon_receipts',
        text: RECEIPTS,
        values: [acks.owner, acks.lo, acks.hi],
      });
      writes.push(receiptRows);
    }
    writes.push(commit());
    await Promise.all(writes);
    for (const r of receiptRows ? (await receiptRows).rows : []) {
      ackReceipts[r.ord - 1]!.push({ sender: r.sender, id: r.id, to: acks.owner[r.ord - 1]! });
    }
    return results;
  });
}

/** Assigns an admitted send its sequence numbers and queues its rows. */
function applySend(op: SendOp, boxes: Map<string, Box>, ins: Inserts, ts: number): OpResult {
  const to = boxes.get(op.to)!;
  const from = boxes.get(op.from)!;
  const self = op.from === op.to;
  const toSeq = ++to.head;
  to.dirty = true;
  const fromSeq = self ? toSeq : ++from.head;
  from.dirty = true;
  ins.sender.push(op.from);
  ins.id.push(op.id);
  ins.recipient.push(op.to);
  ins.body.push(op.body);
  ins.ts.push(ts);
  ins.toSeq.push(toSeq);
  ins.fromSeq.push(self ? null : fromSeq);
  const base = {
    t: 'msg' as const,
    id: op.id,
    from: op.from,
    to: op.to,
    body: op.body,
    ts,
    delivered: false,
  };
  const entries: Entry[] = [
    { owner: op.to, seq: toSeq, frame: { ...base, cursor: encodeCursor(to.tag, toSeq) } },
  ];
  if (!self) {
    entries.push({
      owner: op.from,
      seq: fromSeq,
      frame: { ...base, cursor: encodeCursor(from.tag, fromSeq) },
    });
  }
  return { kind: 'stored', ts, entries };
}
