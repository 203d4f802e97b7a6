/**
 * Where the bytes of uploads live (issue 12), behind the smallest interface the upload and
 * download routes need, so the engine can change without touching them: a local directory
 * for one node (fs-blob-store.ts), PostgreSQL large objects for several (pg-blob-store.ts),
 * S3-compatible object storage next (README "Files").
 *
 * Two kinds of things are stored:
 *  - a **partial**: the bytes of one upload received so far, keyed by the upload's id, only
 *    ever appended to at its end (resumable: its length is the upload's offset);
 *  - **content**: a completed upload's bytes, sealed (durable, never changed again) under a
 *    key the store picks. Keys are unique per seal, never reused: content-addressing (one
 *    copy per SHA-256) is the catalog's job (`blobs` table: sha256 → key, reference count),
 *    so deleting the content of a dropped key can never remove bytes a newer row points at.
 *
 * Metadata (who uploaded what, quotas, who may download) is not here: it lives in the
 * database beside the messages that refer to it (file-catalog.ts).
 */
export interface BlobStore {
  readonly kind: 'fs' | 'postgres';
  /** Bytes of the partial of `upload` received so far (0 when there is none). */
  received(upload: string): Promise<number>;
  /**
   * Appends the bytes of `body` to the partial of `upload`, which must be `offset` long
   * (else `OffsetMismatch`, nothing written). At most `limit` bytes in all (the declared
   * size): a body that brings more stops being read and the result says `overflow`. Bytes
   * written before the body fails or ends early stay (a client resumes after them).
   * Callers run one append per upload at a time (upload-locks.ts); across nodes an engine
   * must also refuse a second writer itself (pg-blob-store.ts does, row by row).
   */
  append(
    upload: string,
    offset: number,
    body: AsyncIterable<Uint8Array>,
    limit: number,
  ): Promise<AppendResult>;
  /** Up to `length` bytes of the partial from its start (magic-byte checks). */
  readPartialPrefix(upload: string, length: number): Promise<Buffer>;
  /** The SHA-256 (lowercase hex) of the whole partial, read back from storage. */
  hashPartial(upload: string): Promise<string>;
  /**
   * Makes the partial durable and immutable as content (synced, then moved into place: a
   * crash leaves either the partial or complete content, never half of it) and returns its
   * new key. The partial is gone afterwards.
   */
  seal(upload: string): Promise<string>;
  /** Removes the partial of `upload` (stopping an append in progress first); none is fine. */
  discardPartial(upload: string): Promise<void>;
  /** Bytes `start`..`end` (inclusive) of the content under `key`, streamed. */
  read(key: string, start: number, end: number): AsyncIterable<Uint8Array>;
  /** Removes content; keys that are gone already are fine. */
  remove(keys: readonly string[]): Promise<void>;
  /**
   * Removes leftovers a crash or a cut connection can leave: partials of uploads that
   * `isUpload` says no longer exist, and content that `isKey` says no catalog row points at
   * and that was sealed more than `graceMs` ago (younger content may belong to a seal whose
   * catalog row is being written). Returns how many things were removed.
   */
  sweep(sweep: BlobSweep): Promise<number>;
  close(): Promise<void>;
}

export interface BlobSweep {
  /** Which of these upload ids still exist (complete or not). */
  liveUploads(ids: readonly string[]): Promise<Set<string>>;
  /** Which of these content keys a catalog row points at. */
  liveKeys(keys: readonly string[]): Promise<Set<string>>;
  now: number;
  graceMs: number;
}

export interface AppendResult {
  /** The partial's length after the append: the upload's new offset. */
  offset: number;
  /** The body had more bytes than `limit` allowed (the upload is then to be removed). */
  overflow: boolean;
}

/** The partial is not `expected` bytes long: nothing was written; `actual` is its length. */
export class OffsetMismatch extends Error {
  readonly code = 'offset_mismatch';
  constructor(
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`the upload is at offset ${actual}, not ${expected}`);
  }
}
