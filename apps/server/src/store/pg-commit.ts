// Over ~300 lines on purpose: one group commit is one transaction whose steps (lock, check, admit,
// insert, answer) share the batch's locked rows and queued inserts; cut apart they would pass a
// dozen values between them. Statement texts sit at the top so the flow reads below.
import { ErrorCode, type FileInfo, type MessageRef, type MsgFrame, type ReplyQuote } from '@pigeon/protocol';
import { encodeCursor } from './cursor.js';
import { featureKeys } from './feature-rules.js';
import type { FeatureOp } from './feature-types.js';
import type { PgClient, PgConn } from './pg-client.js';
import { searchWords } from './pg-feature-schema.js';
import { type PgBox, PgFeatureTx } from './pg-features.js';
import { linkFiles, sendFiles } from './pg-files.js';
import type { Admit, AdmitOp, MsgEntry, OpResult, Receipt, SendOp, SendRefusal, StoreOp } from './store.js';

/** A locked user row as the group commit sees it while it assigns sequence numbers. */
type Box = PgBox;

/** Columns of one insert statement, one array per column (sent as `unnest` parameters). */
interface Inserts {
  sender: string[];
  id: string[];
  recipient: string[];
  conv: number[];
  body: string[];
  ts: number[];
  sseq: number[];
  /** 0: the recipient blocks the sender (no entry in its mailbox). */
  rseq: number[];
  replyFrom: (string | null)[];
  replyId: (string | null)[];
  /** Search tokens (pg-feature-schema.ts searchWords). */
  words: string[];
  /** Attachments as JSON (null: none), issue 12. */
  files: (string | null)[];
  /** message_files rows of the attachments: (sender, id) of the message → upload. */
  links: { sender: string[]; id: string[]; upload: string[] };
}

function noInserts(): Inserts {
  return {
    sender: [],
    id: [],
    recipient: [],
    conv: [],
    body: [],
    ts: [],
    sseq: [],
    rseq: [],
    replyFrom: [],
    replyId: [],
    words: [],
    files: [],
    links: { sender: [], id: [], upload: [] },
  };
}

/** (owner, peer) → [owner, peer, conv, newest seq] of the conversations a batch writes to. */
type Lasts = Map<string, [string, string, number, number]>;

/** Statement texts, prepared once per connection under these names. */
const LOCK_USERS = `SELECT id, tag, head_seq, delivered_seq, removed_upto FROM users WHERE id = ANY($1::text[])
  ORDER BY id FOR UPDATE`;
const FIND_SENT = `SELECT sender, id, ts FROM messages
  WHERE (sender, id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`;
// Both directions of a pair share its conv: the (lo, hi) row exists once any message does.
const FIND_CONVS = `SELECT owner AS lo, peer AS hi, conv FROM conversations
  WHERE (owner, peer) IN (SELECT * FROM unnest($1::text[], $2::text[]))`;
// Ids for the pairs this batch may start; those it does not use are gaps (harmless).
const NEW_CONVS = `SELECT nextval('conv_ids') AS conv FROM generate_series(1, $1::int)`;
// In op order, so rowids grow with seqs within every mailbox. The search vector holds
// exactly the tokens (no parser or dictionary), see pg-feature-schema.ts.
const INSERT_MESSAGES = `
  INSERT INTO messages (sender, id, recipient, conv, body, ts, sseq, rseq, reply_from, reply_id, search, files)
  SELECT sender, id, recipient, conv, body, ts, sseq, rseq, reply_from, reply_id,
    array_to_tsvector(string_to_array(words, ' ')), files
  FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::bigint[], $7::bigint[], $8::bigint[],
      $9::text[], $10::text[], $11::text[], $12::text[])
    WITH ORDINALITY AS t(sender, id, recipient, conv, body, ts, sseq, rseq, reply_from, reply_id, words, files, ord)
  ORDER BY ord`;
// The recipient of each message a batch's feature writes and replies name: their mailboxes
// get updates, so their rows are locked with the others (a message's parties never change).
const PARTIES = `SELECT recipient FROM messages
  WHERE (sender, id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`;
// Which recipients of the batch's sends block their sender.
const BLOCKED_SENDS = `SELECT blocker, blocked FROM blocks
  WHERE (blocker, blocked) IN (SELECT * FROM unnest($1::text[], $2::text[]))`;
const SET_LAST = `
  INSERT INTO conversations (owner, peer, conv, last_seq)
  SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[])
  ON CONFLICT (owner, peer) DO UPDATE SET last_seq = GREATEST(conversations.last_seq, EXCLUDED.last_seq)`;
const UPDATE_MAILBOXES = `
  UPDATE users u SET head_seq = v.head, delivered_seq = v.delivered
  FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS v(id, head, delivered)
  WHERE u.id = v.id`;
// What each ack newly covers that someone else sent to this mailbox: one receipt per
// message, in mailbox order.
const RECEIPTS = `
  SELECT a.ord::int AS ord, m.sender, m.id
  FROM unnest($1::text[], $2::bigint[], $3::bigint[]) WITH ORDINALITY AS a(owner, lo, hi, ord)
  JOIN messages m ON m.recipient = a.owner AND m.rseq > a.lo AND m.rseq <= a.hi
  WHERE m.sender <> a.owner
  ORDER BY a.ord, m.rseq`;

/** `lo\nhi` of an unordered pair of users. */
function pairKey(a: string, b: string): string {
  return a < b ? `${a}\n${b}` : `${b}\n${a}`;
}

/**
 * One group commit on PostgreSQL = one transaction in two pipelined round trips:
 *  1. BEGIN, lock every user row the batch touches in ONE statement ordered by id (two nodes
 *     committing A→B and B→A at once take the locks in the same order, so they queue
 *     instead of deadlocking), read which (from, id) already exist and the conversation ids
 *     of pairs this node has not cached, and draw ids for the pairs that may be new. Under
 *     the two users' row locks none of that can change before COMMIT.
 *  2. `admit` (the rate limit; a Redis round trip in a cluster) decides the sends that
 *     passed; then, with sequence numbers taken from the locked heads, one statement
 *     inserts every message (one row in both mailboxes), one moves the conversations' newest
 *     seq, one writes the heads and delivered marks, one reads the receipts the acks cause,
 *     and COMMIT goes right behind them.
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
  cache: CommitCache,
): Promise<OpResult[]> {
  const userIds = new Set<string>();
  const dupFrom: string[] = [];
  const dupId: string[] = [];
  const unknownPairs = new Map<string, [string, string]>();
  const sendPairs = { blocker: [] as string[], blocked: [] as string[] };
  const refs: MessageRef[] = [];
  for (const op of ops) {
    if (op.kind === 'send') {
      userIds.add(op.from);
      userIds.add(op.to);
      dupFrom.push(op.from);
      dupId.push(op.id);
      const key = pairKey(op.from, op.to);
      if (!cache.convs.has(key)) unknownPairs.set(key, op.from < op.to ? [op.from, op.to] : [op.to, op.from]);
      if (op.from !== op.to) {
        sendPairs.blocker.push(op.to);
        sendPairs.blocked.push(op.from);
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
  const pairs = [...unknownPairs.values()];
  return db.transaction(async ({ conn, begun, commit }) => {
    const [, lockedRes, existingRes, convRes, newRes, blockedRes] = await Promise.all([
      begun,
      conn.query({ name: 'pigeon_lock_users', text: LOCK_USERS, values: [ids] }),
      dupFrom.length === 0
        ? null
        : conn.query({ name: 'pigeon_find_sent', text: FIND_SENT, values: [dupFrom, dupId] }),
      pairs.length === 0
        ? null
        : conn.query({
            name: 'pigeon_find_convs',
            text: FIND_CONVS,
            values: [pairs.map((p) => p[0]), pairs.map((p) => p[1])],
          }),
      pairs.length === 0
        ? null
        : conn.query({ name: 'pigeon_new_convs', text: NEW_CONVS, values: [pairs.length] }),
      sendPairs.blocker.length === 0
        ? null
        : conn.query({
            name: 'pigeon_blocked_sends',
            text: BLOCKED_SENDS,
            values: [sendPairs.blocker, sendPairs.blocked],
          }),
    ]);
    const locked = lockedRes.rows as {
      id: string;
      tag: string;
      head_seq: number;
      delivered_seq: number;
      removed_upto: number;
    }[];
    const existing = (existingRes?.rows ?? []) as { sender: string; id: string; ts: number }[];
    // Conversation ids: cached, found, or drawn for a pair's first message.
    const convs = new Map<string, number>();
    for (const r of (convRes?.rows ?? []) as { lo: string; hi: string; conv: number }[]) {
      convs.set(`${r.lo}\n${r.hi}`, r.conv);
    }
    const fresh = ((newRes?.rows ?? []) as { conv: number }[]).map((r) => r.conv);
    const convOf = (a: string, b: string): number => {
      const key = pairKey(a, b);
      let conv = cache.convs.get(key) ?? convs.get(key);
      if (conv === undefined) {
        conv = fresh.pop()!;
        convs.set(key, conv);
      }
      return conv;
    };
    const boxes = new Map<string, Box>();
    for (const row of locked) {
      boxes.set(row.id, {
        tag: row.tag,
        head: row.head_seq,
        delivered: row.delivered_seq,
        removed: row.removed_upto,
        dirty: false,
      });
      cache.tags.set(row.id, row.tag);
    }
    const stored = new Map<string, number>();
    for (const row of existing) stored.set(`${row.sender}\n${row.id}`, row.ts);
    const blocked = new Set<string>();
    for (const row of (blockedRes?.rows ?? []) as { blocker: string; blocked: string }[]) {
      blocked.add(`${row.blocker}\n${row.blocked}`);
    }
    const ts = now();
    const features = new PgFeatureTx(conn, boxes, ts, blocked);

    // The spec's order: duplicate, then recipient (then a reply's original), then the other
    // checks of a feature write; only what passes asks the limiter. A repeat of a (from, id)
    // within the batch is answered as its first occurrence is; a write about something an
    // earlier op of the batch may change is decided when it is applied (as in sqlite-batch-check.ts).
    const early: (OpResult | null)[] = new Array(ops.length).fill(null);
    const firstOf = new Map<string, number>();
    const twinOf = new Map<number, number>();
    const eligible: AdmitOp[] = [];
    const eligibleAt: number[] = [];
    const touched = new Set<string>();
    /** The attachments of the sends that carry some, by op index (their rows locked FOR SHARE). */
    const filesAt = new Map<number, FileInfo[]>();
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
      const stamp = stored.get(key);
      if (first !== undefined) twinOf.set(i, first);
      else if (stamp !== undefined) early[i] = { kind: 'duplicate', ts: stamp };
      // A sender without a row is as impossible as in SQLite (authenticated, never
      // deleted); answering no_such_user keeps the rest of the batch alive anyway.
      else if (!boxes.has(op.to) || !boxes.has(op.from)) early[i] = { kind: 'no_such_user' };
      else {
        const refusal =
          op.replyTo && !touched.has(`m:${op.replyTo.from}\n${op.replyTo.id}`)
            ? await features.replyCheck(op.from, op.to, op.replyTo)
            : null;
        // Then its files (after the reply's checks, before the rate: PROTOCOL.md "Files").
        const files = !refusal && op.files ? await sendFiles(conn, op.from, op.files, ts) : null;
        if (refusal) early[i] = { kind: 'rejected', code: refusal };
        else if (op.files && !files) early[i] = { kind: 'rejected', code: ErrorCode.noSuchFile };
        else {
          if (files) filesAt.set(i, files);
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
    let lasts: Lasts = new Map();
    /** Writes the messages and conversation rows queued so far, so the statements after see them. */
    const flush = async (): Promise<void> => {
      if (ins.sender.length === 0) return;
      const [i, l] = [ins, lasts];
      ins = noInserts();
      lasts = new Map();
      await Promise.all(insertMessages(conn, i, l));
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
          if (!refusal) {
            quotes = [
              await features.quoteFor(op.to, op.replyTo),
              await features.quoteFor(op.from, op.replyTo),
            ];
          }
        }
        results.push(
          refusal
            ? { kind: 'refused', refusal }
            : applySend(
                op,
                boxes,
                ins,
                lasts,
                convOf,
                ts,
                features.sendBlocked(op.to, op.from),
                quotes,
                filesAt.get(i) ?? null,
              ),
        );
      } else {
        await flush();
        results.push(await applyFeature(features, op, refusalAt.get(i) ?? null));
      }
    }

    // Sent back to back on the connection (pipelined), COMMIT last.
    const writes: Promise<unknown>[] = [];
    if (ins.sender.length > 0) writes.push(...insertMessages(conn, ins, lasts));
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
    // Committed: the pairs' ids are permanent now (a rolled-back batch caches none).
    for (const [key, conv] of convs) cache.convs.set(key, conv);
    return results;
  });
}

/** The statements that write queued messages and the newest seq of their conversations. */
function insertMessages(conn: PgConn, ins: Inserts, lasts: Lasts): Promise<unknown>[] {
  const l = [...lasts.values()];
  return [
    conn.query({
      name: 'pigeon_insert_messages',
      text: INSERT_MESSAGES,
      values: [
        ins.sender,
        ins.id,
        ins.recipient,
        ins.conv,
        ins.body,
        ins.ts,
        ins.sseq,
        ins.rseq,
        ins.replyFrom,
        ins.replyId,
        ins.words,
        ins.files,
      ],
    }),
    ...(ins.links.upload.length > 0 ? [linkFiles(conn, ins.links)] : []),
    conn.query({
      name: 'pigeon_set_last',
      text: SET_LAST,
      values: [l.map((x) => x[0]), l.map((x) => x[1]), l.map((x) => x[2]), l.map((x) => x[3])],
    }),
  ];
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

/** What a node keeps between commits: mailbox tags and conversation ids never change. */
export interface CommitCache {
  tags: Map<string, string>;
  /** pairKey → conv. */
  convs: Map<string, number>;
}

/**
 * Assigns an admitted send its sequence numbers and conversation, and queues its row. A
 * recipient who blocks the sender gets no entry (PROTOCOL.md "Block"): rseq 0.
 */
function applySend(
  op: SendOp,
  boxes: Map<string, Box>,
  ins: Inserts,
  lasts: Lasts,
  convOf: (a: string, b: string) => number,
  ts: number,
  blocked: boolean,
  quotes: [ReplyQuote, ReplyQuote] | null,
  files: FileInfo[] | null,
): OpResult {
  const to = boxes.get(op.to)!;
  const from = boxes.get(op.from)!;
  const self = op.from === op.to;
  const delivered = self || !blocked;
  let rseq = 0;
  if (delivered) {
    rseq = ++to.head;
    to.dirty = true;
  }
  const sseq = self ? rseq : ++from.head;
  from.dirty = true;
  const conv = convOf(op.from, op.to);
  ins.sender.push(op.from);
  ins.id.push(op.id);
  ins.recipient.push(op.to);
  ins.conv.push(conv);
  ins.body.push(op.body);
  ins.ts.push(ts);
  ins.sseq.push(sseq);
  ins.rseq.push(rseq);
  ins.replyFrom.push(op.replyTo?.from ?? null);
  ins.replyId.push(op.replyTo?.id ?? null);
  ins.words.push(searchWords(op.body, op.from, op.to, delivered, conv));
  ins.files.push(files ? JSON.stringify(files) : null);
  for (const f of files ?? []) {
    ins.links.sender.push(op.from);
    ins.links.id.push(op.id);
    ins.links.upload.push(f.id);
  }
  if (delivered) lasts.set(`${op.to}\n${op.from}`, [op.to, op.from, conv, rseq]);
  if (!self) lasts.set(`${op.from}\n${op.to}`, [op.from, op.to, conv, sseq]);
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
    ...(files ? { files } : {}),
  };
  const entries: MsgEntry[] = [];
  if (delivered) {
    const frame: MsgFrame = { ...base, cursor: encodeCursor(to.tag, rseq) };
    if (quotes) frame.replyTo = quotes[0];
    entries.push({ owner: op.to, seq: rseq, frame });
  }
  if (!self) {
    const frame: MsgFrame = { ...base, cursor: encodeCursor(from.tag, sseq) };
    if (quotes) frame.replyTo = quotes[1];
    entries.push({ owner: op.from, seq: sseq, frame });
  }
  return { kind: 'stored', ts, entries };
}
