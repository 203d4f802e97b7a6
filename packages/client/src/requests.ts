import {
  type ConversationsRequestFrame,
  type HistoryRequestFrame,
  LIMITS,
  type PingFrame,
  parseUserId,
  type ServerFrame,
} from '@pigeon/protocol';
import { ClientErrorCode, PigeonRequestError } from './errors.js';
import { clearTimer, setTimer, type TimerHandle } from './runtime.js';
import type { ConversationsOptions, HistoryOptions } from './types.js';

/** A client frame that expects an answer carrying the same `rid`. */
export type RequestFrame = (HistoryRequestFrame | ConversationsRequestFrame | PingFrame) & { rid: string };

/**
 * Turns the answer into the request's result, or returns undefined when the frame is not the
 * kind this request expects (the request then rejects with `unexpected_answer`).
 */
export type AnswerReader<T> = (frame: ServerFrame) => T | undefined;

interface Pending {
  frame: RequestFrame;
  settle(frame: ServerFrame): void;
  reject(error: PigeonRequestError): void;
  timer: TimerHandle;
  /** The connection (generation) the frame went out on; null while it waits for one. */
  sentOn: number | null;
}

/**
 * The rid registry: every request waits for its answer by `rid`, is sent when a connection is
 * online (at once, or after the next `synced`), and rejects on a typed error — the server's
 * code, `timeout`, `disconnected` (its connection dropped), `stopped`, `unexpected_answer`.
 */
export class Requests {
  private seq = 0;
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly timeoutMs: number) {}

  /** A fresh rid: `prefix` tells the kinds apart when reading a wire log. */
  nextRid(prefix: string): string {
    return `${prefix}${++this.seq}`;
  }

  /**
   * Registers `frame` and tries to send it now with `write` (which returns the connection
   * generation it went out on, or null when not online).
   */
  start<T>(
    frame: RequestFrame,
    read: AnswerReader<T>,
    write: (frame: RequestFrame) => number | null,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Pending = {
        frame,
        settle: (answer) => {
          if (answer.t === 'error') {
            reject(new PigeonRequestError(answer.code, answer.message));
            return;
          }
          const result = read(answer);
          if (result === undefined) {
            reject(
              new PigeonRequestError(
                ClientErrorCode.unexpectedAnswer,
                `a '${frame.t}' request was answered with '${answer.t}'`,
              ),
            );
          } else resolve(result);
        },
        reject,
        sentOn: null,
        timer: setTimer(() => {
          this.pending.delete(frame.rid);
          reject(new PigeonRequestError(ClientErrorCode.timeout, `no answer within ${this.timeoutMs} ms`));
        }, this.timeoutMs),
      };
      this.pending.set(frame.rid, entry);
      entry.sentOn = write(frame);
    });
  }

  has(rid: string): boolean {
    return this.pending.has(rid);
  }

  /** An answer (or an `error` frame) carrying `rid`. Unknown rids (late answers after a timeout) are ignored. */
  answer(rid: string, frame: ServerFrame): void {
    const entry = this.pending.get(rid);
    if (!entry) return;
    this.pending.delete(rid);
    clearTimer(entry.timer);
    entry.settle(frame);
  }

  /** A connection is online: send what waits for one. */
  sendWaiting(write: (frame: RequestFrame) => number | null): void {
    for (const entry of this.pending.values()) {
      if (entry.sentOn === null) entry.sentOn = write(entry.frame);
    }
  }

  /** Connection `generation` dropped: its requests can no longer be answered. */
  connectionLost(generation: number, reason: string): void {
    this.rejectWhere(
      (e) => e.sentOn === generation,
      ClientErrorCode.disconnected,
      `connection lost (${reason})`,
    );
  }

  /** Rejects every request (stopped, unauthorized). */
  rejectAll(code: string, message: string): void {
    this.rejectWhere(() => true, code, message);
  }

  private rejectWhere(match: (entry: Pending) => boolean, code: string, message: string): void {
    for (const [rid, entry] of this.pending) {
      if (!match(entry)) continue;
      clearTimer(entry.timer);
      this.pending.delete(rid);
      entry.reject(new PigeonRequestError(code, message));
    }
  }
}

/** A `history` request, checked before anything is sent (`invalid_argument`). */
export function historyFrame(withUser: string, options: HistoryOptions, rid: string): RequestFrame {
  const peer = parseUserId(withUser);
  if (!peer) throw new PigeonRequestError(ClientErrorCode.invalidArgument, `not a user id: ${withUser}`);
  const { before, limit } = options;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > LIMITS.historyMaxLimit)) {
    throw new PigeonRequestError(
      ClientErrorCode.invalidArgument,
      `limit must be 1-${LIMITS.historyMaxLimit}`,
    );
  }
  const frame: RequestFrame = { t: 'history', with: peer, rid };
  if (before !== undefined) frame.before = before;
  if (limit !== undefined) frame.limit = limit;
  return frame;
}

/** A `conversations` page request (`paging`), checked before anything is sent. */
export function conversationsFrame(options: ConversationsOptions, rid: string): RequestFrame {
  const { limit, before } = options;
  if (
    limit !== undefined &&
    (!Number.isInteger(limit) || limit < 1 || limit > LIMITS.conversationsMaxLimit)
  ) {
    throw new PigeonRequestError(
      ClientErrorCode.invalidArgument,
      `limit must be 1-${LIMITS.conversationsMaxLimit}`,
    );
  }
  const frame: RequestFrame = { t: 'conversations', rid };
  if (limit !== undefined) frame.limit = limit;
  if (before !== undefined) frame.before = before;
  return frame;
}
