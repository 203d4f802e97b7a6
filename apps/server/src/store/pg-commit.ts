import type { MessageRef, ReplyQuote } from '@pigeon/protocol';
import { encodeCursor } from './cursor.js';
import type { FeatureOp } from './feature-types.js';
import type { PgClient, PgConn } from './pg-client.js';
import { searchWords } from './pg-feature-schema.js';
import { type PgBox, PgFeatureTx } from './pg-features.js';
import type { Admit, AdmitOp, MsgEntry, OpResult, Receipt, SendOp, SendRefusal, StoreOp } from './store.js';

/** A locked user row as the group commit sees it while it assigns sequence numbers. */
type Box = PgBox;

/** Columns of one insert statement, one array per column (sent as `unnest` parameters). */
interface Inserts {
  sender: string[];
  id: string[];
  recipient: string[];
  body: string[];
  ts: number[];
  /** The recipient's entry; null when the recipient blocks the sender (no entry there). */
  toSeq: (number | null)[];
  /** The sender's entry; null for a message to oneself (one entry). */
  fromSeq: (number | null)[];
  replyFrom: (string | null)[];
  replyId: (string | null)[];
  /** Search tokens (pg-feature-schema.ts searchWords). */
  words: string[];
}

function noInserts(): Inserts {
  return {
    sender: [],
    id: [],
    recipient: [],
    body: [],
    ts: [],
    toSeq: [],
    fromSeq: [],
    replyFrom: [],
    replyId: [],
    words: [],
  };
}

/** Statement texts, prepared once per connection under these names. */
const LOCK_USERS = `SELECT id, tag, head_seq, delivered_seq FROM users WHERE id = ANY($1::text[])
  ORDER BY id FOR UPDATE`;
const FIND_SENT = `SELECT sender, id, ts FROM messages
  WHERE (sender, id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`;
// Every message and both of its entries in one statement; the entries find their
// message's rowid through (sender, id), which is unique. A recipient who blocks the sender
// gets no entry (to_seq null: recipient_seq 0, one reference).
const INSERT_MESSAGES = `
  WITH input AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[],
        $8::text[], $9::text[], $10::text[])
      AS t(sender, id, recipient, body, ts, to_seq, from_seq, reply_from, reply_id, words)
  ), m AS (
    INSERT INTO messages (sender, id, recipient, body, ts, recipient_seq, sender_seq, refs, reply_from, reply_id, search)
    SELECT sender, id, recipient, body, ts, COALESCE(to_seq, 0), COALESCE(from_seq, to_seq),
      (to_seq IS NOT NULL)::int + (from_seq IS NOT NULL)::int, reply_from, reply_id,
      array_to_tsvector(string_to_array(words, ' '))
    FROM input
    RETURNING rowid, sender, id
  )
  INSERT INTO entries (owner, seq, peer, msg, ts)
  SELECT i.recipient, i.to_seq, i.sender, m.rowid, i.ts FROM input i JOIN m USING (sender, id)
  WHERE i.to_seq IS NOT NULL
  UNION ALL
  SELECT i.sender, i.from_seq, i.recipient, m.rowid, i.ts FROM input i JOIN m USING (sender, id)
  WHERE i.from_seq IS NOT NULL`;
// The recipient of each message a batch's feature writes and replies name: their mailboxes
// get updates, so their rows are locked with the others (a message's parties never change).
const PARTIES = `SELECT recipient FROM messages
  WHERE (sender, id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`;
// Which recipients of the batch's sends block their sender.
const BLOCKED_SENDS = `SELECT blocker, blocked FROM blocks
  WHERE (blocker, blocked) IN (SELECT * FROM unnest($1::text[], $2::text[]))`;
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
 *
 * Chat-feature writes and replies (issue 10) need the state of messages, marks and blocks:
 * their rules run statement by statement in the same transaction (PgFeatureTx), in op
 * order, after the messages queued before them are inserted, so a write sees what the
 * batch did before it (a reply to a message stored earlier in the batch, a reaction
 * removed right after it was set). Batches without them keep the two round trips.
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
  const pairs = { blocker: [] as string[], blocked: [] as string[] };
  const refs: MessageRef[] = [];
  for (const op of ops) {
    if (op.kind === 'send') {
      userIds.add(op.from);
      userIds.add(op.to);
      dupFrom.push(op.from);
      dupId.push(op.id);
      if (op.from !== op.to) {
        pairs.blocker.push(op.to);
        pairs.blocked.push(op.from);
      }
      if (op.replyTo) refs.push(op.replyTo);
    } else {
      userIds.add(op.user);
      if (op.kind === 'read') userIds.add(op.with);
      else if (op.kind === 'block') userIds.add(op.target);
      else if (op.kind !== 'ack' && op.kind !== 'receipts') {
        userIds.add(op.ref.from);
        refs.push(op.ref);
      }
    }
  }
  if (refs.length > 0) {
    const parties = await db.query<{ recipient: string }>({
      name: 'pigeon_parties',
      text: PARTIES,
      values: [refs.map((r) => r.from), refs.map((r) => r.id)],
    });
    for (const p of parties) userIds.add(p.recipient);
  }
  const ids = [...userIds];
  return db.transaction(async ({ conn, begun, commit }) => {
    const [, lockedRes, existingRes, blockedRes] = await Promise.all([
      begun,
      conn.query({ name: 'pigeon_lock_users', text: LOCK_USERS, values: [ids] }),
      dupFrom.length === 0
        ? null
        : conn.query({ name: 'pigeon_find_sent', text: FIND_SENT, values: [dupFrom, dupId] }),
      pairs.blocker.length === 0
        ? null
        : conn.query({
            name: 'pigeon_blocked_sends',
            text: BLOCKED_SENDS,
            values: [pairs.blocker, pairs.blocked],
          }),
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
    const blocked = new Set<string>();
    for (const row of (blockedRes?.rows ?? []) as { blocker: string; blocked: string }[]) {
      blocked.add(`${row.blocker}\n${row.blocked}`);
    }
    const ts = now();
    const features = new PgFeatureTx(conn, boxes, ts, blocked);

    // The spec's order: duplicate, then recipient (then a reply's original), then the
    // other checks of a feature write; only what passes asks the limiter. A repeat of a
    // (from, id) within the batch is answered as its first occurrence is; a write about
    // something an earlier op of the batch may change is decided when applied.
    const early: (OpResult | null)[] = new Array(ops.length).fill(null);
    const firstOf = new Map<string, number>();
    const twinOf = new Map<number, number>();
    const eligible: AdmitOp[] = [];
    const eligibleAt: number[] = [];
    const touched = new Set<string>();
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      if (op.kind === 'ack') continue;
      if (op.kind !== 'send') {
        const keys = featureKeys(op);
        const verdict = keys.some((k) => touched.has(k)) ? 'go' : await features.verdict(op);
        if (verdict === 'go') {
          eligible.push(op);
          eligibleAt.push(i);
          for (const k of keys) touched.add(k);
        } else {
          early[i] =
            verdict === 'unchanged' ? { kind: 'unchanged' } : { kind: 'rejected', code: verdict.code };
        }
        continue;
      }
      const key = `${op.from}\n${op.id}`;
      const first = firstOf.get(key);
      const ts = stored.get(key);
      if (first !== undefined) twinOf.set(i, first);
      else if (ts !== undefined) early[i] = { kind: 'duplicate', ts };
      // A sender without a row is as impossible as in SQLite (authenticated, never
      // deleted); answering no_such_user keeps the rest of the batch alive anyway.
      else if (!boxes.has(op.to) || !boxes.has(op.from)) early[i] = { kind: 'no_such_user' };
      else {
        const refusal =
          op.replyTo && !touched.has(`m:${op.replyTo.from}\n${op.replyTo.id}`)
            ? await features.replyCheck(op.from, op.to, op.replyTo)
            : null;
        if (refusal) early[i] = { kind: 'rejected', code: refusal };
        else {
          firstOf.set(key, i);
          eligible.push(op);
          eligibleAt.push(i);
          touched.add(`m:${key}`);
        }
      }
    }
    // Rejecting here rolls the transaction back: the commit rejects and stores nothing.
    const refusals = eligible.length > 0 ? await admit(eligible) : [];
    const refusalAt = new Map<number, SendRefusal | null>();
    for (let k = 0; k < eligibleAt.length; k++) refusalAt.set(eligibleAt[k]!, refusals[k] ?? null);

    let ins = noInserts();
    /** Inserts the messages queued so far, so the statements after see them. */
    const flush = async (): Promise<void> => {
      if (ins.sender.length === 0) return;
      const batch = ins;
      ins = noInserts();
      await insertMessages(conn, batch);
    };
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
      } else if (op.kind === 'send') {
        const refusal = refusalAt.get(i) ?? null;
        let quotes: [ReplyQuote, ReplyQuote] | null = null;
        if (op.replyTo) {
          // Checked again after what the batch stored or deleted before it.
          await flush();
          const code = await features.replyCheck(op.from, op.to, op.replyTo);
          if (code) {
            results.push({ kind: 'rejected', code });
            continue;
          }
          if (!refusal)
            quotes = [
              await features.quoteFor(op.to, op.replyTo),
              await features.quoteFor(op.from, op.replyTo),
            ];
        }
        results.push(
          refusal ? { kind: 'refused', refusal } : applySend(op, boxes, ins, ts, features, quotes),
        );
      } else {
        await flush();
        results.push(await applyFeature(features, op, refusalAt.get(i) ?? null));
      }
    }
    await flush();

    // Sent back to back on the connection (pipelined), COMMIT last.
    const writes: Promise<unknown>[] = [];
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

function insertMessages(conn: PgConn, ins: Inserts): Promise<unknown> {
  return conn.query({
    name: 'pigeon_insert_messages',
    text: INSERT_MESSAGES,
    values: [
      ins.sender,
      ins.id,
      ins.recipient,
      ins.body,
      ins.ts,
      ins.toSeq,
      ins.fromSeq,
      ins.replyFrom,
      ins.replyId,
      ins.words,
    ],
  });
}

/** A feature write in its turn: decided from the state the batch left, applied when admitted. */
async function applyFeature(
  features: PgFeatureTx,
  op: FeatureOp,
  refusal: SendRefusal | null,
): Promise<OpResult> {
  const verdict = await features.verdict(op);
  if (verdict === 'unchanged') return { kind: 'unchanged' };
  if (verdict !== 'go') return { kind: 'rejected', code: verdict.code };
  if (refusal) return { kind: 'refused', refusal };
  return features.apply(op);
}

/** What a feature write reads and changes, for ordering the checks of one batch (as sqlite-writer.ts). */
function featureKeys(op: FeatureOp): string[] {
  switch (op.kind) {
    case 'read':
      return [`k:${op.user}\n${op.with}`];
    case 'receipts':
      return [`r:${op.user}`];
    case 'block':
      return [`b:${op.user}`];
    default:
      return [`m:${op.ref.from}\n${op.ref.id}`];
  }
}

/** Assigns an admitted send its sequence numbers and queues its rows. */
function applySend(
  op: SendOp,
  boxes: Map<string, Box>,
  ins: Inserts,
  ts: number,
  features: PgFeatureTx,
  quotes: [ReplyQuote, ReplyQuote] | null,
): OpResult {
  const to = boxes.get(op.to)!;
  const from = boxes.get(op.from)!;
  const self = op.from === op.to;
  // A message to someone who blocks the sender stays in the sender's mailbox only.
  const delivered = self || !features.blocks(op.to, op.from);
  let toSeq: number | null = null;
  if (delivered) {
    toSeq = ++to.head;
    to.dirty = true;
  }
  const fromSeq = self ? null : ++from.head;
  from.dirty = true;
  ins.sender.push(op.from);
  ins.id.push(op.id);
  ins.recipient.push(op.to);
  ins.body.push(op.body);
  ins.ts.push(ts);
  ins.toSeq.push(toSeq);
  ins.fromSeq.push(fromSeq);
  ins.replyFrom.push(op.replyTo?.from ?? null);
  ins.replyId.push(op.replyTo?.id ?? null);
  ins.words.push(searchWords(op.body));
  const base = {
    t: 'msg' as const,
    id: op.id,
    from: op.from,
    to: op.to,
    body: op.body,
    ts,
    delivered: false,
    // Nobody's read mark covers a new message; one to oneself is always read.
    read: self,
  };
  const entries: MsgEntry[] = [];
  if (toSeq !== null) {
    const frame = { ...base, cursor: encodeCursor(to.tag, toSeq), ...(quotes ? { replyTo: quotes[0] } : {}) };
    entries.push({ owner: op.to, seq: toSeq, frame });
  }
  if (fromSeq !== null) {
    const frame = {
      ...base,
      cursor: encodeCursor(from.tag, fromSeq),
      ...(quotes ? { replyTo: quotes[1] } : {}),
    };
    entries.push({ owner: op.from, seq: fromSeq, frame });
  }
  return { kind: 'stored', ts, entries };
}
