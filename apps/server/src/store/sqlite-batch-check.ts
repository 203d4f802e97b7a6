import { ErrorCode } from '@pigeon/protocol';
import type Database from 'better-sqlite3';
import { featureKeys } from './feature-rules.js';
import { SqliteFeatureJudge } from './sqlite-feature-judge.js';
import { SendFiles } from './sqlite-files.js';
import { type Checked, type OpReply, sendFilesOf, sendReplyOf, type WireOp } from './sqlite-protocol.js';

/**
 * The checks of a group commit's batch that need the database, before the rate limit, on
 * the reader thread's read-only connection (SqliteStore runs them while the writer commits
 * the batch before).
 */
export class BatchChecks {
  private readonly q;
  /** The chat features' rules (issue 10). */
  private readonly judge: SqliteFeatureJudge;
  /** The attachments' check (issue 12). */
  private readonly files: SendFiles;

  constructor(db: Database.Database) {
    this.judge = new SqliteFeatureJudge(db);
    this.files = new SendFiles(db);
    this.q = {
      findMessage: db
        .prepare<[string, string], number>('SELECT ts FROM messages WHERE sender = ? AND id = ?')
        .pluck(),
      tag: db.prepare<[string], string>('SELECT tag FROM users WHERE id = ?').pluck(),
    };
  }

  /**
   * The checks of a batch in the spec's order that need the database, before the rate
   * limit: a stored (from, id) answers `duplicate` with its ts, a missing recipient
   * `no_such_user`, a reply whose original is not in the conversation or was deleted its
   * code; a chat-feature write that would change nothing `unchanged`, one refused by its
   * rules its code (issue 10). The others go on to the limiter. They run here, in parallel
   * with the writer's commit of the batch before; the writer catches a duplicate that batch
   * made, and decides every feature write again when it applies it (SqliteStore makes a
   * batch with feature writes or replies wait until the batches before it are applied).
   * `need`: users whose mailbox tag the main thread asks for.
   */
  check(ops: readonly WireOp[], need: readonly string[], now: number): Checked {
    const early: (OpReply | null)[] = new Array(ops.length).fill(null);
    const eligible: number[] = [];
    const twins: [number, number][] = [];
    const firstOf = new Map<string, number>();
    // Users are never deleted: a user seen once exists.
    const exists = new Set<string>();
    // What earlier ops of the batch may change (messages, marks, blocks, settings): a later
    // op about the same thing cannot be answered from the database as it is now, so it asks
    // for its token and gets its answer when applied. Ops answered here change nothing.
    const touched = new Set<string>();
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      if (op[0] === 'f') {
        const keys = featureKeys(op[1]);
        const verdict = keys.some((k) => touched.has(k)) ? 'go' : this.judge.verdict(op[1], now);
        if (verdict === 'go') {
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
        twins.push([i, first]);
        continue;
      }
      const ts = this.q.findMessage.get(op[1], op[2]);
      if (ts !== undefined) early[i] = ['d', ts];
      else if (!exists.has(op[3]) && this.q.tag.get(op[3]) === undefined) early[i] = ['n'];
      else {
        exists.add(op[3]);
        const reply = sendReplyOf(op);
        const refusal =
          reply && !touched.has(`m:${reply.from}\n${reply.id}`)
            ? this.judge.replyCheck(op[1], op[3], reply)
            : null;
        // Then its files (after the reply's checks, before the rate: PROTOCOL.md "Files").
        const fileIds = sendFilesOf(op);
        if (refusal) early[i] = ['x', refusal];
        else if (fileIds && !this.files.resolve(op[1], fileIds, now)) early[i] = ['x', ErrorCode.noSuchFile];
        else {
          firstOf.set(key, i);
          eligible.push(i);
          touched.add(`m:${key}`);
        }
      }
    }
    const tags: [string, string][] = [];
    for (const user of need) {
      const tag = this.q.tag.get(user);
      if (tag !== undefined) tags.push([user, tag]);
    }
    return { early, eligible, twins, tags };
  }
}
