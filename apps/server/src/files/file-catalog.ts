import type { FileInfo } from '@pigeon/protocol';

/**
 * What the database knows about files (issue 12), beside the messages that refer to them
 * so that one transaction covers both (SQLite: store/sqlite-files.ts through the writer and
 * reader threads; PostgreSQL: store/pg-files.ts):
 *
 *  - `uploads`: one row per upload (its owner, name, type, declared size, expiry); once
 *    complete it names its content by SHA-256. A user's quota is the sum of the sizes of
 *    their rows.
 *  - `blobs`: SHA-256 → the blob store's key and the number of complete uploads naming it
 *    (`refs`). Identical content is stored once; a row lives while refs > 0, and the
 *    transaction that takes refs to 0 removes the row and hands its key back, so the bytes
 *    go right after (a crash in between leaves a file the blob sweep removes).
 *  - `message_files`: which messages refer to which uploads. A message refers to an upload
 *    as long as its row exists and it is not deleted for everyone (triggers on `messages`
 *    drop the links when retention removes the row or a deletion empties it), and an
 *    upload with a link is never removed.
 *
 * An upload is removed by `DELETE` (unless linked), by a failed completion check, or once
 * it is past `expiresAt` and unlinked (the sweep). A deletion for everyone that drops an
 * upload's last link sets its `expiresAt` to the deletion's time in the same transaction
 * (sqlite-feature-writer / pg-features), so the next sweep removes it with its bytes.
 */
export interface FileCatalog {
  /** Bytes of `owner`'s uploads kept now (their declared sizes). */
  quotaUsed(owner: string): Promise<number>;
  /** Adds the upload unless the owner's kept bytes plus its size pass `quota` (checked in the same transaction). */
  createUpload(upload: NewUpload, quota: number): Promise<{ ok: true } | { ok: false; used: number }>;
  /** The upload, complete or not; null when there is none. */
  upload(id: string): Promise<UploadRow | null>;
  /**
   * Marks the upload complete with its content: `key` holds the bytes unless content with
   * the same SHA-256 is stored already, in which case that one's key is returned (and the
   * caller removes `key`). Null when the upload is gone (the caller removes `key`).
   */
  complete(id: string, content: CompletedContent): Promise<{ key: string } | null>;
  /**
   * Removes the upload (of `owner`, when given). `in_use`: a message refers to it (nothing
   * removed). `keys`: content no upload names any more, to remove from the blob store.
   */
  removeUpload(id: string, owner: string | null): Promise<{ result: RemoveResult; keys: string[] }>;
  /**
   * The file if `user` may download it at `now`: either side of a message referring to it,
   * or the uploader while it is unexpired or referred to (an upload whose expiry passed is
   * as good as swept: a deletion for everyone expires it at once, so its uploader gets the
   * same 404 as anyone else before the sweep removes it).
   */
  download(id: string, user: string, now: number): Promise<StoredFile | null>;
  /**
   * Removes up to `limit` uploads that are past their expiry and not referred to, and
   * returns their ids (partials to discard) and the content keys that no upload names now.
   */
  sweep(now: number, limit: number): Promise<{ uploads: string[]; keys: string[] }>;
  /** Which of these upload ids exist. */
  liveUploads(ids: readonly string[]): Promise<Set<string>>;
  /** Which of these content keys a `blobs` row names. */
  liveKeys(keys: readonly string[]): Promise<Set<string>>;
  /** Stored content: bytes and count (each content once, however many uploads name it). */
  usage(): Promise<{ bytes: number; blobs: number }>;
}

export type RemoveResult = 'removed' | 'in_use' | 'missing';

export interface NewUpload {
  id: string;
  owner: string;
  name: string;
  /** Lowercase `type/subtype` (the codec's parseMediaType). */
  type: string;
  size: number;
  /** The SHA-256 the client declared, compared at completion; null when none. */
  declaredSha256: string | null;
  thumb: string | null;
  createdAt: number;
  expiresAt: number;
}

export interface UploadRow extends NewUpload {
  /** The content's SHA-256 once complete; null while bytes are missing. */
  sha256: string | null;
  /** Pixels, for the inline image types only (read from the file at completion). */
  width: number | null;
  height: number | null;
}

export interface CompletedContent {
  sha256: string;
  key: string;
  size: number;
  width: number | null;
  height: number | null;
}

/** A complete upload as a download needs it. */
export interface StoredFile {
  id: string;
  name: string;
  type: string;
  size: number;
  sha256: string;
  key: string;
}

/** The FileInfo of a complete upload: what messages carry and the completion answers. */
export function fileInfo(
  u: Pick<UploadRow, 'id' | 'name' | 'type' | 'size' | 'width' | 'height' | 'thumb'>,
): FileInfo {
  const info: FileInfo = { id: u.id, name: u.name, type: u.type, size: u.size };
  if (u.width !== null && u.height !== null) {
    info.width = u.width;
    info.height = u.height;
  }
  if (u.thumb !== null) info.thumb = u.thumb;
  return info;
}
