import { ErrorCode, type MessageRef } from '@pigeon/protocol';
import type Database from 'better-sqlite3';
import {
  checkBlock,
  checkDelete,
  checkEdit,
  checkHide,
  checkReact,
  checkReply,
  type MessageState,
  type Verdict,
} from './feature-rules.js';
import type { FeatureOp, FeatureRefusalCode } from './feature-types.js';
import { MESSAGE_BY_REF, type MessageRow, messageState } from './sqlite-feature-sql.js';

/**
 * The chat features' checks (feature-rules.ts) on one SQLite connection: read-only, so the
 * reader thread runs them on a batch before the rate limit and the writer again inside the
 * transaction that applies it (sqlite-feature-writer.ts).
 */
export class SqliteFeatureJudge {
  private readonly q;

  constructor(db: Database.Database) {
    this.q = {
      message: db.prepare<[string, string], MessageRow>(MESSAGE_BY_REF).raw(),
      removedUpto: db.prepare<[string], number>('SELECT removed_upto FROM users WHERE id = ?').pluck(),
      receipts: db.prepare<[string], number>('SELECT read_receipts FROM users WHERE id = ?').pluck(),
      isBlocked: db
        .prepare<[string, string], number>('SELECT 1 FROM blocks WHERE blocker = ? AND blocked = ?')
        .pluck(),
      blockCount: db.prepare<[string], number>('SELECT COUNT(*) FROM blocks WHERE blocker = ?').pluck(),
      readMark: db
        .prepare<[string, string], number>('SELECT read_upto FROM marks WHERE owner = ? AND peer = ?')
        .pluck(),
      userExists: db.prepare<[string], number>('SELECT 1 FROM users WHERE id = ?').pluck(),
    };
  }

  /** True when `blocker` blocks `blocked`. */
  blocks(blocker: string, blocked: string): boolean {
    return this.q.isBlocked.get(blocker, blocked) !== undefined;
  }

  /** Entries of `user`'s mailbox up to here were removed by retention. */
  removed(user: string): number {
    return this.q.removedUpto.get(user) ?? 0;
  }

  /** The user's read receipts setting. */
  receiptsOn(user: string): boolean {
    return (this.q.receipts.get(user) ?? 1) === 1;
  }

  /** A message of `owner`'s mailbox, with the rules' view of it; null when it has no live entry there. */
  message(owner: string, ref: MessageRef): { row: MessageRow; state: MessageState } | null {
    const row = this.q.message.get(ref.from, ref.id);
    const state = messageState(row, owner, this.removed(owner));
    return row && state ? { row, state } : null;
  }

  /** A write's answer from the current state: go on to the rate limit, or answer now. */
  verdict(op: FeatureOp, now: number): Verdict {
    switch (op.kind) {
      case 'read': {
        if (op.with !== op.user && this.q.userExists.get(op.with) === undefined)
          return { code: ErrorCode.noSuchUser };
        const mark = this.q.readMark.get(op.user, op.with) ?? 0;
        return op.upto <= mark ? 'unchanged' : 'go';
      }
      case 'receipts':
        return this.receiptsOn(op.user) === op.on ? 'unchanged' : 'go';
      case 'edit':
        return checkEdit(op.user, this.message(op.user, op.ref)?.state ?? null, op.body, now);
      case 'delete':
        return checkDelete(op.user, this.message(op.user, op.ref)?.state ?? null, now);
      case 'hide':
        return checkHide(this.message(op.user, op.ref)?.state ?? null);
      case 'react':
        return checkReact(op.user, this.message(op.user, op.ref)?.state ?? null, op.emoji);
      case 'block': {
        if (this.q.userExists.get(op.target) === undefined) return { code: ErrorCode.noSuchUser };
        return checkBlock(this.blocks(op.user, op.target), op.blocked, this.q.blockCount.get(op.user) ?? 0);
      }
    }
  }

  /** `send.replyTo`'s check (PROTOCOL.md "Reply"), or null when the original is fine. */
  replyCheck(from: string, to: string, ref: MessageRef): FeatureRefusalCode | null {
    return checkReply(from, to, this.message(from, ref)?.state ?? null);
  }
}
