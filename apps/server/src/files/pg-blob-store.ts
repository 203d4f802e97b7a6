import crypto from 'node:crypto';
import type { PgClient } from '../store/pg-client.js';
import { type AppendResult, type BlobStore, type BlobSweep, OffsetMismatch } from './blob-store.js';

/*
 * File bytes as PostgreSQL large objects: the store every node of a cluster already
 * shares, transactional with the catalog's rows, in the backups pg_dump makes, nothing
 * more to run. (Measured against the local directory in README "Files"; S3-compatible
 * storage is the next adapter for deployments whose files outgrow the database.)
 *
 * - A partial is a large object named in `upload_parts` (upload → oid, received). Bytes
 *   are written in slices of SLICE bytes, each in one transaction that locks the row,
 *   checks `received`, writes with lo_put and moves `received` on: two nodes writing the
 *   same upload are ordered by the row lock, and the one whose offset no longer matches
 *   stops (offset_mismatch). A crash loses at most the slice in flight.
 * - Sealing deletes the `upload_parts` row and records the oid in `sealed_contents`, in one
 *   transaction: the large object is content from then on, named by its oid (the key).
 *   `sealed_contents` lets the sweep find content whose catalog row never came (a crash
 *   between the seal and the catalog's completion) once the grace period is over.
 * - Memory: one slice per upload being written, never the file.
 */

/** Bytes per write transaction and per read query. */
const SLICE = 1024 * 1024;
/** SQLSTATE of lo_unlink on an object that does not exist. */
const UNDEFINED_OBJECT = '42704';

export class PgBlobStore implements BlobStore {
  readonly kind = 'postgres';

  constructor(
    private readonly db: PgClient,
    private readonly now: () => number = Date.now,
  ) {}

  async received(upload: string): Promise<number> {
    const rows = await this.db.query<{ received: number }>({
      name: 'pigeon_blob_received',
      text: 'SELECT received FROM upload_parts WHERE upload = $1',
      values: [upload],
    });
    return rows[0]?.received ?? 0;
  }

  async append(
    upload: string,
    offset: number,
    body: AsyncIterable<Uint8Array>,
    limit: number,
  ): Promise<AppendResult> {
    // Nothing is written for a request at the wrong offset, not even an empty object.
    const current = await this.received(upload);
    if (current !== offset) throw new OffsetMismatch(offset, current);
    let at = offset;
    let slice: Buffer[] = [];
    let sliceBytes = 0;
    const flush = async () => {
      if (sliceBytes === 0) return;
      const data = Buffer.concat(slice, sliceBytes);
      slice = [];
      sliceBytes = 0;
      await this.writeSlice(upload, at, data);
      at += data.length;
    };
    let overflow = false;
    try {
      for await (const chunk of body) {
        if (at + sliceBytes + chunk.length > limit) {
          overflow = true;
          break;
        }
        slice.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        sliceBytes += chunk.length;
        if (sliceBytes >= SLICE) await flush();
      }
    } finally {
      // What arrived before the body ended, broke off or overflowed is kept.
      await flush();
    }
    return { offset: at, overflow };
  }

  /** One slice at `offset`, in its own transaction (see the top of the file). */
  private writeSlice(upload: string, offset: number, data: Buffer): Promise<void> {
    return this.db.transaction(async ({ conn, begun }) => {
      const [, part] = await Promise.all([
        begun,
        conn.query<{ oid: number; received: number }>(
          'SELECT oid, received FROM upload_parts WHERE upload = $1 FOR UPDATE',
          [upload],
        ),
      ]);
      let row = part.rows[0];
      if (!row) {
        if (offset !== 0) throw new OffsetMismatch(offset, 0);
        // Two first slices at once: one insert wins, the other fails on the key and its
        // transaction (with its object) rolls back; that client resumes after HEAD.
        const created = await conn.query<{ oid: number }>(
          'INSERT INTO upload_parts (upload, oid, received) VALUES ($1, lo_create(0), 0) RETURNING oid',
          [upload],
        );
        row = { oid: created.rows[0]!.oid, received: 0 };
      }
      if (row.received !== offset) throw new OffsetMismatch(offset, row.received);
      await Promise.all([
        conn.query('SELECT lo_put($1::oid, $2, $3)', [row.oid, offset, data]),
        conn.query('UPDATE upload_parts SET received = $2 WHERE upload = $1', [upload, offset + data.length]),
      ]);
    });
  }

  async readPartialPrefix(upload: string, length: number): Promise<Buffer> {
    const rows = await this.db.query<{ data: Buffer | null }>({
      text: 'SELECT lo_get(oid, 0, $2) AS data FROM upload_parts WHERE upload = $1',
      values: [upload, length],
    });
    return rows[0]?.data ?? Buffer.alloc(0);
  }

  async hashPartial(upload: string): Promise<string> {
    const rows = await this.db.query<{ oid: number; received: number }>({
      text: 'SELECT oid, received FROM upload_parts WHERE upload = $1',
      values: [upload],
    });
    const part = rows[0];
    if (!part) throw new Error(`no partial for upload ${upload}`);
    const hash = crypto.createHash('sha256');
    for await (const chunk of this.slices(String(part.oid), 0, part.received - 1)) hash.update(chunk);
    return hash.digest('hex');
  }

  seal(upload: string): Promise<string> {
    return this.db.transaction(async ({ conn, begun }) => {
      const [, gone] = await Promise.all([
        begun,
        conn.query<{ oid: number }>('DELETE FROM upload_parts WHERE upload = $1 RETURNING oid', [upload]),
      ]);
      const oid = gone.rows[0]?.oid;
      if (oid === undefined) throw new Error(`no partial for upload ${upload}`);
      await conn.query('INSERT INTO sealed_contents (oid, sealed_at) VALUES ($1, $2)', [oid, this.now()]);
      return String(oid);
    });
  }

  async discardPartial(upload: string): Promise<void> {
    await this.db.query({
      text: `WITH gone AS (DELETE FROM upload_parts WHERE upload = $1 RETURNING oid)
             SELECT lo_unlink(oid) FROM gone`,
      values: [upload],
    });
  }

  read(key: string, start: number, end: number): AsyncIterable<Uint8Array> {
    return this.slices(key, start, end);
  }

  private async *slices(key: string, start: number, end: number): AsyncGenerator<Buffer> {
    for (let at = start; at <= end; at += SLICE) {
      const length = Math.min(SLICE, end - at + 1);
      const rows = await this.db.query<{ data: Buffer }>({
        name: 'pigeon_blob_read',
        text: 'SELECT lo_get($1::oid, $2, $3) AS data',
        values: [key, at, length],
      });
      const data = rows[0]?.data;
      if (!data || data.length === 0) throw new Error(`content ${key} ends before byte ${at}`);
      yield data;
    }
  }

  async remove(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      try {
        await this.db.query({ name: 'pigeon_blob_unlink', text: 'SELECT lo_unlink($1::oid)', values: [key] });
      } catch (err) {
        // Gone already (another node's sweep got there first) is what we wanted.
        if ((err as { code?: string }).code !== UNDEFINED_OBJECT) throw err;
      }
    }
    if (keys.length > 0) {
      await this.db.query({ text: 'DELETE FROM sealed_contents WHERE oid = ANY($1::oid[])', values: [keys] });
    }
  }

  async sweep(sweep: BlobSweep): Promise<number> {
    let removed = 0;
    const parts = await this.db.query<{ upload: string }>({ text: 'SELECT upload FROM upload_parts' });
    if (parts.length > 0) {
      const live = await sweep.liveUploads(parts.map((p) => p.upload));
      for (const { upload } of parts) {
        if (live.has(upload)) continue;
        await this.discardPartial(upload);
        removed++;
      }
    }
    // Seals old enough that their catalog row must have come by now: kept content stops
    // being tracked here, content no row names is removed.
    const sealed = await this.db.query<{ oid: number }>({
      text: 'SELECT oid FROM sealed_contents WHERE sealed_at <= $1',
      values: [sweep.now - sweep.graceMs],
    });
    if (sealed.length > 0) {
      const keys = sealed.map((s) => String(s.oid));
      const live = await sweep.liveKeys(keys);
      const dead = keys.filter((k) => !live.has(k));
      await this.remove(dead);
      await this.db.query({
        text: 'DELETE FROM sealed_contents WHERE oid = ANY($1::oid[])',
        values: [keys.filter((k) => live.has(k))],
      });
      removed += dead.length;
    }
    return removed;
  }

  async close(): Promise<void> {}
}
