/**
 * Every code a client can observe, in one place (PROTOCOL.md "Errors and limits" and
 * "Extensions"). Servers, clients and the web app use these constants, never literals, so
 * a code cannot drift between the side that sends it and the side that tests for it.
 */

/** Codes of `error` frames on the WebSocket. */
export const ErrorCode = {
  badFrame: 'bad_frame',
  tooLarge: 'too_large',
  noSuchUser: 'no_such_user',
  rateLimited: 'rate_limited',
  internal: 'internal',
  // chat features (PROTOCOL.md "Extensions"); only in answers to their frames
  /** The message named by `(from, id)` is not in your mailbox (never was, or retention removed it). */
  noSuchMessage: 'no_such_message',
  /** Edit or delete for everyone of someone else's message. */
  notYours: 'not_yours',
  /** Edit or delete for everyone after `LIMITS.editWindowMs`. */
  tooLate: 'too_late',
  /** Edit, react to or reply to a message deleted for everyone. */
  messageDeleted: 'message_deleted',
  /** A block beyond `LIMITS.blockedMax`. */
  limitReached: 'limit_reached',
  // attachments
  /** `send.files` names a file that is not a complete, unexpired upload of the sender. */
  noSuchFile: 'no_such_file',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * What an `error` frame's `code` may hold as a type: the known codes, plus any other
 * string, because a newer server may add codes and a client must still see the error.
 */
export type FrameErrorCode = ErrorCode;

/** Codes of HTTP error bodies, `{"error": CODE, "message": TEXT}`. */
export const HttpErrorCode = {
  // version 1 (PROTOCOL.md "HTTP" and the server's documented extras)
  invalidUser: 'invalid_user',
  weakPassword: 'weak_password',
  userTaken: 'user_taken',
  badCredentials: 'bad_credentials',
  rateLimited: 'rate_limited',
  notFound: 'not_found',
  badRequest: 'bad_request',
  tooLarge: 'too_large',
  methodNotAllowed: 'method_not_allowed',
  upgradeRequired: 'upgrade_required',
  forbiddenOrigin: 'forbidden_origin',
  unavailable: 'unavailable',
  internal: 'internal',
  // extensions (PROTOCOL.md "Extensions: HTTP")
  /** A POST to `/api/` without `Content-Type: application/json` (415). */
  unsupportedMediaType: 'unsupported_media_type',
  /** Missing, invalid, expired or revoked bearer token on an endpoint that needs one (401). */
  unauthorized: 'unauthorized',
  /** `/legacy` or `/metrics` from an address not allowed, or `/legacy` for a user with a password (403). */
  forbidden: 'forbidden',
  /** The request's headers or body did not arrive within the server's time limit (408). */
  timeout: 'timeout',
  // attachments (PROTOCOL.md "Files")
  /** An upload with a bad name, type, size, sha256 or thumb (400). */
  invalidFile: 'invalid_file',
  /** An upload of 0 bytes (400). */
  emptyFile: 'empty_file',
  /** An upload larger than PIGEON_FILE_MAX (413); the body says `max`. */
  fileTooLarge: 'file_too_large',
  /** The upload would take the user's stored bytes past PIGEON_FILE_QUOTA (413); the body says `quota` and `used`. */
  quotaExceeded: 'quota_exceeded',
  /** `Upload-Offset` is not where the upload stands (409); the answer's `Upload-Offset` says where. */
  offsetMismatch: 'offset_mismatch',
  /** The content does not agree with the declared type (422); the upload is discarded. */
  typeMismatch: 'type_mismatch',
  /** An inline image over `LIMITS.imageMaxSide` or `LIMITS.imageMaxPixels` (422); the upload is discarded. */
  imageTooLarge: 'image_too_large',
  /** The content's SHA-256 is not the `sha256` declared at creation (422); the upload is discarded. */
  checksumMismatch: 'checksum_mismatch',
  /** Deleting an upload a message already refers to (409). */
  fileInUse: 'file_in_use',
  /** A download's `Range` starts past the end of the file (416, with `Content-Range: bytes *\/SIZE`). */
  rangeNotSatisfiable: 'range_not_satisfiable',
} as const;
export type HttpErrorCode = (typeof HttpErrorCode)[keyof typeof HttpErrorCode];

/** WebSocket close codes a client can observe. */
export const CloseCode = {
  /** Server shutting down: reconnect. */
  goingAway: 1001,
  /** A binary frame. */
  unsupportedData: 1003,
  /** Abnormal closure (no close frame), as reported by WebSocket implementations. */
  abnormal: 1006,
  /** A message over `LIMITS.maxPayloadBytes`. */
  messageTooBig: 1009,
  /** A failure inside the server while opening; reconnect with backoff. */
  internalError: 1011,
  /**
   * Missing, invalid, expired or revoked token, or a first frame that is not `hello`: do
   * not reconnect with that token.
   */
  unauthorized: 4001,
  /** No `hello` within `LIMITS.helloTimeoutMs`. */
  helloTimeout: 4002,
  /** Unsupported protocol version: do not reconnect. */
  unsupportedVersion: 4003,
  /** Policy: a slow consumer or too many bad frames; entries stay in the mailbox. */
  policy: 4008,
  /**
   * Extension: a connection cap or the hello rate was hit; the close reason is one of
   * `TooManyReason`. Reconnect no sooner than `LIMITS.tooManyBackoffMs`, with backoff.
   */
  tooMany: 4029,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** The exact close reason that comes with `CloseCode.tooMany`, so a client can say which limit it hit. */
export const TooManyReason = {
  /** The user already has `PIGEON_MAX_CONNS_PER_USER` open connections. */
  userConnections: 'user_connections',
  /** The client address already has `PIGEON_MAX_CONNS_PER_IP` open sockets. */
  addressConnections: 'address_connections',
  /** Hellos from this user or this address came faster than their bucket allows. */
  helloRate: 'hello_rate',
} as const;
export type TooManyReason = (typeof TooManyReason)[keyof typeof TooManyReason];
