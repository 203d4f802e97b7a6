/** Codes of `error` frames and of HTTP error bodies (`{"error": CODE, "message": TEXT}`). */
export const ErrorCode = {
  badFrame: 'bad_frame',
  tooLarge: 'too_large',
  noSuchUser: 'no_such_user',
  rateLimited: 'rate_limited',
  internal: 'internal',
  // HTTP only
  invalidUser: 'invalid_user',
  weakPassword: 'weak_password',
  userTaken: 'user_taken',
  badCredentials: 'bad_credentials',
  notFound: 'not_found',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The codes an `error` frame on the WebSocket can carry. */
export type FrameErrorCode = 'bad_frame' | 'too_large' | 'no_such_user' | 'rate_limited' | 'internal';

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
  /** Missing or invalid token, or a first frame that is not `hello`: do not reconnect with it. */
  unauthorized: 4001,
  /** No `hello` within `LIMITS.helloTimeoutMs`. */
  helloTimeout: 4002,
  /** Unsupported protocol version: do not reconnect. */
  unsupportedVersion: 4003,
  /** Policy: a slow consumer or too many bad frames; entries stay in the mailbox. */
  policy: 4008,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];
