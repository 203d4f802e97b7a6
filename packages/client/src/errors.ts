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

/** A failed `history` / `conversations` (or an invalid argument). */
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
