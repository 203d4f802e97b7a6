import crypto from 'node:crypto';
import type Database from 'better-sqlite3';
import type { FeatureOp } from './feature-types.js';
import { SqliteFeatureWriter } from './sqlite-feature-writer.js';
import type { CheckpointResult, CommitReply, OpReply, WireOp } from './sqlite-protocol.js';

/**
 * The SQLite writer: every statement that changes the database, on the one connection that
 * writes, inside the writer worker thread (so fsync and checkpoints never stall the event
 * loop). Synchronous by design: one batch is checked, admitted (by the main thread, in
 * between) and applied before the next begins.
 */
export class SqliteWriter {
  private readonly q;
  /** Mailbox heads (users.head_seq), cached: this connection is the only one moving them. */
  private readonly heads = new Map<string, number>();
  /** Mailbox tags: they never change, and users are never deleted. */
  private readonly tags = new Map<string, string>();
  /** `lo\nhi` of a pair of users → their conversation id. */
  private readonly convs = new Map<string, number>();
  private nextConv: number;
  /** Users whose tag the main thread has been sent. */
  private readonly tagsSent = new Set<string>();
  /** Something was committed since the last checkpoint. */
  written = false;
  /** The chat features' writes (issue 10). */
  private readonly features: SqliteFeatureWriter;

  constructor(private readonly db: Database.Database) {
    this.q = {
      insertUser: db.prepare(
        'INSERT INTO users (id, password_hash, tag, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING',
      ),
      userTag: db.prepare<[string], string>('SELECT tag FROM users WHERE id = ?').pluck(),
      userHead: db.prepare<[string], number>('SELECT head_seq FROM users WHERE id = ?').pluck(),
      userDelivered: db.prepare<[string], number>('SELECT delivered_seq FROM users WHERE id = ?').pluck(),
      setHead: db.prepare('UPDATE users SET head_seq = ? WHERE id = ?'),
      setDelivered: db.prepare('UPDATE users SET delivered_seq = ? WHERE id = ?'),
      findMessage: db
        .prepare<[string, string], number>('SELECT ts FROM messages WHERE sender = ? AND id = ?')
        .pluck(),
      insertMessage: db.prepare(
        `INSERT INTO messages (sender, id, recipient, conv, body, ts, sseq, rseq, reply_from, reply_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      conv: db
        .prepare<[string, string], number>('SELECT conv FROM conversations WHERE owner = ? AND peer = ?')
        .pluck(),
      maxConv: db.prepare<[], number | null>('SELECT MAX(conv) FROM conversations').pluck(),
      setLast: db.prepare(
        `INSERT INTO conversations (owner, peer, conv, last_seq) VALUES (?, ?, ?, ?)
         ON CONFLICT (owner, peer) DO UPDATE SET last_seq = excluded.last_seq`,
      ),
      newlyDelivered: db
        .prepare<[string, number, number, string], [string, string]>(
          'SELECT sender, id FROM messages WHERE recipient = ? AND rseq > ? AND rseq <= ? AND sender <> ? ORDER BY rseq',
        )
        .raw(),
      setPassword: db
        .prepare<[string, string], number>(
          'UPDATE users SET password_hash = ?, token_epoch = token_epoch + 1 WHERE id = ? RETURNING token_epoch',
        )
        .pluck(),
      bumpEpoch: db
        .prepare<[string], number>(
          'UPDATE users SET token_epoch = token_epoch + 1 WHERE id = ? RETURNING token_epoch',
        )
        .pluck(),
      revokeToken: db.prepare(
        `INSERT INTO revoked_tokens (id, expires_at) VALUES (?, ?)
         ON CONFLICT (id) DO UPDATE SET expires_at = MAX(expires_at, excluded.expires_at)`,
      ),
      sweepRevoked: db.prepare('DELETE FROM revoked_tokens WHERE expires_at <= ?'),
    };
    this.nextConv = (this.q.maxConv.get() ?? 0) + 1;
    this.features = new SqliteFeatureWriter(db, (user) => this.tagOf(user));
  }

  // ---------------------------------------------------------------- accounts

  createUser(id: string, passwordHash: string | null, now: number): boolean {
    const tag = crypto.randomBytes(4).toString('hex');
    const created = this.q.insertUser.run(id, passwordHash, tag, now).changes === 1;
    if (created) this.written = true;
    return created;
  }

  setPassword(id: string, passwordHash: string): number | null {
    this.written = true;
    return this.q.setPassword.get(passwordHash, id) ?? null;
  }

  revokeAllTokens(id: string): number | null {
    this.written = true;
    return this.q.bumpEpoch.get(id) ?? null;
  }

  revokeToken(tokenId: string, expiresAt: number): void {
    this.written = true;
    this.q.revokeToken.run(tokenId, expiresAt);
  }

  sweepRevoked(now: number): void {
    if (this.q.sweepRevoked.run(now).changes > 0) this.written = true;
  }

  // ---------------------------------------------------------------- commits

  /** The user's mailbox tag, or null when there is no such user. */
  tagOf(user: string): string | null {
    let tag = this.tags.get(user);
    if (tag === undefined) {
      const row = this.q.userTag.get(user);
      if (row === undefined) return null;
      tag = row;
      this.tags.set(user, tag);
    }
    return tag;
  }

  /**
   * The checks of the spec's order that need the database, before admission: per send,
   * `duplicate` (with the original ts) or `no_such_user`, or null when it goes on to the
   * rate limit; a repeat of an earlier send of the batch points at it (`twinOf`).
   */
  check(
    ops: readonly WireOp[],
    now: number,
  ): {
    early: (OpReply | null)[];
    eligible: number[];
    twinOf: Map<number, number>;
  } {
    const early: (OpReply | null)[] = new Array(ops.length).fill(null);
    const eligible: number[] = [];
    const firstOf = new Map<string, number>();
    const twinOf = new Map<number, number>();
    // What earlier ops of the batch may change (messages, marks, blocks, settings): a later
    // op about the same thing cannot be answered from the database as it is now, so it asks
    // for its token and gets its answer when applied (see apply). Ops answered here change
    // nothing, so they do not count.
    const touched = new Set<string>();
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      if (op[0] === 'f') {
        const keys = featureKeys(op[1]);
        const verdict = this.features.verdict(op[1], now);
        if (verdict === 'go' || keys.some((k) => touched.has(k))) {
          eligible.push(i);
          for (const k of keys) touched.add(k);
        } else {
          early[i] = [
            'f',
            verdict === 'unchanged' ? { kind: 'unchanged' } : { kind: 'rejected', code: verdict.code },
          ];
        }
        continue;
      }
      if (op[0] !== 's') continue;
      const key = `${op[1]}\n${op[2]}`;
      const first = firstOf.get(key);
      if (first !== undefined) {
        twinOf.set(i, first);
        continue;
      }
      const ts = this.q.findMessage.get(op[1], op[2]);
      if (ts !== undefined) early[i] = ['d', ts];
      else if (this.tagOf(op[3]) === null) early[i] = ['n'];
      else {
        const refusal =
          op.length === 7 && !touched.has(`m:${op[5]}\n${op[6]}`)
            ? this.features.replyCheck(op[1], op[3], { from: op[5], id: op[6] })
            : null;
        if (refusal) early[i] = ['x', refusal];
        else {
          firstOf.set(key, i);
          eligible.push(i);
          touched.add(`m:${key}`);
        }
      }
    }
    return { early, eligible, twinOf };
  }

  /**
   * Applies a checked and admitted batch in one IMMEDIATE transaction; `refusals` holds
   * the limiter's answer per eligible op (0 = admitted, else the wait in ms).
   */
  apply(
    ops: readonly WireOp[],
    checked: ReturnType<SqliteWriter['check']>,
    refusals: ReadonlyMap<number, number>,
    now: number,
  ): CommitReply {
    const heads = new Map<string, number>();
    const lasts = new Map<string, [owner: string, peer: string, conv: number, seq: number]>();
    const newConvs = new Map<string, number>();
    const nextConv = this.nextConv;
    const run = this.db.transaction((): OpReply[] => {
      const results: OpReply[] = [];
      for (let i = 0; i < ops.length; i++) {
        const op = ops[i]!;
        const decided = checked.early[i];
        const twin = checked.twinOf.get(i);
        if (decided) results.push(decided);
        else if (twin !== undefined) {
          const first = results[twin]!;
          results.push(first[0] === 's' ? ['d', first[1]] : first);
        } else if (op[0] === 'a') results.push(this.applyAck(op[1], op[2], heads));
        else if (op[0] === 'f') results.push(this.applyFeature(op[1], now, refusals.get(i) ?? 0, heads));
        else {
          const wait = refusals.get(i) ?? 0;
          // Checked again: an earlier op of the batch may have stored or deleted the original.
          const refusal =
            op.length === 7 ? this.features.replyCheck(op[1], op[3], { from: op[5], id: op[6] }) : null;
          if (refusal) results.push(['x', refusal]);
          else results.push(wait > 0 ? ['r', wait] : this.applySend(op, now, heads, lasts, newConvs));
        }
      }
      for (const [user, head] of heads) this.q.setHead.run(head, user);
      for (const [owner, peer, conv, seq] of lasts.values()) this.q.setLast.run(owner, peer, conv, seq);
      return results;
    });
    let results: OpReply[];
    try {
      results = run.immediate();
    } catch (err) {
      // Nothing of the batch is stored: forget the conversation ids it allocated.
      this.nextConv = nextConv;
      throw err;
    }
    this.written = true;
    for (const [user, head] of heads) this.heads.set(user, head);
    for (const [key, conv] of newConvs) this.convs.set(key, conv);
    return { results, tags: this.newTags(ops) };
  }

  /** Tags of the batch's users that the main thread has not been told yet (it builds cursors). */
  private newTags(ops: readonly WireOp[]): [string, string][] {
    const out: [string, string][] = [];
    const add = (user: string): void => {
      if (this.tagsSent.has(user)) return;
      const tag = this.tags.get(user) ?? this.tagOf(user);
      if (tag === null) return;
      this.tagsSent.add(user);
      out.push([user, tag]);
    };
    for (const op of ops) {
      if (op[0] === 's') {
        add(op[1]);
        add(op[3]);
      }
    }
    return out;
  }

  private head(user: string, batch: Map<string, number>): number {
    const inBatch = batch.get(user);
    if (inBatch !== undefined) return inBatch;
    let head = this.heads.get(user);
    if (head === undefined) {
      head = this.q.userHead.get(user) ?? 0;
      this.heads.set(user, head);
    }
    return head;
  }

  private convOf(a: string, b: string, newConvs: Map<string, number>): number {
    const key = a < b ? `${a}\n${b}` : `${b}\n${a}`;
    let conv = this.convs.get(key) ?? newConvs.get(key);
    if (conv === undefined) {
      conv = this.q.conv.get(a, b);
      if (conv !== undefined) this.convs.set(key, conv);
      else {
        conv = this.nextConv++;
        newConvs.set(key, conv);
      }
    }
    return conv;
  }

  private applySend(
    op: Extract<WireOp, { 0: 's' }>,
    now: number,
    heads: Map<string, number>,
    lasts: Map<string, [string, string, number, number]>,
    newConvs: Map<string, number>,
  ): OpReply {
    const [, from, id, to, body, replyFrom, replyId] = op;
    // A message to someone who blocks the sender is stored in the sender's mailbox only
    // (PROTOCOL.md "Block"): rseq 0 is no entry.
    const delivered = from === to || !this.features.blocks(to, from);
    let rseq = 0;
    if (delivered) {
      rseq = this.head(to, heads) + 1;
      heads.set(to, rseq);
    }
    let sseq = rseq;
    if (from !== to) {
      sseq = this.head(from, heads) + 1;
      heads.set(from, sseq);
    }
    const conv = this.convOf(from, to, newConvs);
    const rowid = Number(
      this.q.insertMessage.run(from, id, to, conv, body, now, sseq, rseq, replyFrom ?? null, replyId ?? null)
        .lastInsertRowid,
    );
    this.features.indexMessage(rowid, from, to, delivered, conv, body);
    if (delivered) lasts.set(`${to}\n${from}`, [to, from, conv, rseq]);
    if (from !== to) lasts.set(`${from}\n${to}`, [from, to, conv, sseq]);
    if (replyFrom === undefined || replyId === undefined) return ['s', now, rseq, sseq];
    const ref = { from: replyFrom, id: replyId };
    return ['s', now, rseq, sseq, this.features.quoteFor(to, ref), this.features.quoteFor(from, ref)];
  }

  /** A chat-feature write: answered from the state as the batch left it (see check). */
  private applyFeature(op: FeatureOp, now: number, wait: number, heads: Map<string, number>): OpReply {
    const verdict = this.features.verdict(op, now);
    if (verdict === 'unchanged') return ['f', { kind: 'unchanged' }];
    if (verdict !== 'go') return ['f', { kind: 'rejected', code: verdict.code }];
    if (wait > 0) return ['r', wait];
    const next = (owner: string): number => {
      const seq = this.head(owner, heads) + 1;
      heads.set(owner, seq);
      return seq;
    };
    return ['f', this.features.apply(op, now, next)];
  }

  private applyAck(user: string, seq: number, heads: Map<string, number>): OpReply {
    const delivered = this.q.userDelivered.get(user);
    if (delivered === undefined || seq <= delivered) return ['a', 0, []];
    const upto = Math.min(seq, this.head(user, heads));
    if (upto <= delivered) return ['a', 0, []];
    this.q.setDelivered.run(upto, user);
    return ['a', 1, this.q.newlyDelivered.all(user, delivered, upto, user)];
  }

  // ---------------------------------------------------------------- checkpoints

  /**
   * Copies committed WAL pages back into the database without waiting for readers or
   * writers (PASSIVE), so the WAL is reused from its start. Returns SQLite's counts.
   */
  checkpoint(): CheckpointResult {
    this.written = false;
    const rows = this.db.pragma('wal_checkpoint(PASSIVE)') as CheckpointResult[];
    return rows[0]!;
  }
}

/** What a feature write reads and changes, for ordering the checks of one batch (see check). */
function featureKeys(op: FeatureOp): string[] {
  switch (op.kind) {
    case 'read':
      return [`k:${op.user}\n${op.with}`];
    case 'receipts':
      return [`r:${op.user}`];
    case 'block':
      // The count of a user's blocks is part of every block's check.
      return [`b:${op.user}`];
    default:
      return [`m:${op.ref.from}\n${op.ref.id}`];
  }
}
