import type { PgClient, PgConn } from './pg-client.js';
import { LOCK_NAMESPACE, LOCK_RETENTION } from './pg-schema.js';

export interface RetentionOptions {
  /** Revocation records that expired by now go. */
  now: number;
  /** Entries with ts below this may go (ms). */
  cutoff: number;
  /** Every mailbox keeps at least its newest `keep` entries. */
  keep: number;
  /** Entries removed per transaction. */
  slice?: number;
  /** Overfull mailboxes read per query. */
  page?: number;
}

const SLICE = 1000;
const PAGE = 200;

/**
 * The retention sweep on PostgreSQL: removes what `PIGEON_MAILBOX_MAX` and
 * `PIGEON_RETENTION_DAYS` allow to remove, like the SQLite sweep (sqlite-retention.ts).
 *
 * One node at a time: the sweep holds a session advisory lock on a connection of its own
 * and a node that cannot take it skips this round (another node is sweeping). If that
 * connection drops, the lock goes with it and another node may start while this one
 * finishes a slice; that is harmless, because a slice reads its start (`removed_upto`) under
 * the owner's row lock and only ever raises it.
 *
 * In slices: each transaction removes at most `slice` entries and the work happens inside
 * PostgreSQL (no rows come back), so the node's event loop only ever waits on I/O and sends
 * keep committing between slices.
 */
export async function sweepRetention(db: PgClient, opts: RetentionOptions): Promise<number> {
  const slice = opts.slice ?? SLICE;
  const page = opts.page ?? PAGE;
  return db.withConnection(async (conn) => {
    const lock = await conn.query('SELECT pg_try_advisory_lock($1, $2) AS locked', [
      LOCK_NAMESPACE,
      LOCK_RETENTION,
    ]);
    if (lock.rows[0]?.locked !== true) return 0;
    try {
      // A revoked token past its own expiry is dead anyway.
      await conn.query('DELETE FROM revoked_tokens WHERE expires_at <= $1', [opts.now]);
      let removed = 0;
      let after = '';
      for (;;) {
        const boxes = (
          await conn.query(
            `SELECT id, head_seq FROM users
             WHERE head_seq - removed_upto > $1 AND id > $2 ORDER BY id LIMIT $3`,
            [opts.keep, after, page],
          )
        ).rows as { id: string; head_seq: number }[];
        if (boxes.length === 0) break;
        for (const box of boxes) {
          after = box.id;
          // Keep the newest `keep` message entries (updates do not count, issue 10) and
          // everything younger than the cutoff.
          const keep = await conn.query({
            name: 'pigeon_retention_keep_from',
            text: KEEP_FROM,
            values: [box.id, box.head_seq, opts.keep - 1],
          });
          const keepFrom = (keep.rows[0]?.seq as number | undefined) ?? null;
          if (keepFrom === null) continue;
          const keepAbove = keepFrom - 1;
          for (;;) {
            const n = await removeSlice(conn, box.id, keepAbove, opts.cutoff, slice);
            if (n === 0) break;
            removed += n;
          }
        }
      }
      return removed;
    } finally {
      await conn.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_NAMESPACE, LOCK_RETENTION]).catch(() => {});
    }
  });
}

// The newest entry older than the cutoff in the window (removed_upto, removed_upto + slice].
const LAST_OLD = `
  WITH box AS (SELECT removed_upto AS f FROM users WHERE id = $1 FOR UPDATE)
  SELECT (SELECT f FROM box) AS from_seq, (SELECT MAX(seq) FROM (
    SELECT rseq AS seq FROM messages WHERE recipient = $1 AND rseq > (SELECT f FROM box)
      AND rseq <= LEAST($2::bigint, (SELECT f FROM box) + $4) AND ts < $3
    UNION ALL
    SELECT sseq FROM messages WHERE sender = $1 AND sseq > (SELECT f FROM box)
      AND sseq <= LEAST($2::bigint, (SELECT f FROM box) + $4) AND ts < $3) s) AS upto`;
// The seq of the mailbox's ($3 + 1)-th newest message up to the head $2 (read when the
// sweep began): what retention keeps from.
const KEEP_FROM = `
  SELECT seq FROM (
    SELECT rseq AS seq FROM messages WHERE recipient = $1 AND rseq > 0 AND rseq <= $2
    UNION ALL
    SELECT sseq FROM messages WHERE sender = $1 AND recipient <> $1 AND sseq <= $2) s
  ORDER BY seq DESC OFFSET $3 LIMIT 1`;
// The mailbox's first message after $2, and its ts.
const NEXT_MESSAGE = `
  SELECT seq, ts FROM (
    SELECT rseq AS seq, ts FROM messages WHERE recipient = $1 AND rseq > $2
    UNION ALL
    SELECT sseq, ts FROM messages WHERE sender = $1 AND sseq > $2 AND recipient <> $1) s
  ORDER BY seq LIMIT 1`;
// A message goes once both of its entries are dead: the other mailbox's mark passed it.
const DELETE_RECEIVED = `
  DELETE FROM messages m WHERE m.recipient = $1 AND m.rseq > $2 AND m.rseq <= $3
    AND (m.sender = $1 OR m.sseq <= (SELECT removed_upto FROM users WHERE id = m.sender))`;
const DELETE_SENT = `
  DELETE FROM messages m WHERE m.sender = $1 AND m.sseq > $2 AND m.sseq <= $3 AND m.recipient <> $1
    AND m.rseq <= (SELECT removed_upto FROM users WHERE id = m.recipient)`;

/**
 * Removes the next slice of `owner`'s mailbox that retention allows (at most `slice`
 * entries after its removed_upto, none above `keepAbove`, none younger than `cutoff`) in one
 * transaction under the owner's row lock (sends to it wait for this slice only). Returns
 * how many entries it removed; 0 when there is nothing more.
 */
async function removeSlice(
  conn: PgConn,
  owner: string,
  keepAbove: number,
  cutoff: number,
  slice: number,
): Promise<number> {
  try {
    // Round trip 1: BEGIN, lock the owner's row and find the slice's end.
    const [, found] = await Promise.all([
      conn.query('BEGIN'),
      conn.query({
        name: 'pigeon_retention_last_old',
        text: LAST_OLD,
        values: [owner, keepAbove, cutoff, slice],
      }),
    ]);
    const row = found.rows[0] as { from_seq: number; upto: number | null } | undefined;
    if (!row || row.upto === null || row.upto <= row.from_seq) {
      await conn.query('COMMIT');
      return 0;
    }
    // Updates have no age of their own: when the next message stays, the cut goes up to
    // it, so the updates before the oldest message kept go with the messages before them.
    let upto = row.upto;
    const next = (
      await conn.query({ name: 'pigeon_retention_next', text: NEXT_MESSAGE, values: [owner, upto] })
    ).rows[0] as { seq: number; ts: number } | undefined;
    if (next && (next.seq > keepAbove || next.ts >= cutoff)) upto = next.seq - 1;
    // Round trip 2: both kinds of message entries, the updates, the mark, COMMIT.
    const [, , , , done] = await Promise.all([
      conn.query({
        name: 'pigeon_retention_received',
        text: DELETE_RECEIVED,
        values: [owner, row.from_seq, upto],
      }),
      conn.query({
        name: 'pigeon_retention_sent',
        text: DELETE_SENT,
        values: [owner, row.from_seq, upto],
      }),
      conn.query('DELETE FROM updates WHERE owner = $1 AND seq > $2 AND seq <= $3', [
        owner,
        row.from_seq,
        upto,
      ]),
      conn.query('UPDATE users SET removed_upto = GREATEST(removed_upto, $2) WHERE id = $1', [owner, upto]),
      conn.query('COMMIT'),
    ]);
    if (done.command !== 'COMMIT') throw new Error(`retention slice rolled back (${done.command})`);
    // Seqs are dense: every seq in (from, upto] was an entry of this mailbox.
    return upto - row.from_seq;
  } catch (err) {
    await conn.query('ROLLBACK').catch(() => {});
    throw err;
  }
}
