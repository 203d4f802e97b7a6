import type Database from 'better-sqlite3';
import type { DbSync } from '../config.js';

/*
 * Retention in slices. A mailbox keeps at least its newest `mailboxMax` message entries and
 * every message younger than the cutoff; what is older goes, one slice (a seq range of at
 * most `slice` entries) per transaction, so the writer is never busy with retention for
 * longer than one slice and commits queued meanwhile run between slices. Removing an entry
 * moves the mailbox's `removed_upto`; a message row goes once both of its entries are gone.
 * Update entries (issue 10) do not count and have no age of their own: retention removes a
 * prefix of the mailbox, so the updates before the oldest message kept go with the messages
 * before them (PROTOCOL.md "Updates").
 */
export class Retention {
  private readonly q;

  constructor(
    db: Database.Database,
    private readonly sync: DbSync,
  ) {
    this.q = {
      overfull: db
        .prepare<[number], [string, number, number]>(
          'SELECT id, head_seq, removed_upto FROM users WHERE head_seq - removed_upto > ?',
        )
        .raw(),
      removedUpto: db.prepare<[string], number>('SELECT removed_upto FROM users WHERE id = ?').pluck(),
      // The seq of the mailbox's @n-th newest message (OFFSET @n - 1).
      nthNewest: db
        .prepare<Record<string, unknown>, number>(
          `SELECT seq FROM (
             SELECT rseq AS seq FROM messages WHERE recipient = @u AND rseq > 0 AND rseq <= @head
             UNION ALL
             SELECT sseq FROM messages WHERE sender = @u AND recipient <> @u AND sseq <= @head)
           ORDER BY seq DESC LIMIT 1 OFFSET @skip`,
        )
        .pluck(),
      // The mailbox's first message after @after, and its ts.
      nextMessage: db
        .prepare<Record<string, unknown>, [number, number]>(
          `SELECT seq, ts FROM (
             SELECT rseq AS seq, ts FROM messages WHERE recipient = @u AND rseq > @after
             UNION ALL
             SELECT sseq, ts FROM messages WHERE sender = @u AND sseq > @after AND recipient <> @u)
           ORDER BY seq LIMIT 1`,
        )
        .raw(),
      deleteUpdates: db.prepare('DELETE FROM updates WHERE owner = @u AND seq > @from AND seq <= @to'),
      // The newest entry older than the cutoff in a seq range of the mailbox.
      lastOld: db
        .prepare<Record<string, unknown>, number | null>(
          `SELECT MAX(seq) FROM (
             SELECT rseq AS seq FROM messages WHERE recipient = @u AND rseq > @from AND rseq <= @to AND ts < @cutoff
             UNION ALL
             SELECT sseq FROM messages WHERE sender = @u AND sseq > @from AND sseq <= @to AND ts < @cutoff)`,
        )
        .pluck(),
      deleteReceived: db.prepare(
        `DELETE FROM messages WHERE recipient = @u AND rseq > @from AND rseq <= @to
           AND (sender = @u OR sseq <= (SELECT removed_upto FROM users WHERE id = messages.sender))`,
      ),
      deleteSent: db.prepare(
        `DELETE FROM messages WHERE sender = @u AND sseq > @from AND sseq <= @to AND recipient <> @u
           AND rseq <= (SELECT removed_upto FROM users WHERE id = messages.recipient)`,
      ),
      setRemoved: db.prepare('UPDATE users SET removed_upto = ? WHERE id = ?'),
    };
    this.db = db;
  }

  private readonly db: Database.Database;

  /** Mailboxes holding more entries than they must keep: [user, head, removedUpto]. */
  overfull(mailboxMax: number): [string, number, number][] {
    return this.q.overfull.all(mailboxMax);
  }

  /**
   * The seq of the oldest of the newest `mailboxMax` messages of `user`'s mailbox up to
   * `head` (read when the sweep began): what retention must keep from. 1 when the mailbox
   * holds fewer messages (nothing must go).
   */
  keepFrom(user: string, mailboxMax: number, head: number): number {
    return this.q.nthNewest.get({ u: user, head, skip: mailboxMax - 1 }) ?? 1;
  }

  /**
   * Removes the next slice of `user`'s mailbox that retention allows: entries after
   * removed_upto, at most `slice` messages' worth, none after `keepAbove`, no message younger
   * than `cutoff`; when that reaches the oldest message kept, the updates just before it go
   * too. Returns how many entries it removed (0: nothing more to remove).
   */
  sweepSlice(user: string, keepAbove: number, cutoff: number, slice: number): number {
    // A slice need not survive a power cut (a lost one is swept again), so it does not wait
    // for an fsync of its own: the next durable commit's fsync covers it.
    this.db.pragma('synchronous = NORMAL');
    try {
      return this.removeSlice(user, keepAbove, cutoff, slice);
    } finally {
      this.db.pragma(`synchronous = ${this.sync === 'full' ? 'FULL' : 'NORMAL'}`);
    }
  }

  private removeSlice(user: string, keepAbove: number, cutoff: number, slice: number): number {
    return this.db
      .transaction((): number => {
        const from = this.q.removedUpto.get(user) ?? 0;
        const end = Math.min(keepAbove, from + slice);
        if (end <= from) return 0;
        let upto = this.q.lastOld.get({ u: user, from, to: end, cutoff });
        if (upto === null || upto === undefined) return 0;
        const next = this.q.nextMessage.get({ u: user, after: upto });
        // The next message stays: the cut moves up to it (updates have no age of their own).
        if (next && (next[0] > keepAbove || next[1] >= cutoff)) upto = next[0] - 1;
        const range = { u: user, from, to: upto };
        this.q.deleteReceived.run(range);
        this.q.deleteSent.run(range);
        this.q.deleteUpdates.run(range);
        this.q.setRemoved.run(upto, user);
        // Seqs are dense: every seq in (from, upto] was an entry of this mailbox.
        return upto - from;
      })
      .immediate();
  }
}
