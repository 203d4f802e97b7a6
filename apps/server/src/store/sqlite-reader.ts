import type { ConversationItem, MsgFrame } from '@pigeon/protocol';
import type Database from 'better-sqlite3';
import { encodeCursor } from './cursor.js';
import type { Checked, OpReply, WireOp } from './sqlite-protocol.js';
import type { ConversationsPage, Entry, MailboxState, UserRecord } from './store.js';

interface UserRow {
  id: string;
  password_hash: string | null;
  tag: string;
  head_seq: number;
  delivered_seq: number;
  removed_upto: number;
  token_epoch: number;
}

/** A message row as the reads select it: the owner's seq first, `delivered` computed. */
type Row = [
  seq: number,
  sender: string,
  id: string,
  recipient: string,
  body: string,
  ts: number,
  delivered: number,
];

/** The columns of a Row for mailbox `@u`, from `messages m`. */
const ROW = `CASE WHEN m.recipient = @u THEN m.rseq ELSE m.sseq END, m.sender, m.id, m.recipient, m.body, m.ts,
  (SELECT delivered_seq FROM users r WHERE r.id = m.recipient) >= m.rseq`;
/** The owner's seq of a message of mailbox `@u`. */
const OWN_SEQ = 'CASE WHEN m.recipient = @u THEN m.rseq ELSE m.sseq END';

/**
 * The reads, on a read-only connection of their own in the reader worker thread: WAL lets
 * them run while the writer commits, and a read of thousands of rows (a replay page, a
 * conversation list) never holds up the event loop or a commit.
 */
export class SqliteReader {
  private readonly q;

  constructor(db: Database.Database) {
    const raw = <T extends unknown[]>(sql: string) => db.prepare<Record<string, unknown>, T>(sql).raw();
    this.q = {
      user: db.prepare<[string], UserRow>('SELECT * FROM users WHERE id = ?'),
      // A mailbox's entries in seq order: its received messages merged with its sent ones.
      range: raw<Row>(
        `SELECT m.rseq, m.sender, m.id, m.recipient, m.body, m.ts, @delivered >= m.rseq
           FROM messages m WHERE m.recipient = @u AND m.rseq > @after AND m.rseq <= @upto
         UNION ALL
         SELECT m.sseq, m.sender, m.id, m.recipient, m.body, m.ts,
           (SELECT delivered_seq FROM users r WHERE r.id = m.recipient) >= m.rseq
           FROM messages m WHERE m.sender = @u AND m.sseq > @after AND m.sseq <= @upto AND m.recipient <> @u
         ORDER BY 1 LIMIT @limit`,
      ),
      conv: db
        .prepare<[string, string], number>('SELECT conv FROM conversations WHERE owner = ? AND peer = ?')
        .pluck(),
      // Rowid bounds: within one mailbox, rowid order is seq order.
      lastRowidBelow: raw<[number]>(
        `SELECT MAX(r) FROM (
           SELECT (SELECT rowid FROM messages WHERE recipient = @u AND rseq < @seq ORDER BY rseq DESC LIMIT 1) AS r
           UNION ALL
           SELECT (SELECT rowid FROM messages WHERE sender = @u AND sseq < @seq ORDER BY sseq DESC LIMIT 1))`,
      ),
      firstRowidAbove: raw<[number]>(
        `SELECT MIN(r) FROM (
           SELECT (SELECT rowid FROM messages WHERE recipient = @u AND rseq > @seq ORDER BY rseq LIMIT 1) AS r
           UNION ALL
           SELECT (SELECT rowid FROM messages WHERE sender = @u AND sseq > @seq ORDER BY sseq LIMIT 1))`,
      ),
      historyBack: raw<Row>(
        `SELECT ${ROW} FROM messages m
         WHERE m.conv = @conv AND m.rowid <= @bound AND ${OWN_SEQ} > @removed
         ORDER BY m.rowid DESC LIMIT @limit`,
      ),
      historyForward: raw<Row>(
        `SELECT ${ROW} FROM messages m
         WHERE m.conv = @conv AND m.rowid >= @bound AND ${OWN_SEQ} > @removed
         ORDER BY m.rowid LIMIT @limit`,
      ),
      recent: db
        .prepare<Record<string, unknown>, [string, number]>(
          `SELECT peer, last_seq FROM conversations
           WHERE owner = @u AND last_seq < @before AND last_seq > @removed
           ORDER BY last_seq DESC LIMIT @limit`,
        )
        .raw(),
      at: raw<Row>(
        `SELECT ${ROW} FROM messages m WHERE m.recipient = @u AND m.rseq = @seq
         UNION ALL
         SELECT ${ROW} FROM messages m WHERE m.sender = @u AND m.sseq = @seq AND m.recipient <> @u`,
      ),
      findMessage: db
        .prepare<[string, string], number>('SELECT ts FROM messages WHERE sender = ? AND id = ?')
        .pluck(),
      tag: db.prepare<[string], string>('SELECT tag FROM users WHERE id = ?').pluck(),
      revoked: db
        .prepare<[string, number], number>('SELECT 1 FROM revoked_tokens WHERE id = ? AND expires_at > ?')
        .pluck(),
    };
  }

  /**
   * The checks of a send in the spec's order that need the database, before the rate
   * limit: a stored (from, id) answers `duplicate` with its ts, a missing recipient
   * `no_such_user`; the others go on to the limiter. They run here, in parallel with the
   * writer's commit of the batch before; the writer catches a duplicate that batch made.
   * `need`: users whose mailbox tag the main thread asks for.
   */
  check(ops: readonly WireOp[], need: readonly string[]): Checked {
    const early: (OpReply | null)[] = new Array(ops.length).fill(null);
    const eligible: number[] = [];
    const twins: [number, number][] = [];
    const firstOf = new Map<string, number>();
    // Users are never deleted: a user seen once exists.
    const exists = new Set<string>();
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      if (op[0] !== 's') continue;
      const key = `${op[1]}\n${op[2]}`;
      const first = firstOf.get(key);
      if (first !== undefined) {
        twins.push([i, first]);
        continue;
      }
      const ts = this.q.findMessage.get(op[1], op[2]);
      if (ts !== undefined) early[i] = ['d', ts];
      else if (!exists.has(op[3]) && this.q.tag.get(op[3]) === undefined) early[i] = ['n'];
      else {
        exists.add(op[3]);
        firstOf.set(key, i);
        eligible.push(i);
      }
    }
    const tags: [string, string][] = [];
    for (const user of need) {
      const tag = this.q.tag.get(user);
      if (tag !== undefined) tags.push([user, tag]);
    }
    return { early, eligible, twins, tags };
  }

  getUser(id: string): UserRecord | null {
    const row = this.q.user.get(id);
    return row ? { id: row.id, passwordHash: row.password_hash, tokenEpoch: row.token_epoch } : null;
  }

  isTokenRevoked(tokenId: string, now: number): boolean {
    return this.q.revoked.get(tokenId, now) !== undefined;
  }

  mailbox(user: string): MailboxState | null {
    const row = this.q.user.get(user);
    if (!row) return null;
    return {
      user,
      headSeq: row.head_seq,
      head: row.head_seq > 0 ? encodeCursor(row.tag, row.head_seq) : null,
      deliveredSeq: row.delivered_seq,
      removedUpto: row.removed_upto,
      tag: row.tag,
    };
  }

  readRange(user: string, afterSeq: number, uptoSeq: number, limit: number): Entry[] {
    const box = this.q.user.get(user);
    if (!box) return [];
    const rows = this.q.range.all({
      u: user,
      after: Math.max(afterSeq, box.removed_upto),
      upto: uptoSeq,
      limit,
      delivered: box.delivered_seq,
    });
    const entries: Entry[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      entries[i] = { owner: user, seq: r[0], frame: frame(box.tag, r) };
    }
    return entries;
  }

  history(
    user: string,
    peer: string,
    beforeSeq: number | null,
    limit: number,
  ): { items: MsgFrame[]; more: boolean } {
    const box = this.q.user.get(user);
    const conv = box ? this.q.conv.get(user, peer) : undefined;
    if (!box || conv === undefined) return { items: [], more: false };
    const bound =
      beforeSeq === null
        ? Number.MAX_SAFE_INTEGER
        : this.q.lastRowidBelow.get({ u: user, seq: beforeSeq })?.[0];
    if (bound === null || bound === undefined) return { items: [], more: false };
    const rows = this.q.historyBack.all({
      u: user,
      conv,
      bound,
      removed: box.removed_upto,
      limit: limit + 1,
    });
    const more = rows.length > limit;
    const items = rows.slice(0, limit).reverse();
    return { items: items.map((r) => frame(box.tag, r)), more };
  }

  historyAfter(
    user: string,
    peer: string,
    afterSeq: number,
    limit: number,
  ): { items: MsgFrame[]; more: boolean } {
    const box = this.q.user.get(user);
    const conv = box ? this.q.conv.get(user, peer) : undefined;
    if (!box || conv === undefined) return { items: [], more: false };
    const bound = this.q.firstRowidAbove.get({ u: user, seq: afterSeq })?.[0];
    if (bound === null || bound === undefined) return { items: [], more: false };
    const rows = this.q.historyForward.all({
      u: user,
      conv,
      bound,
      removed: box.removed_upto,
      limit: limit + 1,
    });
    const more = rows.length > limit;
    return { items: rows.slice(0, limit).map((r) => frame(box.tag, r)), more };
  }

  conversations(user: string, page: ConversationsPage): { items: ConversationItem[]; more: boolean } {
    const box = this.q.user.get(user);
    if (!box) return { items: [], more: false };
    const rows = this.q.recent.all({
      u: user,
      before: page.beforeSeq ?? Number.MAX_SAFE_INTEGER,
      removed: box.removed_upto,
      limit: page.limit + 1,
    });
    const more = rows.length > page.limit;
    const items: ConversationItem[] = [];
    for (const [peer, seq] of rows.slice(0, page.limit)) {
      const row = this.q.at.get({ u: user, seq });
      if (row) items.push({ with: peer, last: frame(box.tag, row) });
    }
    return { items, more };
  }
}

function frame(tag: string, r: Row): MsgFrame {
  return {
    t: 'msg',
    cursor: encodeCursor(tag, r[0]),
    id: r[2],
    from: r[1],
    to: r[3],
    body: r[4],
    ts: r[5],
    delivered: r[6] === 1,
  };
}
