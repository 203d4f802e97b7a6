import crypto from 'node:crypto';
import { ErrorCode, type FileInfo } from '@pigeon/protocol';
import type Database from 'better-sqlite3';
import type { FeatureOp } from './feature-types.js';
import { SqliteFeatureWriter } from './sqlite-feature-writer.js';
import { FileLinks, SendFiles } from './sqlite-files.js';
import {
  type ApplyRequest,
  type CheckpointResult,
  type OpReply,
  type SendWire,
  sendFilesOf,
  sendReplyOf,
} from './sqlite-protocol.js';

type Last = [owner: string, peer: string, conv: number, seq: number];

/** What one transaction accumulates before it commits. */
interface TxState {
  /** Mailbox heads moved so far. */
  heads: Map<string, number>;
  /** (owner, peer) → the newest message of the pair, written once per transaction. */
  lasts: Map<string, Last>;
  /** Conversation ids allocated so far. */
  newConvs: Map<string, number>;
}

/**
 * The SQLite writer: every statement that changes the database, on the one connection that
 * writes, inside the writer worker thread (so fsync and checkpoints never stall the event
 * loop). The batches it gets were checked (reader thread) and admitted (main thread)
 * already; the batches that queued while it was busy are applied in one transaction, so
 * one fsync serves all of them (group commit across batches).
 */
export class SqliteWriter {
  private readonly q;
  /** Mailbox heads (users.head_seq), cached: this connection is the only one moving them. */
  private readonly heads = new Map<string, number>();
  /** `lo\nhi` of a pair of users → their conversation id. */
  private readonly convs = new Map<string, number>();
  private nextConv: number;
  /** Something was committed since the last checkpoint. */
  written = false;
  /** The chat features' writes (issue 10). */
  private readonly features: SqliteFeatureWriter;
  /** Attachments (issue 12): a send's files checked again, and linked to the message. */
  private readonly sendFiles: SendFiles;
  private readonly fileLinks: FileLinks;

  constructor(private readonly db: Database.Database) {
    this.q = {
      insertUser: db.prepare(
        'INSERT INTO users (id, password_hash, tag, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING',
      ),
      userHead: db.prepare<[string], number>('SELECT head_seq FROM users WHERE id = ?').pluck(),
      userDelivered: db.prepare<[string], number>('SELECT delivered_seq FROM users WHERE id = ?').pluck(),
      setHead: db.prepare('UPDATE users SET head_seq = ? WHERE id = ?'),
      setDelivered: db.prepare('UPDATE users SET delivered_seq = ? WHERE id = ?'),
      findMessage: db
        .prepare<[string, string], number>('SELECT ts FROM messages WHERE sender = ? AND id = ?')
        .pluck(),
      // The reader checked for duplicates; one committed since (the same id in a batch that
      // was still in flight then) is answered as a duplicate here.
      insertMessage: db.prepare(
        `INSERT INTO messages (sender, id, recipient, conv, body, ts, sseq, rseq, reply_from, reply_id, files)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (sender, id) DO NOTHING`,
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
    this.features = new SqliteFeatureWriter(db);
    this.sendFiles = new SendFiles(db);
    this.fileLinks = new FileLinks(db);
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

  /**
   * Applies checked and admitted batches, in order, in one IMMEDIATE transaction, and
   * returns the answers per batch. When the transaction fails nothing of any is stored.
   */
  apply(batches: readonly ApplyRequest[]): OpReply[][] {
    const tx: TxState = { heads: new Map(), lasts: new Map(), newConvs: new Map() };
    const nextConv = this.nextConv;
    const run = this.db.transaction((): OpReply[][] => {
      const results = batches.map((batch) => this.applyBatch(batch, tx));
      for (const [user, head] of tx.heads) this.q.setHead.run(head, user);
      for (const [owner, peer, conv, seq] of tx.lasts.values()) this.q.setLast.run(owner, peer, conv, seq);
      return results;
    });
    let results: OpReply[][];
    try {
      results = run.immediate();
    } catch (err) {
      // Nothing is stored: forget the conversation ids the batches allocated.
      this.nextConv = nextConv;
      throw err;
    }
    this.written = true;
    for (const [user, head] of tx.heads) this.heads.set(user, head);
    for (const [key, conv] of tx.newConvs) this.convs.set(key, conv);
    return results;
  }

  private applyBatch(batch: ApplyRequest, tx: TxState): OpReply[] {
    const { ops, early, now } = batch;
    const twinOf = new Map(batch.twins);
    const waits = new Map(batch.waits);
    const results: OpReply[] = [];
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      const decided = early[i];
      const twin = twinOf.get(i);
      if (decided) results.push(decided);
      else if (twin !== undefined) {
        // A repeat of an earlier send of the batch: a duplicate once that one is stored.
        const first = results[twin]!;
        results.push(first[0] === 's' ? ['d', first[1]] : first);
      } else if (op[0] === 'a') results.push(this.applyAck(op[1], op[2], tx));
      else if (op[0] === 'f') results.push(this.applyFeature(op[1], now, waits.get(i) ?? 0, tx));
      else {
        const wait = waits.get(i) ?? 0;
        // Checked again: an earlier op may have stored or deleted the original since the check.
        const reply = sendReplyOf(op);
        const refusal = reply ? this.features.judge.replyCheck(op[1], op[3], reply) : null;
        // The files too: a DELETE or the sweep may have removed one since the check.
        const fileIds = sendFilesOf(op);
        const files = fileIds ? this.sendFiles.resolve(op[1], fileIds, now) : null;
        if (refusal) results.push(['x', refusal]);
        else if (fileIds && !files) results.push(['x', ErrorCode.noSuchFile]);
        else results.push(wait > 0 ? ['r', wait] : this.applySend(op, now, tx, files));
      }
    }
    return results;
  }

  private head(user: string, tx: TxState): number {
    const inTx = tx.heads.get(user);
    if (inTx !== undefined) return inTx;
    let head = this.heads.get(user);
    if (head === undefined) {
      head = this.q.userHead.get(user) ?? 0;
      this.heads.set(user, head);
    }
    return head;
  }

  private convOf(a: string, b: string, tx: TxState): number {
    const key = a < b ? `${a}\n${b}` : `${b}\n${a}`;
    let conv = this.convs.get(key) ?? tx.newConvs.get(key);
    if (conv === undefined) {
      conv = this.q.conv.get(a, b);
      if (conv !== undefined) this.convs.set(key, conv);
      else {
        conv = this.nextConv++;
        tx.newConvs.set(key, conv);
      }
    }
    return conv;
  }

  private applySend(op: SendWire, now: number, tx: TxState, files: FileInfo[] | null): OpReply {
    const [, from, id, to, body] = op;
    const reply = sendReplyOf(op);
    // A message to someone who blocks the sender is stored in the sender's mailbox only
    // (PROTOCOL.md "Block"): rseq 0 is no entry.
    const delivered = from === to || !this.features.judge.blocks(to, from);
    const rseq = delivered ? this.head(to, tx) + 1 : 0;
    const sseq = from === to ? rseq : this.head(from, tx) + 1;
    const conv = this.convOf(from, to, tx);
    const inserted = this.q.insertMessage.run(
      from,
      id,
      to,
      conv,
      body,
      now,
      sseq,
      rseq,
      reply?.from ?? null,
      reply?.id ?? null,
      files ? JSON.stringify(files) : null,
    );
    if (inserted.changes === 0) return ['d', this.q.findMessage.get(from, id) ?? now];
    const rowid = Number(inserted.lastInsertRowid);
    this.features.indexMessage(rowid, from, to, delivered, conv, body);
    if (files) this.fileLinks.link(rowid, files);
    if (delivered) {
      tx.heads.set(to, rseq);
      tx.lasts.set(`${to}\n${from}`, [to, from, conv, rseq]);
    }
    tx.heads.set(from, sseq);
    if (from !== to) tx.lasts.set(`${from}\n${to}`, [from, to, conv, sseq]);
    const quotes = reply
      ? ([this.features.quoteFor(to, reply), this.features.quoteFor(from, reply)] as const)
      : null;
    if (files) return ['s', now, rseq, sseq, quotes?.[0] ?? null, quotes?.[1] ?? null, files];
    if (!quotes) return ['s', now, rseq, sseq];
    return ['s', now, rseq, sseq, quotes[0], quotes[1]];
  }

  /** A chat-feature write: answered from the state as the batches before it left it. */
  private applyFeature(op: FeatureOp, now: number, wait: number, tx: TxState): OpReply {
    const verdict = this.features.judge.verdict(op, now);
    if (verdict === 'unchanged') return ['f', { kind: 'unchanged' }];
    if (verdict !== 'go') return ['f', { kind: 'rejected', code: verdict.code }];
    if (wait > 0) return ['r', wait];
    // Conversation rows the transaction moved so far go in now: hiding a message may move
    // its row back, which must not be overwritten at the end by a send before it.
    for (const [owner, peer, conv, seq] of tx.lasts.values()) this.q.setLast.run(owner, peer, conv, seq);
    tx.lasts.clear();
    const next = (owner: string): number => {
      const seq = this.head(owner, tx) + 1;
      tx.heads.set(owner, seq);
      return seq;
    };
    return ['f', this.features.apply(op, now, next)];
  }

  private applyAck(user: string, seq: number, tx: TxState): OpReply {
    const delivered = this.q.userDelivered.get(user);
    if (delivered === undefined || seq <= delivered) return ['a', 0, []];
    const upto = Math.min(seq, this.head(user, tx));
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
