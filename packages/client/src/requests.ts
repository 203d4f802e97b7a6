import {
  type ConversationsRequestFrame,
  type HistoryRequestFrame,
  isWellFormedText,
  LIMITS,
  type PingFrame,
  parseUserId,
  type SearchRequestFrame,
  type ServerFrame,
  type SettingsRequestFrame,
  searchTerms,
} from '@pigeon/protocol';
import type { SearchOptions } from './chat-types.js';
import { ClientErrorCode, PigeonRequestError } from './errors.js';
import { clearTimer, setTimer, type TimerHandle } from './runtime.js';
import type { ConversationsOptions, HistoryOptions } from './types.js';

/** A client frame that expects an answer carrying the same `rid`. */
export type RequestFrame = (
  | HistoryRequestFrame
  | ConversationsRequestFrame
  | PingFrame
  | SettingsRequestFrame
  | SearchRequestFrame
) & { rid: string };

function invalid(message: string): PigeonRequestError {
  return new PigeonRequestError(ClientErrorCode.invalidArgument, message);
}

function peerId(user: string): string {
  const peer = parseUserId(user);
  if (!peer) throw invalid(`not a user id: ${user}`);
  return peer;
}

function checkLimit(limit: number | undefined, max: number): void {
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > max)) {
    throw invalid(`limit must be 1-${max}`);
  }
}

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
  const peer = peerId(withUser);
  const { before, after, limit } = options;
  checkLimit(limit, LIMITS.historyMaxLimit);
  if (before !== undefined && after !== undefined) throw invalid('before and after together');
  const frame: RequestFrame = { t: 'history', with: peer, rid };
  if (before !== undefined) frame.before = before;
  if (after !== undefined) frame.after = after;
  if (limit !== undefined) frame.limit = limit;
  return frame;
}

/** A `conversations` page request (`paging`), checked before anything is sent. */
export function conversationsFrame(options: ConversationsOptions, rid: string): RequestFrame {
  const { limit, before } = options;
  checkLimit(limit, LIMITS.conversationsMaxLimit);
  const frame: RequestFrame = { t: 'conversations', rid };
  if (limit !== undefined) frame.limit = limit;
  if (before !== undefined) frame.before = before;
  return frame;
}

/** A `search` request (`search`), checked as the server checks it (PROTOCOL.md "Search"). */
export function searchFrame(q: string, options: SearchOptions, rid: string): RequestFrame {
  if (typeof q !== 'string' || q.length < 1 || q.length > LIMITS.searchQueryMaxLength) {
    throw invalid(`the query must be 1-${LIMITS.searchQueryMaxLength} characters`);
  }
  if (!isWellFormedText(q)) throw invalid('the query holds a lone surrogate');
  if (searchTerms(q).length === 0) throw invalid('the query has no letter or digit');
  checkLimit(options.limit, LIMITS.searchMaxLimit);
  const frame: RequestFrame = { t: 'search', q, rid };
  if (options.with !== undefined) frame.with = peerId(options.with);
  if (options.before !== undefined) frame.before = options.before;
  if (options.limit !== undefined) frame.limit = options.limit;
  return frame;
}
