import type { PgClient, PgConn } from './pg-client.js';
import { LOCK_NAMESPACE, LOCK_RETENTION } from './pg-schema.js';

export interface RetentionOptions {
  /** Revocation records that expired by now go. */
  now: number;
  /** Entries with ts below this may go (ms). */
  cutoff: number;
  /** Every mailbox keeps at least its newest `keep` message entries. */
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
            `SELECT id, head_seq, removed_upto FROM users
             WHERE head_seq - removed_upto > $1 AND id > $2 ORDER BY id LIMIT $3`,
            [opts.keep, after, page],
          )
        ).rows as { id: string; head_seq: number; removed_upto: number }[];
        if (boxes.length === 0) break;
        for (const box of boxes) {
          after = box.id;
          const upto = await removableUpto(conn, box.id, box.removed_upto, box.head_seq, opts);
          if (upto === null) continue;
          for (let from = box.removed_upto; from < upto; from = Math.min(upto, from + slice)) {
            removed += await removeSlice(conn, box.id, from, Math.min(upto, from + slice));
          }
        }
      }
      return removed;
    } finally {
      await conn.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_NAMESPACE, LOCK_RETENTION]).catch(() => {});
    }
  });
}

/**
 * How far `owner`'s mailbox may be cut: the newest `keep` message entries and every message
 * younger than the cutoff stay (update entries, issue 10, do not count and have no age of
 * their own: the cut reaches up to the oldest message kept, so the updates before it go
 * with the messages before them). Null when nothing may go.
 */
async function removableUpto(
  conn: PgConn,
  owner: string,
  removedUpto: number,
  head: number,
  opts: RetentionOptions,
): Promise<number | null> {
  // Counted up to the head read when the sweep began: entries stored since are not its business.
  const keepRes = await conn.query(
    'SELECT seq FROM entries WHERE owner = $1 AND seq <= $2 ORDER BY seq DESC OFFSET $3 LIMIT 1',
    [owner, head, opts.keep - 1],
  );
  const keepFrom = (keepRes.rows[0]?.seq as number | undefined) ?? null;
  if (keepFrom === null) return null;
  const last = await conn.query(
    `SELECT MAX(seq) AS max_seq FROM entries WHERE owner = $1 AND seq > $2 AND seq < $3 AND ts < $4`,
    [owner, removedUpto, keepFrom, opts.cutoff],
  );
  const upto = (last.rows[0]?.max_seq as number | null | undefined) ?? null;
  if (upto === null) return null;
  const next = await conn.query(
    'SELECT seq, ts FROM entries WHERE owner = $1 AND seq > $2 ORDER BY seq LIMIT 1',
    [owner, upto],
  );
  const row = next.rows[0] as { seq: number; ts: number } | undefined;
  // The next message stays (by count or by age): cut right up to it.
  if (row && (row.seq >= keepFrom || row.ts >= opts.cutoff)) return row.seq - 1;
  return upto;
}

const REMOVE_ENTRIES = `
  WITH del AS (
    DELETE FROM entries WHERE owner = $1 AND seq > $2 AND seq <= $3 RETURNING msg
  ), dec AS (
    UPDATE messages m SET refs = m.refs - d.n
    FROM (SELECT msg, count(*)::int AS n FROM del GROUP BY msg) d
    WHERE m.rowid = d.msg RETURNING m.rowid, m.refs
  )
  , upd AS (
    DELETE FROM updates WHERE owner = $1 AND seq > $2 AND seq <= $3 RETURNING seq
  )
  SELECT (SELECT count(*) FROM del)::int + (SELECT count(*) FROM upd)::int AS removed,
    (SELECT array_agg(rowid) FROM dec WHERE refs <= 0) AS gone`;

/** Removes `owner`'s entries in (fromSeq, uptoSeq] and the messages left without entries. */
async function removeSlice(conn: PgConn, owner: string, fromSeq: number, uptoSeq: number): Promise<number> {
  try {
    // Round trip 1: BEGIN, take the owner's row (sends to it wait for this slice), remove
    // the entries and count the references they held.
    const [, , counts] = await Promise.all([
      conn.query('BEGIN'),
      conn.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [owner]),
      conn.query({
        name: 'pigeon_retention_remove',
        text: REMOVE_ENTRIES,
        values: [owner, fromSeq, uptoSeq],
      }),
    ]);
    const row = counts.rows[0] as { removed: number; gone: string[] | null } | undefined;
    // Round trip 2: the messages no entry refers to any more, the mark, COMMIT.
    const [, , done] = await Promise.all([
      conn.query('DELETE FROM messages WHERE rowid = ANY($1::bigint[])', [row?.gone ?? []]),
      conn.query('UPDATE users SET removed_upto = GREATEST(removed_upto, $2) WHERE id = $1', [
        owner,
        uptoSeq,
      ]),
      conn.query('COMMIT'),
    ]);
    if (done.command !== 'COMMIT') throw new Error(`retention slice rolled back (${done.command})`);
    return row?.removed ?? 0;
  } catch (err) {
    await conn.query('ROLLBACK').catch(() => {});
    throw err;
  }
}
