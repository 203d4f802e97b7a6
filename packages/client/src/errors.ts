/**
 * Codes of errors the client itself raises (besides the server's `ErrorCode`s, which it
 * passes through unchanged).
 */
export const ClientErrorCode = {
  /** The server could not be reached (DNS, refused, reset) or answered something that is not JSON. */
  unreachable: 'unreachable',
  /** A request was sent but the connection dropped before its answer. */
  disconnected: 'disconnected',
  /** No answer within `requestTimeoutMs`. */
  timeout: 'timeout',
  /** The client was stopped (or became unauthorized) while the request waited. */
  stopped: 'stopped',
  /** No session: call `login`, `register`, `useToken` or `restore` first. */
  noSession: 'no_session',
  /** An argument is invalid before anything is sent (e.g. a malformed user id). */
  invalidArgument: 'invalid_argument',
  /** The server answered a request with a frame of another kind (a server bug or a proxy mix-up). */
  unexpectedAnswer: 'unexpected_answer',
  /** A storage write failed (quota, I/O); the state is kept in memory and the write retried. */
  storageFailed: 'storage_failed',
  /** The call needs a protocol extension the server did not enable for this connection. */
  unsupported: 'unsupported',
  /** The caller's AbortSignal aborted the wait. */
  aborted: 'aborted',
  /** An attachment's bytes are no longer in the `AttachmentStore` (and it was not uploaded yet). */
  attachmentMissing: 'attachment_missing',
  /** The upload API refused an attachment with a code this client does not know. */
  uploadFailed: 'upload_failed',
  // Codes of the `error` event only:
  /** A `message` (or other) listener threw; a `message` entry is then not acknowledged. */
  listener: 'listener',
  /** A `message` listener failed `maxListenerFailures` times on one entry: it now counts as processed. */
  listenerGaveUp: 'listener_gave_up',
  /** The server sent a frame this client cannot decode (ignored). */
  badServerFrame: 'bad_server_frame',
  /** A bug in the client's own processing of a frame (reported, the stream goes on). */
  internal: 'internal',
} as const;

/** `ClientStatus.reason` values besides `closed_<code>` and `cannot open socket: ...`. */
export const StatusReason = {
  notStarted: 'not_started',
  stopped: 'stopped',
  /** Close 4003: the server speaks another protocol version; the client stopped for good. */
  unsupportedVersion: 'unsupported_version',
} as const;
export type ClientErrorCode = (typeof ClientErrorCode)[keyof typeof ClientErrorCode];

/** A failed `register` / `login`. `code` is the server's `error` code or `unreachable`. */
export class PigeonHttpError extends Error {
  override readonly name = 'PigeonHttpError';
  constructor(
    /** HTTP status; 0 when the server could not be reached. */
    readonly status: number,
    readonly code: string,
    message: string,
    /** From the `Retry-After` header of a 429. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

/** A failed `history` / `conversations` / `flush` / `persisted` / `logout` (or an invalid argument). */
export class PigeonRequestError extends Error {
  override readonly name = 'PigeonRequestError';
  constructor(
    /** A `ClientErrorCode` or the server's error code (e.g. `no_such_user`, `bad_frame`). */
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
