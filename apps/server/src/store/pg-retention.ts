import type { Sql } from './pg-client.js';
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
 * `PIGEON_RETENTION_DAYS` allow to remove, like the SQLite sweep.
 *
 * One node at a time: the sweep holds a session advisory lock on a connection of its own
 * and a node that cannot take it skips this round (another node is sweeping). If that
 * connection drops, the lock goes with it and another node may start while this one
 * finishes a slice; that is harmless, because a slice is idempotent (it deletes a seq range
 * under the owner's row lock and only ever raises `removed_upto`).
 *
 * In slices: each transaction removes at most `slice` entries and the work happens inside
 * PostgreSQL (no rows come back but the ids of messages left without entries), so the
 * node's event loop only ever waits on I/O and sends keep committing between slices.
 */
export async function sweepRetention(sql: Sql, opts: RetentionOptions): Promise<number> {
  const slice = opts.slice ?? SLICE;
  const page = opts.page ?? PAGE;
  const conn = await sql.reserve();
  try {
    const [lock] = await conn<{ locked: boolean }[]>`
      SELECT pg_try_advisory_lock(${LOCK_NAMESPACE}, ${LOCK_RETENTION}) AS locked`;
    if (!lock?.locked) return 0;
    try {
      // A revoked token past its own expiry is dead anyway.
      await conn`DELETE FROM revoked_tokens WHERE expires_at <= ${opts.now}`;
      let removed = 0;
      let after = '';
      for (;;) {
        const boxes = await conn<{ id: string; head_seq: number; removed_upto: number }[]>`
          SELECT id, head_seq, removed_upto FROM users
          WHERE head_seq - removed_upto > ${opts.keep} AND id > ${after} ORDER BY id LIMIT ${page}`;
        if (boxes.length === 0) break;
        for (const box of boxes) {
          after = box.id;
          // Keep the newest `keep` entries and everything younger than the cutoff.
          const [last] = await conn<{ max_seq: number | null }[]>`
            SELECT MAX(seq) AS max_seq FROM entries
            WHERE owner = ${box.id} AND seq > ${box.removed_upto} AND seq <= ${box.head_seq - opts.keep}
              AND ts < ${opts.cutoff}`;
          const upto = last?.max_seq ?? null;
          if (upto === null) continue;
          for (let from = box.removed_upto; from < upto; from = Math.min(upto, from + slice)) {
            removed += await removeSlice(conn, box.id, from, Math.min(upto, from + slice));
          }
        }
      }
      return removed;
    } finally {
      await conn`SELECT pg_advisory_unlock(${LOCK_NAMESPACE}, ${LOCK_RETENTION})`.catch(() => {});
    }
  } finally {
    conn.release();
  }
}

/** Removes `owner`'s entries in (fromSeq, uptoSeq] and the messages left without entries. */
async function removeSlice(conn: Sql, owner: string, fromSeq: number, uptoSeq: number): Promise<number> {
  try {
    // Round trip 1: BEGIN, take the owner's row (sends to it wait for this slice), remove
    // the entries and count the references they held.
    const [, , [counts]] = await Promise.all([
      conn`BEGIN`,
      conn`SELECT 1 FROM users WHERE id = ${owner} FOR UPDATE`,
      conn<{ removed: number; gone: number[] | null }[]>`
        WITH del AS (
          DELETE FROM entries WHERE owner = ${owner} AND seq > ${fromSeq} AND seq <= ${uptoSeq} RETURNING msg
        ), dec AS (
          UPDATE messages m SET refs = m.refs - d.n
          FROM (SELECT msg, count(*)::int AS n FROM del GROUP BY msg) d
          WHERE m.rowid = d.msg RETURNING m.rowid, m.refs
        )
        SELECT (SELECT count(*) FROM del)::int AS removed,
          (SELECT array_agg(rowid) FROM dec WHERE refs <= 0) AS gone`,
    ]);
    // Round trip 2: the messages no entry refers to any more, the mark, COMMIT.
    await Promise.all([
      conn`DELETE FROM messages WHERE rowid = ANY(${counts?.gone ?? []}::bigint[])`,
      conn`UPDATE users SET removed_upto = GREATEST(removed_upto, ${uptoSeq}) WHERE id = ${owner}`,
      conn`COMMIT`,
    ]);
    return counts?.removed ?? 0;
  } catch (err) {
    await conn`ROLLBACK`.catch(() => {});
    throw err;
  }
}
