import type { ConversationItem, MsgFrame } from '@pigeon/protocol';
import type Database from 'better-sqlite3';
import { encodeCursor } from './cursor.js';
import { BatchChecks } from './sqlite-batch-check.js';
import { LAST_ROWID_BELOW, UNREAD } from './sqlite-feature-sql.js';
import type { Checked, WireOp } from './sqlite-protocol.js';
import { QUOTE_JOIN, ROW, type Row, rowFrame, storedUpdate, VISIBLE } from './sqlite-rows.js';
import type { ConversationsPage, Entry, MailboxState, UserRecord } from './store.js';
import { mailboxState, type UserRow, userRecord } from './user-rows.js';

/**
 * The reads, on a read-only connection of their own in the reader worker thread: WAL lets
 * them run while the writer commits, and a read of thousands of rows (a replay page, a
 * conversation list) never holds up the event loop or a commit.
 */
export class SqliteReader {
  private readonly q;
  private readonly checks: BatchChecks;

  constructor(db: Database.Database) {
    this.checks = new BatchChecks(db);
    const raw = <T extends unknown[]>(sql: string) => db.prepare<Record<string, unknown>, T>(sql).raw();
    this.q = {
      user: db.prepare<[string], UserRow>('SELECT * FROM users WHERE id = ?'),
      // A mailbox's messages in seq order: its received ones merged with its sent ones,
      // hidden ones left out (the owner hid them: nothing sent to them shows them again).
      range: raw<Row>(
        `SELECT ${ROW} FROM messages m ${QUOTE_JOIN}
           WHERE m.recipient = @u AND m.rseq > @after AND m.rseq <= @upto AND m.hidden & 1 = 0
         UNION ALL
         SELECT ${ROW} FROM messages m ${QUOTE_JOIN}
           WHERE m.sender = @u AND m.sseq > @after AND m.sseq <= @upto AND m.recipient <> @u AND m.hidden & 2 = 0
         ORDER BY 1 LIMIT @limit`,
      ),
      // …and its update entries, merged with them by seq.
      updates: raw<[number, number, string]>(
        `SELECT seq, ts, data FROM updates WHERE owner = @u AND seq > @after AND seq <= @upto
         ORDER BY seq LIMIT @limit`,
      ),
      conv: db
        .prepare<[string, string], number>('SELECT conv FROM conversations WHERE owner = ? AND peer = ?')
        .pluck(),
      // Rowid bounds: within one mailbox, rowid order is seq order.
      lastRowidBelow: raw<[number]>(LAST_ROWID_BELOW),
      firstRowidAbove: raw<[number]>(
        `SELECT MIN(r) FROM (
           SELECT (SELECT rowid FROM messages WHERE recipient = @u AND rseq > @seq ORDER BY rseq LIMIT 1) AS r
           UNION ALL
           SELECT (SELECT rowid FROM messages WHERE sender = @u AND sseq > @seq ORDER BY sseq LIMIT 1))`,
      ),
      historyBack: raw<Row>(
        `SELECT ${ROW} FROM messages m ${QUOTE_JOIN}
         WHERE m.conv = @conv AND m.rowid <= @bound AND ${VISIBLE}
         ORDER BY m.rowid DESC LIMIT @limit`,
      ),
      historyForward: raw<Row>(
        `SELECT ${ROW} FROM messages m ${QUOTE_JOIN}
         WHERE m.conv = @conv AND m.rowid >= @bound AND ${VISIBLE}
         ORDER BY m.rowid LIMIT @limit`,
      ),
      recent: db
        .prepare<Record<string, unknown>, [string, number, number]>(
          `SELECT peer, last_seq, conv FROM conversations
           WHERE owner = @u AND last_seq < @before AND last_seq > @removed
           ORDER BY last_seq DESC LIMIT @limit`,
        )
        .raw(),
      at: raw<Row>(
        `SELECT ${ROW} FROM messages m ${QUOTE_JOIN} WHERE m.recipient = @u AND m.rseq = @seq
         UNION ALL
         SELECT ${ROW} FROM messages m ${QUOTE_JOIN} WHERE m.sender = @u AND m.sseq = @seq AND m.recipient <> @u`,
      ),
      readMark: db
        .prepare<[string, string], number>('SELECT read_upto FROM marks WHERE owner = ? AND peer = ?')
        .pluck(),
      unread: db.prepare<Record<string, unknown>, number>(UNREAD).pluck(),

      revoked: db
        .prepare<[string, number], number>('SELECT 1 FROM revoked_tokens WHERE id = ? AND expires_at > ?')
        .pluck(),
    };
  }

  /** A batch's checks before the rate limit (sqlite-batch-check.ts). */
  check(ops: readonly WireOp[], need: readonly string[], now: number): Checked {
    return this.checks.check(ops, need, now);
  }

  getUser(id: string): UserRecord | null {
    const row = this.q.user.get(id);
    return row ? userRecord(row) : null;
  }

  isTokenRevoked(tokenId: string, now: number): boolean {
    return this.q.revoked.get(tokenId, now) !== undefined;
  }

  mailbox(user: string): MailboxState | null {
    const row = this.q.user.get(user);
    if (!row) return null;
    return mailboxState(user, row);
  }

  readRange(user: string, afterSeq: number, uptoSeq: number, limit: number): Entry[] {
    const box = this.q.user.get(user);
    if (!box) return [];
    const range = {
      u: user,
      after: Math.max(afterSeq, box.removed_upto),
      upto: uptoSeq,
      limit,
      removed: box.removed_upto,
    };
    const rows = this.q.range.all(range);
    const updates = this.q.updates.all(range);
    // Both are in seq order: merge them, the first `limit` in all.
    const entries: Entry[] = [];
    let i = 0;
    let j = 0;
    while (entries.length < limit && (i < rows.length || j < updates.length)) {
      const r = rows[i];
      const u = updates[j];
      if (r && (!u || r[0] < u[0])) {
        entries.push({ owner: user, seq: r[0], frame: rowFrame(box.tag, r) });
        i++;
      } else if (u) {
        entries.push({
          owner: user,
          seq: u[0],
          frame: storedUpdate(encodeCursor(box.tag, u[0]), u[1], u[2]),
        });
        j++;
      }
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
    return { items: items.map((r) => rowFrame(box.tag, r)), more };
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
    return { items: rows.slice(0, limit).map((r) => rowFrame(box.tag, r)), more };
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
    for (const [peer, seq, conv] of rows.slice(0, page.limit)) {
      const row = this.q.at.get({ u: user, seq, removed: box.removed_upto });
      if (!row) continue;
      // `read`: my read mark there and what is left unread (a new device shows the same counts).
      const mark = this.q.readMark.get(user, peer) ?? 0;
      const item: ConversationItem = {
        with: peer,
        last: rowFrame(box.tag, row),
        unread: this.unread(user, peer, conv, mark, box.removed_upto),
        readUpto: mark > 0 ? encodeCursor(box.tag, mark) : null,
      };
      items.push(item);
    }
    return { items, more };
  }

  /** Messages from `peer` after my read mark, not hidden (messages to oneself are never unread). */
  private unread(user: string, peer: string, conv: number, mark: number, removed: number): number {
    if (peer === user) return 0;
    const bound = this.q.lastRowidBelow.get({ u: user, seq: mark + 1 })?.[0] ?? 0;
    return this.q.unread.get({ conv, bound, u: user, peer, mark, removed }) ?? 0;
  }
}
