import type { MessageRef, ReplyQuote } from '@pigeon/protocol';
import type Database from 'better-sqlite3';
import { encodeCursor } from './cursor.js';
import {
  changeOwners,
  indexTokens,
  peerOf,
  replyQuote,
  searchKeys,
  type UpdateData,
  updateFrame,
  withReaction,
} from './feature-rules.js';
import type { BlockChange, FeatureOp, FeatureResult, UpdateEntry } from './feature-types.js';
import { quotedBody } from './file-columns.js';
import { SqliteFeatureJudge } from './sqlite-feature-judge.js';
import { hiddenBit, LAST_ROWID_BELOW, ownSeq, UNREAD } from './sqlite-feature-sql.js';
import { EXPIRE_LAST_LINKED } from './sqlite-files.js';

/** Hands out the next seq of a mailbox within the batch being applied (the writer's heads). */
export type NextSeq = (owner: string) => number;

/**
 * The chat features' writes on the writer's connection, inside the writer thread
 * (PROTOCOL.md "Read" … "Block"). The reader checked a batch's writes before the rate
 * limit; inside the transaction that applies it the writer asks `judge.verdict` again
 * (earlier ops may have changed the answer) and then `apply`. Every change appends its
 * update entries in the same transaction as the change itself.
 */
export class SqliteFeatureWriter {
  private readonly q;

  /** Mailbox tags, for the cursors of update entries (tags never change). */
  private readonly tags = new Map<string, string>();

  constructor(db: Database.Database) {
    this.judge = new SqliteFeatureJudge(db);
    this.q = {
      tag: db.prepare<[string], string>('SELECT tag FROM users WHERE id = ?').pluck(),
      setReceipts: db.prepare('UPDATE users SET read_receipts = ? WHERE id = ?'),
      block: db.prepare('INSERT INTO blocks (blocker, blocked) VALUES (?, ?) ON CONFLICT DO NOTHING'),
      unblock: db.prepare('DELETE FROM blocks WHERE blocker = ? AND blocked = ?'),
      marks: db
        .prepare<[string, string], [number, number]>(
          'SELECT read_upto, seen_upto FROM marks WHERE owner = ? AND peer = ?',
        )
        .raw(),
      setRead: db.prepare(
        `INSERT INTO marks (owner, peer, read_upto) VALUES (?, ?, ?)
         ON CONFLICT (owner, peer) DO UPDATE SET read_upto = excluded.read_upto`,
      ),
      setSeen: db.prepare(
        `INSERT INTO marks (owner, peer, seen_upto) VALUES (?, ?, ?)
         ON CONFLICT (owner, peer) DO UPDATE SET seen_upto = excluded.seen_upto`,
      ),
      // The newest message from @peer among @u's entries in (@old, @upto]: what a read newly covers.
      newestCovered: db
        .prepare<Record<string, unknown>, number>(
          `SELECT sseq FROM messages WHERE recipient = @u AND sender = @peer AND rseq > @old AND rseq <= @upto
           ORDER BY rseq DESC LIMIT 1`,
        )
        .pluck(),
      conv: db
        .prepare<[string, string], number>('SELECT conv FROM conversations WHERE owner = ? AND peer = ?')
        .pluck(),
      lastRowidBelow: db.prepare<Record<string, unknown>, number | null>(LAST_ROWID_BELOW).pluck(),
      unread: db.prepare<Record<string, unknown>, number>(UNREAD).pluck(),
      edit: db.prepare('UPDATE messages SET body = ?, edited = ? WHERE rowid = ?'),
      erase: db.prepare(
        `UPDATE messages SET body = '', deleted = 1, edited = NULL, reply_from = NULL, reply_id = NULL,
           reactions = NULL WHERE rowid = ?`,
      ),
      // Run before `erase` (whose trigger drops the links): an upload this message is the
      // last reference of expires now, so the next sweep removes it and its bytes unless
      // another upload names the same content (issue 12: delete-for-everyone removes files).
      expireFiles: db.prepare<{ now: number; msg: number }>(EXPIRE_LAST_LINKED),
      // Earlier edit updates of a deleted message hold former bodies: they become deletions.
      eraseEdits: db.prepare(
        `UPDATE updates SET kind = 'delete', data = json_remove(json_set(data, '$.kind', 'delete'), '$.body')
         WHERE msg = ? AND kind = 'edit'`,
      ),
      hide: db.prepare('UPDATE messages SET hidden = hidden | ? WHERE rowid = ?'),
      react: db.prepare('UPDATE messages SET reactions = ? WHERE rowid = ?'),
      unindex: db.prepare('DELETE FROM search WHERE rowid = ?'),
      index: db.prepare('INSERT INTO search (rowid, words, keys) VALUES (?, ?, ?)'),
      insertUpdate: db.prepare(
        'INSERT INTO updates (owner, seq, kind, ts, msg, data) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      // The conversation's newest message of @u that is not hidden (a row's `last`).
      newestVisible: db
        .prepare<Record<string, unknown>, number>(
          `SELECT CASE WHEN recipient = @u THEN rseq ELSE sseq END FROM messages
           WHERE conv = @conv AND (
             (recipient = @u AND rseq > @removed AND hidden & 1 = 0)
             OR (sender = @u AND recipient <> @u AND sseq > @removed AND hidden & 2 = 0))
           ORDER BY rowid DESC LIMIT 1`,
        )
        .pluck(),
      lastSeq: db
        .prepare<[string, string], number>('SELECT last_seq FROM conversations WHERE owner = ? AND peer = ?')
        .pluck(),
      setLastSeq: db.prepare('UPDATE conversations SET last_seq = ? WHERE owner = ? AND peer = ?'),
    };
  }

  /** The checks, on this (the writer's) connection: inside the transaction they see the batch's own writes. */
  readonly judge: SqliteFeatureJudge;

  /**
   * The quote a reply shows in `owner`'s mailbox, read inside the batch (the original may
   * have been stored earlier in it).
   */
  quoteFor(owner: string, ref: MessageRef): ReplyQuote {
    const found = this.judge.message(owner, ref);
    const tag = this.tagOf(owner);
    if (!found || tag === null) return replyQuote(ref, null);
    return replyQuote(ref, {
      cursor: encodeCursor(tag, ownSeq(found.row, owner)),
      body: quotedBody(found.state.body, found.row[12]),
      deleted: found.state.deleted,
    });
  }

  /** Indexes a message just stored, for search (`delivered`: it has an entry in the recipient's mailbox). */
  indexMessage(
    rowid: number,
    sender: string,
    recipient: string,
    delivered: boolean,
    conv: number,
    body: string,
  ) {
    this.q.index.run(rowid, indexTokens(body).join(' '), searchKeys(sender, recipient, delivered, conv));
  }

  /** Applies a write whose verdict is `go` and that was granted its token. */
  apply(op: FeatureOp, now: number, next: NextSeq): FeatureResult {
    const entries: UpdateEntry[] = [];
    const append = (owner: string, data: UpdateData, msg: number | null): void => {
      const seq = next(owner);
      this.q.insertUpdate.run(owner, seq, data.kind, now, msg, JSON.stringify(data));
      entries.push({ owner, seq, frame: updateFrame(this.cursor(owner, seq), now, data) });
    };
    let block: BlockChange | undefined;
    switch (op.kind) {
      case 'read':
        this.applyRead(op, append);
        break;
      case 'receipts':
        this.q.setReceipts.run(op.on ? 1 : 0, op.user);
        append(op.user, { kind: 'settings', readReceipts: op.on }, null);
        break;
      case 'block':
        if (op.blocked) this.q.block.run(op.user, op.target);
        else this.q.unblock.run(op.user, op.target);
        append(op.user, { kind: 'block', user: op.target, blocked: op.blocked }, null);
        block = { blocker: op.user, target: op.target, blocked: op.blocked };
        break;
      default:
        this.applyToMessage(op, now, append);
    }
    return block ? { kind: 'applied', entries, block } : { kind: 'applied', entries };
  }

  private tagOf(user: string): string | null {
    let tag = this.tags.get(user);
    if (tag === undefined) {
      tag = this.q.tag.get(user);
      if (tag === undefined) return null;
      this.tags.set(user, tag);
    }
    return tag;
  }

  private cursor(owner: string, seq: number): string {
    const tag = this.tagOf(owner);
    if (tag === null) throw new Error(`no mailbox tag for ${owner}`);
    return encodeCursor(tag, seq);
  }

  private applyRead(
    op: Extract<FeatureOp, { kind: 'read' }>,
    append: (owner: string, data: UpdateData, msg: number | null) => void,
  ): void {
    const me = op.user;
    const peer = op.with;
    const old = this.q.marks.get(me, peer)?.[0] ?? 0;
    this.q.setRead.run(me, peer, op.upto);
    append(
      me,
      { kind: 'read', with: peer, upto: this.cursor(me, op.upto), unread: this.unread(me, peer, op.upto) },
      null,
    );
    if (peer === me) return;
    // A read receipt: only while both have receipts on, and neither blocks the other.
    const covered = this.q.newestCovered.get({ u: me, peer, old, upto: op.upto });
    if (covered === undefined) return;
    if (!this.judge.receiptsOn(me) || !this.judge.receiptsOn(peer)) return;
    if (this.judge.blocks(me, peer) || this.judge.blocks(peer, me)) return;
    const seen = this.q.marks.get(peer, me)?.[1] ?? 0;
    if (covered <= seen) return;
    this.q.setSeen.run(peer, me, covered);
    append(peer, { kind: 'seen', with: me, upto: this.cursor(peer, covered) }, null);
  }

  /** Messages from `peer` after `mark` in `me`'s mailbox, hidden ones excepted (PROTOCOL.md "Read"). */
  unread(me: string, peer: string, mark: number): number {
    if (peer === me) return 0;
    const conv = this.q.conv.get(me, peer);
    if (conv === undefined) return 0;
    const bound = this.q.lastRowidBelow.get({ u: me, seq: mark + 1 }) ?? 0;
    return this.q.unread.get({ conv, bound, u: me, peer, mark, removed: this.judge.removed(me) }) ?? 0;
  }

  private applyToMessage(
    op: Extract<FeatureOp, { kind: 'edit' | 'delete' | 'hide' | 'react' }>,
    now: number,
    append: (owner: string, data: UpdateData, msg: number | null) => void,
  ): void {
    const found = this.judge.message(op.user, op.ref);
    if (!found) throw new Error('applying a write to a message its verdict did not find');
    const { row, state } = found;
    const rowid = row[0];
    const about = { from: state.from, id: state.id };
    const owners = (): string[] =>
      changeOwners(
        state,
        op.user,
        (owner) => ownSeq(row, owner) > this.judge.removed(owner),
        (blocker, blocked) => this.judge.blocks(blocker, blocked),
      );
    switch (op.kind) {
      case 'edit':
        this.q.edit.run(op.body, now, rowid);
        this.q.unindex.run(rowid);
        this.indexMessage(rowid, state.from, state.to, row[9] > 0, row[11], op.body);
        for (const o of owners())
          append(o, { kind: 'edit', ...about, with: peerOf(o, state), body: op.body }, rowid);
        return;
      case 'delete':
        this.q.expireFiles.run({ now, msg: rowid });
        this.q.erase.run(rowid);
        this.q.unindex.run(rowid);
        this.q.eraseEdits.run(rowid);
        for (const o of owners()) append(o, { kind: 'delete', ...about, with: peerOf(o, state) }, rowid);
        return;
      case 'hide':
        this.q.hide.run(hiddenBit(op.user, state.from, state.to), rowid);
        this.afterHide(op.user, peerOf(op.user, state), row[11]);
        append(op.user, { kind: 'hide', ...about, with: peerOf(op.user, state) }, rowid);
        return;
      case 'react': {
        const reactions = withReaction(state.reactions, op.user, op.emoji);
        this.q.react.run(reactions.length > 0 ? JSON.stringify(reactions) : null, rowid);
        for (const o of owners()) {
          append(o, { kind: 'react', ...about, with: peerOf(o, state), by: op.user, emoji: op.emoji }, rowid);
        }
        return;
      }
    }
  }

  /** A conversation row's `last` is its newest message that is not hidden: recompute it (0: no row shown). */
  private afterHide(owner: string, peer: string, conv: number): void {
    const last = this.q.lastSeq.get(owner, peer);
    if (last === undefined) return;
    const visible = this.q.newestVisible.get({ u: owner, conv, removed: this.judge.removed(owner) }) ?? 0;
    if (visible !== last) this.q.setLastSeq.run(visible, owner, peer);
  }
}
