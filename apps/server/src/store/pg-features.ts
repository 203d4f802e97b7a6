// Over ~300 lines on purpose: one transaction helper (PgFeatureTx): every chat-feature write's
// check and apply share the batch's locked rows and queued statements; the pure rules are in
// feature-rules.ts.
import { ErrorCode, type MessageRef, type Reaction, type ReplyQuote } from '@pigeon/protocol';
import { encodeCursor } from './cursor.js';
import {
  changeOwners,
  checkBlock,
  checkDelete,
  checkEdit,
  checkHide,
  checkReact,
  checkReply,
  type MessageState,
  peerOf,
  replyQuote,
  type UpdateData,
  updateFrame,
  type Verdict,
  withReaction,
} from './feature-rules.js';
import type {
  BlockChange,
  FeatureOp,
  FeatureRefusalCode,
  FeatureResult,
  UpdateEntry,
} from './feature-types.js';
import { quotedBody } from './file-columns.js';
import type { PgConn } from './pg-client.js';
import { searchWords } from './pg-feature-schema.js';

/** A locked user row as the group commit holds it (pg-commit.ts). */
export interface PgBox {
  tag: string;
  head: number;
  delivered: number;
  /** Entries at or below this seq were removed by retention. */
  removed: number;
  dirty: boolean;
}

/** A message as the rules need it. */
interface MessageRow {
  rowid: number;
  sender: string;
  recipient: string;
  id: string;
  body: string;
  ts: number;
  deleted: boolean;
  hidden: number;
  reactions: string | null;
  rseq: number;
  sseq: number;
  conv: number;
  /** Attachments (issue 12): a quote of the message shows them as text. */
  files: string | null;
}

const MESSAGE = `SELECT rowid, sender, recipient, id, body, ts, deleted, hidden, reactions, rseq, sseq, conv, files
  FROM messages WHERE sender = $1 AND id = $2`;

/** The owner's seq of a message (0: no entry there) and its hidden bit for that owner. */
function entryOf(row: MessageRow, owner: string): { seq: number; bit: number } {
  if (owner === row.recipient) return { seq: row.rseq, bit: 1 };
  if (owner === row.sender) return { seq: row.sseq, bit: 2 };
  return { seq: 0, bit: 0 };
}

/** Sends one statement of a write without waiting for it. */
type Send = (text: string, values: unknown[]) => void;

/**
 * The chat features' checks and writes inside one PostgreSQL group commit (pg-commit.ts),
 * on its connection and under its row locks: the same rules as SQLite's judge and writer
 * (feature-rules.ts), a statement at a time (feature writes are rare next to sends).
 * Sequence numbers of update entries come from the locked boxes, like those of messages.
 */
export class PgFeatureTx {
  constructor(
    private readonly conn: PgConn,
    private readonly boxes: Map<string, PgBox>,
    private readonly now: number,
    /**
     * Pairs `blocker\nblocked` among the batch's sends (read with the locks), kept up to date
     * by the batch's own blocks: what a send asks without a round trip.
     */
    private readonly sendBlocks: Set<string>,
  ) {}

  private async rows<R>(text: string, values: unknown[]): Promise<R[]> {
    return (await this.conn.query(text, values)).rows as R[];
  }

  /** A message of `owner`'s mailbox with the rules' view of it; null when it has no live entry there. */
  private async message(
    owner: string,
    ref: MessageRef,
  ): Promise<{ row: MessageRow; state: MessageState } | null> {
    const [row] = await this.rows<MessageRow>(MESSAGE, [ref.from, ref.id]);
    if (!row) return null;
    const entry = entryOf(row, owner);
    const removed = this.boxes.get(owner)?.removed ?? 0;
    if (entry.seq === 0 || entry.seq <= removed) return null;
    const state: MessageState = {
      from: row.sender,
      to: row.recipient,
      id: row.id,
      ts: row.ts,
      body: row.body,
      deleted: row.deleted,
      hidden: (row.hidden & entry.bit) !== 0,
      reactions: row.reactions === null ? [] : (JSON.parse(row.reactions) as Reaction[]),
    };
    return { row, state };
  }

  /** Whether the recipient of one of the batch's sends blocks its sender. */
  sendBlocked(blocker: string, target: string): boolean {
    return this.sendBlocks.has(`${blocker}\n${target}`);
  }

  /** Whether `blocker` blocks `target`, as the transaction sees it now. */
  private async isBlocked(blocker: string, target: string): Promise<boolean> {
    const rows = await this.rows('SELECT 1 FROM blocks WHERE blocker = $1 AND blocked = $2', [
      blocker,
      target,
    ]);
    return rows.length > 0;
  }

  private async receiptsOn(user: string): Promise<boolean> {
    const [row] = await this.rows<{ read_receipts: boolean }>(
      'SELECT read_receipts FROM users WHERE id = $1',
      [user],
    );
    return row?.read_receipts ?? true;
  }

  private async marks(owner: string, peer: string): Promise<{ read_upto: number; seen_upto: number }> {
    const [row] = await this.rows<{ read_upto: number; seen_upto: number }>(
      'SELECT read_upto, seen_upto FROM marks WHERE owner = $1 AND peer = $2',
      [owner, peer],
    );
    return row ?? { read_upto: 0, seen_upto: 0 };
  }

  async verdict(op: FeatureOp): Promise<Verdict> {
    switch (op.kind) {
      case 'read':
        if (!this.boxes.has(op.with)) return { code: ErrorCode.noSuchUser };
        return op.upto <= (await this.marks(op.user, op.with)).read_upto ? 'unchanged' : 'go';
      case 'receipts':
        return (await this.receiptsOn(op.user)) === op.on ? 'unchanged' : 'go';
      case 'edit':
        return checkEdit(op.user, (await this.message(op.user, op.ref))?.state ?? null, op.body, this.now);
      case 'delete':
        return checkDelete(op.user, (await this.message(op.user, op.ref))?.state ?? null, this.now);
      case 'hide':
        return checkHide((await this.message(op.user, op.ref))?.state ?? null);
      case 'react':
        return checkReact(op.user, (await this.message(op.user, op.ref))?.state ?? null, op.emoji);
      case 'block': {
        if (!this.boxes.has(op.target)) return { code: ErrorCode.noSuchUser };
        const [count] = await this.rows<{ n: number }>(
          'SELECT count(*)::int AS n FROM blocks WHERE blocker = $1',
          [op.user],
        );
        return checkBlock(await this.isBlocked(op.user, op.target), op.blocked, count?.n ?? 0);
      }
    }
  }

  async replyCheck(from: string, to: string, ref: MessageRef): Promise<FeatureRefusalCode | null> {
    return checkReply(from, to, (await this.message(from, ref))?.state ?? null);
  }

  /** The quote a reply shows in `owner`'s mailbox (see SqliteFeatureWriter.quoteFor). */
  async quoteFor(owner: string, ref: MessageRef): Promise<ReplyQuote> {
    const found = await this.message(owner, ref);
    const box = this.boxes.get(owner);
    if (!found || !box) return replyQuote(ref, null);
    return replyQuote(ref, {
      cursor: encodeCursor(box.tag, entryOf(found.row, owner).seq),
      body: quotedBody(found.state.body, found.row.files),
      deleted: found.state.deleted,
    });
  }

  /** Applies a write whose verdict is `go` and that was granted its token. */
  async apply(op: FeatureOp): Promise<FeatureResult> {
    const entries: UpdateEntry[] = [];
    const pending: Promise<unknown>[] = [];
    // Writes go out without waiting (pipelined) and are all awaited at the end: a failed
    // one fails the commit, and none is left unhandled when a later read fails first.
    const q: Send = (text, values) => {
      const p = this.conn.query(text, values);
      p.catch(() => {});
      pending.push(p);
    };
    const append = (owner: string, data: UpdateData, msg: number | null): void => {
      const box = this.boxes.get(owner);
      if (!box) throw new Error(`no locked mailbox for ${owner}`);
      const seq = ++box.head;
      box.dirty = true;
      q('INSERT INTO updates (owner, seq, kind, ts, msg, data) VALUES ($1, $2, $3, $4, $5, $6)', [
        owner,
        seq,
        data.kind,
        this.now,
        msg,
        JSON.stringify(data),
      ]);
      entries.push({ owner, seq, frame: updateFrame(encodeCursor(box.tag, seq), this.now, data) });
    };
    let block: BlockChange | undefined;
    switch (op.kind) {
      case 'read':
        await this.applyRead(op, append, q);
        break;
      case 'receipts':
        q('UPDATE users SET read_receipts = $2 WHERE id = $1', [op.user, op.on]);
        append(op.user, { kind: 'settings', readReceipts: op.on }, null);
        break;
      case 'block':
        q(
          op.blocked
            ? 'INSERT INTO blocks (blocker, blocked) VALUES ($1, $2) ON CONFLICT DO NOTHING'
            : 'DELETE FROM blocks WHERE blocker = $1 AND blocked = $2',
          [op.user, op.target],
        );
        if (op.blocked) this.sendBlocks.add(`${op.user}\n${op.target}`);
        else this.sendBlocks.delete(`${op.user}\n${op.target}`);
        append(op.user, { kind: 'block', user: op.target, blocked: op.blocked }, null);
        block = { blocker: op.user, target: op.target, blocked: op.blocked };
        break;
      default:
        await this.applyToMessage(op, append, q);
    }
    await Promise.all(pending);
    return block ? { kind: 'applied', entries, block } : { kind: 'applied', entries };
  }

  private async applyRead(
    op: Extract<FeatureOp, { kind: 'read' }>,
    append: (owner: string, data: UpdateData, msg: number | null) => void,
    q: Send,
  ): Promise<void> {
    const me = op.user;
    const peer = op.with;
    const box = this.boxes.get(me)!;
    const old = (await this.marks(me, peer)).read_upto;
    q(
      `INSERT INTO marks (owner, peer, read_upto) VALUES ($1, $2, $3)
       ON CONFLICT (owner, peer) DO UPDATE SET read_upto = EXCLUDED.read_upto`,
      [me, peer, op.upto],
    );
    const unread = peer === me ? 0 : await this.unread(me, peer, op.upto);
    append(me, { kind: 'read', with: peer, upto: encodeCursor(box.tag, op.upto), unread }, null);
    if (peer === me) return;
    // A read receipt: only while both have receipts on, and neither blocks the other.
    const [covered] = await this.rows<{ sseq: number }>(
      `SELECT sseq FROM messages WHERE recipient = $1 AND sender = $2 AND rseq > $3 AND rseq <= $4
       ORDER BY rseq DESC LIMIT 1`,
      [me, peer, old, op.upto],
    );
    if (!covered) return;
    if (!(await this.receiptsOn(me)) || !(await this.receiptsOn(peer))) return;
    if ((await this.isBlocked(me, peer)) || (await this.isBlocked(peer, me))) return;
    if (covered.sseq <= (await this.marks(peer, me)).seen_upto) return;
    q(
      `INSERT INTO marks (owner, peer, seen_upto) VALUES ($1, $2, $3)
       ON CONFLICT (owner, peer) DO UPDATE SET seen_upto = EXCLUDED.seen_upto`,
      [peer, me, covered.sseq],
    );
    append(
      peer,
      { kind: 'seen', with: me, upto: encodeCursor(this.boxes.get(peer)!.tag, covered.sseq) },
      null,
    );
  }

  /** Messages from `peer` after `mark` in `me`'s mailbox, hidden ones excepted (PROTOCOL.md "Read"). */
  private async unread(me: string, peer: string, mark: number): Promise<number> {
    const [row] = await this.rows<{ n: number }>(UNREAD, [
      me,
      peer,
      Math.max(mark, this.boxes.get(me)?.removed ?? 0),
    ]);
    return row?.n ?? 0;
  }

  private async applyToMessage(
    op: Extract<FeatureOp, { kind: 'edit' | 'delete' | 'hide' | 'react' }>,
    append: (owner: string, data: UpdateData, msg: number | null) => void,
    q: Send,
  ): Promise<void> {
    const found = await this.message(op.user, op.ref);
    if (!found) throw new Error('applying a write to a message its verdict did not find');
    const { row, state } = found;
    const about = { from: state.from, id: state.id };
    // The other person gets no update of what someone they block does (PROTOCOL.md "Block").
    const other = peerOf(op.user, state);
    const otherBlocks = other !== op.user && (await this.isBlocked(other, op.user));
    const owners = (): string[] =>
      changeOwners(
        state,
        op.user,
        (owner) => entryOf(row, owner).seq > (this.boxes.get(owner)?.removed ?? 0),
        (blocker, blocked) => blocker === other && blocked === op.user && otherBlocks,
      );
    switch (op.kind) {
      case 'edit':
        q(
          `UPDATE messages SET body = $2, edited = $3, search = array_to_tsvector(string_to_array($4, ' '))
           WHERE rowid = $1`,
          [
            row.rowid,
            op.body,
            this.now,
            searchWords(op.body, row.sender, row.recipient, row.rseq > 0, row.conv),
          ],
        );
        for (const o of owners())
          append(o, { kind: 'edit', ...about, with: peerOf(o, state), body: op.body }, row.rowid);
        return;
      case 'delete':
        // Before the update whose trigger drops the links: an upload this message is the last
        // reference of expires now, so the next sweep removes it and its content unless
        // another upload names it (issue 12: delete-for-everyone removes files).
        q(
          `UPDATE uploads SET expires_at = LEAST(expires_at, $2)
           WHERE links = 1 AND id IN (SELECT upload FROM message_files WHERE msg = $1)`,
          [row.rowid, this.now],
        );
        q(
          `UPDATE messages SET body = '', deleted = true, edited = NULL, reply_from = NULL, reply_id = NULL,
             reactions = NULL, search = NULL WHERE rowid = $1`,
          [row.rowid],
        );
        // Earlier edit updates hold former bodies: they become deletions.
        q(
          `UPDATE updates SET kind = 'delete',
             data = json_build_object('kind', 'delete', 'from', $2::text, 'id', $3::text, 'with', data::json->>'with')::text
           WHERE msg = $1 AND kind = 'edit'`,
          [row.rowid, state.from, state.id],
        );
        for (const o of owners()) append(o, { kind: 'delete', ...about, with: peerOf(o, state) }, row.rowid);
        return;
      case 'hide': {
        const entry = entryOf(row, op.user);
        q('UPDATE messages SET hidden = hidden | $2 WHERE rowid = $1', [row.rowid, entry.bit]);
        // A conversation row's `last` is its newest message that is not hidden (0: no row shown).
        q(HIDE_LAST, [op.user, peerOf(op.user, state), row.conv, this.boxes.get(op.user)?.removed ?? 0]);
        append(op.user, { kind: 'hide', ...about, with: peerOf(op.user, state) }, row.rowid);
        return;
      }
      case 'react': {
        const reactions = withReaction(state.reactions, op.user, op.emoji);
        q('UPDATE messages SET reactions = $2 WHERE rowid = $1', [
          row.rowid,
          reactions.length > 0 ? JSON.stringify(reactions) : null,
        ]);
        for (const o of owners()) {
          append(
            o,
            { kind: 'react', ...about, with: peerOf(o, state), by: op.user, emoji: op.emoji },
            row.rowid,
          );
        }
        return;
      }
    }
  }
}

/**
 * Unread messages of $1's conversation with $2 after the mark $3: from $2, not hidden by $1
 * (the (recipient, rseq) index finds them).
 */
const UNREAD = `SELECT count(*)::int AS n FROM messages
  WHERE recipient = $1 AND rseq > $3 AND sender = $2 AND hidden & 1 = 0`;

/** Moves $1's row with $2 to its newest message that is not hidden ($3 the conv, $4 removed_upto). */
const HIDE_LAST = `UPDATE conversations SET last_seq = COALESCE((
    SELECT CASE WHEN recipient = $1 THEN rseq ELSE sseq END FROM messages
    WHERE conv = $3 AND ((recipient = $1 AND rseq > $4 AND hidden & 1 = 0)
      OR (sender = $1 AND recipient <> $1 AND sseq > $4 AND hidden & 2 = 0))
    ORDER BY rowid DESC LIMIT 1), 0)
  WHERE owner = $1 AND peer = $2`;
