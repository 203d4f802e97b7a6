import type { FileInfo, HttpErrorCode } from '@pigeon/protocol';
import type { AbortSignalLike } from './platform-types.js';

// Public types of attachments (issue 12, PROTOCOL.md "Files"): what an application attaches,
// where the bytes wait until uploaded, how HTTP is done on each platform. Framework-free and
// without DOM or Node types: a browser `Blob`/`File` and Node's `Blob` (`fs.openAsBlob`) are
// `BlobLike` as they are.

/** The part of a `Blob` the client uses. */
export interface BlobLike {
  readonly size: number;
  slice(start?: number, end?: number): BlobLike;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** A file the application attaches to a message (`send(to, caption, { files })`). */
export interface AttachmentInput {
  blob: BlobLike;
  /** Shown to the recipient and suggested when saving: 1-255 characters, no `/`, `\` or controls. */
  name: string;
  /** The declared media type; `application/octet-stream` sends a photo "as a file" (a download card). */
  type: string;
  /** A tiny placeholder (`data:image/jpeg|png|webp;base64,…`, at most 2048 characters). */
  thumb?: string;
}

/**
 * Where the outbox keeps the bytes of attachments until they are uploaded and the message is
 * stored (the web app backs it with IndexedDB), so a reload or a lost network loses nothing and
 * a large upload resumes rather than restarting. Default: in memory (lost with the process).
 */
export interface AttachmentStore {
  put(key: string, blob: BlobLike): void | Promise<void>;
  get(key: string): BlobLike | null | undefined | Promise<BlobLike | null | undefined>;
  remove(key: string): void | Promise<void>;
}

/**
 * Why a message with attachments failed before it could be sent: the upload API's refusal
 * (`invalid_file`, `empty_file`, `file_too_large`, `quota_exceeded`, `type_mismatch`,
 * `image_too_large`, `checksum_mismatch`), the bytes gone from the `AttachmentStore`
 * (`attachment_missing`), a refusal this client does not know (`upload_failed`), or a server
 * without `files` (`unsupported`).
 */
export type UploadErrorCode =
  | (typeof HttpErrorCode)[
      | 'invalidFile'
      | 'emptyFile'
      | 'fileTooLarge'
      | 'quotaExceeded'
      | 'typeMismatch'
      | 'imageTooLarge'
      | 'checksumMismatch']
  | 'attachment_missing'
  | 'upload_failed'
  | 'unsupported';

/** One attachment of an outbox item, as stored with the outbox. */
export interface OutboxFile {
  /** Its bytes in the `AttachmentStore`. */
  key: string;
  name: string;
  type: string;
  size: number;
  thumb?: string;
  /** The server's upload, once created. */
  uploadId?: string;
  /** When the server removes the upload if no message refers to it (ms since the epoch). */
  expiresAt?: number;
  /** Bytes the server has confirmed so far. */
  uploaded: number;
  /** The stored file, once the upload completed: the message refers to `file.id`. */
  file?: FileInfo;
}

/** `upload` event: bytes of one attachment on their way (`loaded` of `total`). */
export interface UploadProgress {
  /** The message (outbox item) id. */
  id: string;
  /** Which of its files. */
  index: number;
  loaded: number;
  total: number;
}

// ---------------------------------------------------------------- HTTP for files

/** A stream of byte chunks: a `ReadableStream<Uint8Array>` reader, browsers and Node alike. */
export interface ByteReader {
  read(): Promise<{ done: boolean; value?: Uint8Array }>;
  cancel(reason?: unknown): Promise<void>;
}

export interface TransportRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  headers: Record<string, string>;
  /** JSON text, or the bytes of a PATCH. */
  body?: string | BlobLike;
  /** PATCH: bytes of `body` sent so far, as they go (when the transport can tell). */
  onUploadProgress?: (sent: number) => void;
  signal?: AbortSignalLike;
}

export interface TransportResponse {
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
  /** The body as a stream (GET); null when there is none. */
  body: { getReader(): ByteReader } | null;
}

/**
 * Does one HTTP request of the file API. `fetchTransport()` (the default) works everywhere but
 * reports upload progress only at the end of each request; browsers get byte-level progress
 * from `xhrTransport(XMLHttpRequest)`, Node from `nodeHttpTransport()`
 * (`@pigeon/client/node`). A network failure rejects; any HTTP status resolves.
 */
export type HttpTransport = (request: TransportRequest) => Promise<TransportResponse>;

export interface DownloadOptions {
  /** Start at this byte (resume a partial download); the answer says where the bytes really start. */
  offset?: number;
  /** With `offset`: the ETag of the bytes already held (`If-Range`), so a changed file restarts from 0. */
  etag?: string;
  signal?: AbortSignalLike;
  /** Called once the answer's headers arrived, before any byte: where the bytes start, how many in all. */
  onStart?: (info: Omit<DownloadResult, 'chunks'>) => void | Promise<void>;
  /** Receives the bytes as they arrive (in order) instead of collecting them in `chunks`. */
  onChunk?: (chunk: Uint8Array) => void | Promise<void>;
  onProgress?: (loaded: number, total: number) => void;
}

export interface DownloadResult {
  /** The file's size in bytes. */
  size: number;
  /** Where the bytes received start: `offset`, or 0 when the server sent the whole file again. */
  from: number;
  /** `Content-Type` (an image type for the four inline ones, else `application/octet-stream`). */
  type: string;
  /** The name from `Content-Disposition` (`filename*`), or null. */
  name: string | null;
  etag: string | null;
  /** The bytes from `from` on, unless `onChunk` took them. */
  chunks: Uint8Array[];
}
