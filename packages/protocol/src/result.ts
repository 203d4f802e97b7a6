import type { ErrorCode } from './codes.js';

/** What the decoders answer instead of throwing. */
export interface DecodeError {
  code: typeof ErrorCode.badFrame | typeof ErrorCode.tooLarge;
  message: string;
  /** The frame's `t` when it had a known one. */
  t?: string;
  /** The `send.id` when it was well-formed, so the error can echo it. */
  id?: string;
  /** The request's `rid` when it was well-formed, so the error can echo it. */
  rid?: string;
}

export type DecodeResult<F> = { ok: true; frame: F } | { ok: false; error: DecodeError };
